"""The model layer: transition tables, `require`, config validation, fingerprint, progress."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta

import pydantic
import pytest

from batchtui.core.errors import TransitionError
from batchtui.core.models import (
    ACTIONS,
    BATCH_TRANSITIONS,
    ITEM_TRANSITIONS,
    Batch,
    BatchConfig,
    BatchItem,
    BatchStatus,
    ItemStatus,
    check_batch_transition,
    check_item_transition,
    require,
)
from batchtui.core.run import end_status

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def make_batch(
    status: BatchStatus = BatchStatus.DRAFT,
    items: list[BatchItem] | None = None,
    **fields: object,
) -> Batch:
    return Batch(
        id="0123456789ab",
        name="Space Facts",
        status=status,
        config=BatchConfig(generator="fake", output_ext="txt"),
        items=items or [],
        **fields,
    )


def item(n: int, status: ItemStatus = ItemStatus.PENDING, **fields: object) -> BatchItem:
    return BatchItem(id=f"item{n:08d}", position=n, content=f"topic {n}", status=status, **fields)


# ----------------------------------------------------------------- transition tables

EXPECTED_BATCH = {
    BatchStatus.DRAFT: {BatchStatus.LOCKED},
    BatchStatus.LOCKED: {BatchStatus.DRAFT, BatchStatus.PROCESSING},
    BatchStatus.PROCESSING: {BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED},
    BatchStatus.PARTIAL: {BatchStatus.PROCESSING},
    BatchStatus.FAILED: {BatchStatus.PROCESSING, BatchStatus.DRAFT},
    BatchStatus.COMPLETE: {BatchStatus.PROCESSING},
}

EXPECTED_ITEM = {
    ItemStatus.PENDING: {
        ItemStatus.RUNNING,
        ItemStatus.CANCELLED,
        ItemStatus.SUCCEEDED,
        ItemStatus.SKIPPED,  # stopped early: max failures, a failed canary
    },
    ItemStatus.RUNNING: {
        ItemStatus.SUCCEEDED,
        ItemStatus.FAILED,
        ItemStatus.CANCELLED,
        ItemStatus.INTERRUPTED,
        ItemStatus.PENDING,  # a failed attempt waits to retry
    },
    ItemStatus.SUCCEEDED: {ItemStatus.PENDING},
    ItemStatus.FAILED: {ItemStatus.PENDING},
    ItemStatus.CANCELLED: {ItemStatus.PENDING},
    ItemStatus.INTERRUPTED: {ItemStatus.PENDING, ItemStatus.SUCCEEDED},
    ItemStatus.SKIPPED: {ItemStatus.PENDING},
}


def test_batch_table_covers_every_status_exactly() -> None:
    assert set(BATCH_TRANSITIONS) == set(BatchStatus)
    assert {k: set(v) for k, v in BATCH_TRANSITIONS.items()} == EXPECTED_BATCH


def test_item_table_covers_every_status_exactly() -> None:
    assert set(ITEM_TRANSITIONS) == set(ItemStatus)
    assert {k: set(v) for k, v in ITEM_TRANSITIONS.items()} == EXPECTED_ITEM


def test_no_status_may_transition_to_itself() -> None:
    for old, allowed in BATCH_TRANSITIONS.items():
        assert old not in allowed
    for old, allowed in ITEM_TRANSITIONS.items():
        assert old not in allowed


@pytest.mark.parametrize("old", list(BatchStatus))
@pytest.mark.parametrize("new", list(BatchStatus))
def test_check_batch_transition(old: BatchStatus, new: BatchStatus) -> None:
    if new in EXPECTED_BATCH[old]:
        check_batch_transition(old, new)
    else:
        with pytest.raises(TransitionError) as info:
            check_batch_transition(old, new)
        message = str(info.value)
        assert old.value in message and new.value in message
        for allowed in EXPECTED_BATCH[old]:
            assert allowed.value in message
        if not EXPECTED_BATCH[old]:
            assert "nothing" in message


@pytest.mark.parametrize("old", list(ItemStatus))
@pytest.mark.parametrize("new", list(ItemStatus))
def test_check_item_transition(old: ItemStatus, new: ItemStatus) -> None:
    if new in EXPECTED_ITEM[old]:
        check_item_transition(old, new)
    else:
        with pytest.raises(TransitionError) as info:
            check_item_transition(old, new)
        message = str(info.value)
        assert old.value in message and new.value in message
        if not EXPECTED_ITEM[old]:
            assert "nothing" in message


# ------------------------------------------------------------------------ require

EXPECTED_ACTIONS = {
    "edit": {BatchStatus.DRAFT},
    "lock": {BatchStatus.DRAFT},
    "unlock": {BatchStatus.LOCKED, BatchStatus.FAILED},
    "start": {BatchStatus.LOCKED},
    "retry": {BatchStatus.PARTIAL, BatchStatus.FAILED},
    "rerun": {BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED},
    "cancel": {BatchStatus.PROCESSING},
    "delete": set(BatchStatus) - {BatchStatus.PROCESSING},
    "concurrency": {BatchStatus.DRAFT, BatchStatus.LOCKED, BatchStatus.PROCESSING},
    "priority": set(BatchStatus),  # a queue setting, kept for the next run
    "pause": {BatchStatus.PROCESSING},
    # A paused run goes on; an ended batch is retried (resume's meaning before pause).
    "resume": {BatchStatus.PROCESSING, BatchStatus.PARTIAL, BatchStatus.FAILED},
    "announce": set(BatchStatus),  # who hears of a run: not frozen, never hashed
    "confirm": {BatchStatus.PROCESSING},  # a yes to the canary's forecast
    # A verdict on an output: where an item can have succeeded (a run's end, or mid-run).
    "review": {BatchStatus.PROCESSING, BatchStatus.COMPLETE, BatchStatus.PARTIAL},
}


def test_actions_table_is_the_documented_one() -> None:
    assert {k: set(v) for k, v in ACTIONS.items()} == EXPECTED_ACTIONS


@pytest.mark.parametrize("action", sorted(EXPECTED_ACTIONS))
@pytest.mark.parametrize("status", list(BatchStatus))
def test_require(action: str, status: BatchStatus) -> None:
    batch = make_batch(status)
    allowed = EXPECTED_ACTIONS[action]
    if status in allowed:
        require(batch, action)
        return
    with pytest.raises(TransitionError) as info:
        require(batch, action)
    message = str(info.value)
    assert "'Space Facts'" in message
    assert f"is {status.value}" in message
    needs = message.split(" needs ", 1)[1].split(" — ", 1)[0]
    assert set(needs.split(" or ")) == {s.value for s in allowed}
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_require_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        require(make_batch(), "explode")


# ------------------------------------------------------------------- BatchConfig


def test_config_defaults() -> None:
    config = BatchConfig()
    assert config.platform == "youtube_shorts"
    assert config.concurrency == 3
    assert config.max_items == 10
    assert (config.width, config.height) == (1080, 1920)
    assert os.path.isabs(config.output_dir)


@pytest.mark.parametrize(
    "fields",
    [
        {"platform": "myspace"},
        {"platform": ""},
        {"duration": 0},
        {"duration": -1},
        {"duration": 43201},
        {"concurrency": 0},
        {"concurrency": -1},
        {"concurrency": 65},
        {"max_items": 0},
        {"max_items": -5},
        {"fps": 0},
        {"timeout": 0},
        {"background": "notacolour"},
        {"background": "#12345g"},
        {"text_color": "#ff"},
        {"output_ext": ""},
        {"output_ext": ".mp4"},
        {"output_ext": "m p4"},
        {"output_ext": "mp4/../x"},
        {"output_ext": "abcdefghi"},
        {"output_dir": "   "},
        {"validate_output": "sometimes"},
        {"unknown_field": 1},
    ],
)
def test_config_rejects(fields: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        BatchConfig(**fields)


def test_config_error_names_unknown_platform() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        BatchConfig(platform="myspace")
    assert "unknown platform 'myspace'" in str(info.value)
    assert "youtube_shorts" in str(info.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"concurrency": 1},
        {"concurrency": 64},
        {"max_items": 1},
        {"duration": 0.1},
        {"background": "navy", "text_color": "#FFFFFF"},
        {"output_ext": "webm"},
        {"platform": "youtube"},
    ],
)
def test_config_accepts(fields: dict[str, object]) -> None:
    config = BatchConfig(**fields)
    for key, value in fields.items():
        assert getattr(config, key) == value


def test_config_validates_assignment() -> None:
    config = BatchConfig()
    with pytest.raises(pydantic.ValidationError):
        config.concurrency = 0
    assert config.concurrency == 3


def test_output_ext_is_lowercased() -> None:
    assert BatchConfig(output_ext="MP4").output_ext == "mp4"


def test_relative_output_dir_and_workdir_become_absolute(tmp_path) -> None:
    # isolated_env chdirs into tmp_path
    config = BatchConfig(output_dir="renders/today", workdir="tools")
    assert config.output_dir == str(tmp_path / "renders" / "today")
    assert config.workdir == str(tmp_path / "tools")
    assert os.path.isabs(config.output_dir)


def test_output_dir_expands_home(tmp_path) -> None:
    config = BatchConfig(output_dir="~/videos")
    assert config.output_dir == str(tmp_path / "home" / "videos")


def test_default_output_dir_follows_env(tmp_path) -> None:
    assert BatchConfig().output_dir == str(tmp_path / "out")


def test_expects_video() -> None:
    assert BatchConfig(output_ext="mp4").expects_video()
    assert not BatchConfig(output_ext="txt").expects_video()
    assert BatchConfig(output_ext="txt").expects_video(".mov")
    assert not BatchConfig(output_ext="mp4").expects_video(".txt")
    assert BatchConfig(output_ext="txt", validate_output="video").expects_video()
    assert not BatchConfig(output_ext="mp4", validate_output="nonempty").expects_video()


# ------------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable() -> None:
    a = BatchConfig(generator="fake", output_ext="txt", duration=7)
    b = BatchConfig(generator="fake", output_ext="txt", duration=7.0)
    assert a.fingerprint() == a.fingerprint() == b.fingerprint()
    assert len(a.fingerprint()) == 16
    int(a.fingerprint(), 16)  # hex


def test_fingerprint_survives_a_json_round_trip() -> None:
    config = BatchConfig(generator="command", command="prog {content} {output}", duration=12.5)
    again = BatchConfig.model_validate_json(config.model_dump_json())
    assert again.fingerprint() == config.fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        {"duration": 6.0},
        {"platform": "tiktok"},
        {"platform": "youtube"},
        {"command": "prog {output}"},
        {"generator": "command"},
        {"fps": 24},
        {"background": "#000000"},
        {"text_color": "red"},
        {"style": "paper"},
        {"output_ext": "mp4"},
        {"validate_output": "exists"},
    ],
)
def test_fingerprint_changes_with_render_fields(change: dict[str, object]) -> None:
    base = BatchConfig(generator="fake", output_ext="txt")
    changed = BatchConfig(**{**base.model_dump(), **change})
    assert changed.fingerprint() != base.fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        {"concurrency": 9},
        {"max_items": 500},
        {"timeout": 5.0},
        {"output_dir": "/somewhere/else"},
        {"workdir": "/tmp"},
    ],
)
def test_fingerprint_ignores_run_settings(change: dict[str, object]) -> None:
    base = BatchConfig(generator="fake", output_ext="txt")
    changed = BatchConfig(**{**base.model_dump(), **change})
    assert changed.fingerprint() == base.fingerprint()


# ---------------------------------------------------------- derived end status


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([ItemStatus.SUCCEEDED], BatchStatus.COMPLETE),
        ([ItemStatus.SUCCEEDED] * 3, BatchStatus.COMPLETE),
        ([ItemStatus.FAILED], BatchStatus.FAILED),
        ([ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.INTERRUPTED], BatchStatus.FAILED),
        ([ItemStatus.SUCCEEDED, ItemStatus.FAILED], BatchStatus.PARTIAL),
        ([ItemStatus.CANCELLED, ItemStatus.SUCCEEDED, ItemStatus.SUCCEEDED], BatchStatus.PARTIAL),
        ([ItemStatus.SUCCEEDED, ItemStatus.INTERRUPTED], BatchStatus.PARTIAL),
        ([], BatchStatus.FAILED),
    ],
)
def test_derived_end_status(statuses: list[ItemStatus], expected: BatchStatus) -> None:
    batch = make_batch(
        BatchStatus.PROCESSING, [item(n, s) for n, s in enumerate(statuses, start=1)]
    )
    assert end_status(batch) is expected


# ----------------------------------------------------------------------- progress


def test_batch_renumbers_positions_on_load() -> None:
    items = [item(7), item(3), item(9)]
    batch = make_batch(items=items)
    assert [it.position for it in batch.items] == [1, 2, 3]
    assert [it.id for it in batch.items] == ["item00000007", "item00000003", "item00000009"]


def test_progress_of_an_empty_batch() -> None:
    progress = make_batch().progress(now=T0)
    assert progress.total == 0
    assert progress.percent == 0.0
    assert progress.finished == 0
    assert progress.elapsed is None and progress.eta is None
    assert set(progress.counts) == set(ItemStatus)
    assert all(n == 0 for n in progress.counts.values())


def test_progress_of_a_draft_has_no_timing() -> None:
    batch = make_batch(items=[item(1), item(2)])
    progress = batch.progress(now=T0)
    assert progress.total == 2
    assert progress.percent == 0.0
    assert progress.elapsed is None and progress.eta is None
    assert progress.status is BatchStatus.DRAFT
    assert progress.batch_id == "0123456789ab"


def test_progress_while_processing() -> None:
    started = T0 - timedelta(seconds=10)
    items = [
        item(1, ItemStatus.SUCCEEDED, progress=1.0, finished_at=T0 - timedelta(seconds=2)),
        item(2, ItemStatus.FAILED, finished_at=T0 - timedelta(seconds=1)),
        item(3, ItemStatus.RUNNING, progress=0.5),
        item(4, ItemStatus.PENDING),
    ]
    batch = make_batch(BatchStatus.PROCESSING, items, started_at=started)
    progress = batch.progress(now=T0)
    assert progress.total == 4
    assert progress.finished == 2
    assert progress.succeeded == 1
    assert progress.failed == 1
    assert progress.counts[ItemStatus.RUNNING] == 1
    assert progress.counts[ItemStatus.PENDING] == 1
    assert progress.percent == 37.5  # successful work only: (1 + 0 + 0.5 + 0) / 4
    assert progress.elapsed == pytest.approx(10.0)
    # 2.5 items of work in 10 s; 1.5 left → 6 s
    assert progress.eta == pytest.approx(6.0)


def test_progress_eta_ignores_items_finished_by_an_earlier_run() -> None:
    started = T0 - timedelta(seconds=10)
    items = [
        item(1, ItemStatus.SUCCEEDED, progress=1.0, finished_at=started - timedelta(hours=1)),
        item(2, ItemStatus.SUCCEEDED, progress=1.0, finished_at=T0 - timedelta(seconds=1)),
        item(3, ItemStatus.PENDING),
        item(4, ItemStatus.PENDING),
    ]
    batch = make_batch(BatchStatus.PROCESSING, items, started_at=started)
    progress = batch.progress(now=T0)
    assert progress.percent == 50.0
    # this run did 1 item in 10 s and has 2 left → 20 s (not 10 s counting the old one)
    assert progress.eta == pytest.approx(20.0)


def test_progress_eta_unknown_before_any_work() -> None:
    items = [item(1, ItemStatus.RUNNING), item(2)]
    batch = make_batch(BatchStatus.PROCESSING, items, started_at=T0 - timedelta(seconds=3))
    progress = batch.progress(now=T0)
    assert progress.eta is None
    assert progress.elapsed == pytest.approx(3.0)


def test_progress_counts_cancelled_and_interrupted_as_failed() -> None:
    items = [
        item(1, ItemStatus.CANCELLED),
        item(2, ItemStatus.INTERRUPTED),
        item(3, ItemStatus.FAILED),
        item(4, ItemStatus.SUCCEEDED, progress=1.0),
    ]
    batch = make_batch(
        BatchStatus.PARTIAL,
        items,
        started_at=T0 - timedelta(seconds=30),
        finished_at=T0 - timedelta(seconds=20),
    )
    progress = batch.progress(now=T0)
    assert progress.failed == 3
    assert progress.succeeded == 1
    assert progress.finished == 4
    assert progress.percent == 25.0  # only the succeeded item counts as done work
    # an ended batch: elapsed stops at finished_at, ETA is zero
    assert progress.elapsed == pytest.approx(10.0)
    assert progress.eta == 0.0


def test_progress_percent_is_rounded() -> None:
    items = [item(1, ItemStatus.SUCCEEDED, progress=1.0), item(2), item(3)]
    batch = make_batch(BatchStatus.PROCESSING, items, started_at=T0)
    assert batch.progress(now=T0).percent == 33.3


def test_item_lookup_and_duration() -> None:
    batch = make_batch(
        items=[item(1, started_at=T0, finished_at=T0 + timedelta(seconds=4)), item(2)]
    )
    assert batch.item("item00000001").duration_seconds == pytest.approx(4.0)
    assert batch.item("item00000002").duration_seconds is None
    with pytest.raises(KeyError):
        batch.item("nope")


def test_item_progress_is_bounded() -> None:
    with pytest.raises(pydantic.ValidationError):
        item(1, progress=1.5)
    with pytest.raises(pydantic.ValidationError):
        BatchItem(id="x", position=0, content="c")


def test_a_config_without_a_style_hashes_as_it_did_before_styles():
    """Batches locked before styles existed keep their hash (else they could not start)."""
    old = BatchConfig(
        generator="fake", output_ext="txt", background="#0f172a", text_color="#f8fafc"
    )
    assert "style" not in old.render_fields()
    fields = {k: v for k, v in old.render_fields().items()}
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert old.fingerprint() == hashlib.sha256(blob.encode()).hexdigest()[:16]
    styled = BatchConfig(**{**old.model_dump(), "style": "night"})
    assert styled.render_fields()["style"] == "night"


def test_styles_are_checked_and_an_empty_colour_clears_an_override():
    with pytest.raises(pydantic.ValidationError, match="unknown style 'neon'"):
        BatchConfig(style="neon")
    assert BatchConfig(background="", text_color="  ").background is None
