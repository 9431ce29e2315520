"""The rules of automatic retries that issue 27 found broken: the canary runs alone through its
retries, a retry after stopping early runs the skipped items, the retry schedule (a stored time
far ahead, a kill during a wait, jitter at the cap) and a history bounded in size."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from batchtui.core.events import ItemFinished, ItemRetrying, ItemStarted
from batchtui.core.limits import HISTORY_KEPT
from batchtui.core.models import AttemptRecord, Batch, BatchConfig, BatchItem, RunnerInfo
from batchtui.core.run import apply, begin, end, retry_note
from batchtui.core.states import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .fakes import FakeGenerator
from .helpers import batch_file, force_status
from .terminal import Terminal

T0 = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)
BATCH = "0123456789ab"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def runner(now: datetime = T0) -> RunnerInfo:
    return RunnerInfo(pid=4242, host="render-box", started_at=now, heartbeat=now)


def locked(count: int = 1, **config: object) -> Batch:
    """A LOCKED batch of `count` PENDING items, in memory only."""
    return Batch(
        id=BATCH,
        name="Rules",
        status=BatchStatus.LOCKED,
        config=BatchConfig(generator="fake", output_dir="/render/out", workdir="/render", **config),
        items=[BatchItem(id=f"item{n}", position=n, content=f"t {n}") for n in range(1, count + 1)],
    )


def run_batch(service: BatchService, contents: list[str], **config: object) -> str:
    batch = service.create("rules", generator="fake", **config)
    service.add_items(batch.id, contents)
    service.lock(batch.id)
    anyio.run(service.start, batch.id)
    return batch.id


# ------------------------------------------------------------------------------ canary


def test_nothing_else_starts_while_the_canary_waits_to_retry(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    """A broken command costs the canary's attempts only: the others never run."""
    contents = ["FAIL 1", "ok 2", "ok 3", "ok 4"]
    batch_id = run_batch(service, contents, canary=True, retries=2, backoff=0.05, concurrency=1)
    batch = service.get(batch_id)
    assert fake_generator.calls == ["FAIL 1"] * 3  # its retries came first, and only they
    canary, *others = batch.items
    assert canary.status is ItemStatus.FAILED and canary.attempts == 3
    assert [o.status for o in others] == [ItemStatus.SKIPPED] * 3
    assert all(o.attempts == 0 for o in others)
    assert "the canary, item 1, failed" in (others[0].error or "")


def test_a_canary_that_succeeds_on_a_retry_then_opens_the_limit(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    fake_generator.delay = 0.1  # long enough for three to overlap once they may
    contents = ["FLAKY 1"] + [f"ok {n}" for n in range(2, 8)]
    batch_id = run_batch(service, contents, canary=True, retries=1, backoff=0.05, concurrency=3)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE
    assert fake_generator.calls[:2] == ["FLAKY 1", "FLAKY 1"]
    canary, *others = batch.items
    assert canary.finished_at is not None
    assert all(o.started_at and o.started_at >= canary.finished_at for o in others)
    assert fake_generator.peak == 3


def test_an_adopted_canary_opens_the_limit_of_a_retry(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    """The canary of a retry whose finished output is taken over (its runner died before
    recording it) succeeded: the retry's other items run at the full limit, not one by one."""
    batch = service.create("adopt", generator="fake", canary=True, concurrency=3)
    service.add_items(batch.id, [f"ok {n}" for n in range(1, 8)])
    service.lock(batch.id)
    done = anyio.run(service.start, batch.id)
    assert done.status is BatchStatus.COMPLETE
    with Repository(service.database_path).transaction() as tx:
        stored = tx.get(batch.id)
        force_status(stored.items[0], ItemStatus.INTERRUPTED)  # finished, never recorded
        stored.items[0].output_path = None
        for item in stored.items[1:]:  # these must render again
            Path(item.output_path or "").unlink()
            force_status(item, ItemStatus.FAILED)
            item.output_path = None
        force_status(stored, BatchStatus.PARTIAL)
        tx.save(stored)
    fake_generator.reset()
    fake_generator.delay = 0.1
    again = anyio.run(service.retry, batch.id)
    assert again.status is BatchStatus.COMPLETE
    assert "ok 1" not in fake_generator.calls  # adopted, not rendered
    assert sorted(fake_generator.calls) == [f"ok {n}" for n in range(2, 8)]
    assert fake_generator.peak == 3


def test_the_canary_rule_through_the_real_cli(tmp_path: Path) -> None:
    """`start` of a canary batch whose command always fails, with retries: one item's
    attempts, the rest skipped and never run."""
    db = tmp_path / "db.json"
    runs = tmp_path / "runs"
    runs.mkdir()
    script = tmp_path / "fail.py"
    script.write_text(
        "import pathlib, sys, uuid\n"
        f"pathlib.Path({str(runs)!r}, uuid.uuid4().hex).write_text(sys.argv[1])\n"
        "sys.exit(3)\n"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "batchtui", "--db", str(db), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    made = cli(
        "create", "canary", "--json", "--generator", "command",
        "--command", f"{sys.executable} {script} {{content}} {{output}}",
        "--output", str(tmp_path / "out"), "--retries", "2", "--backoff", "0.05",
        "--canary", "--concurrency", "1",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    batch_id = json.loads(made.stdout)["id"]
    assert cli("add", batch_id, "a", "b", "c").returncode == 0
    assert cli("lock", batch_id).returncode == 0
    cli("start", batch_id)
    shown = json.loads(cli("show", batch_id, "--json").stdout)
    assert [it["status"] for it in shown["items"]] == ["FAILED", "SKIPPED", "SKIPPED"]
    assert sorted(p.read_text() for p in runs.iterdir()) == ["a", "a", "a"]


@pytest.mark.slow
def test_the_tui_shows_the_others_never_started_behind_a_failing_canary(
    service: BatchService, db_path: Path, tmp_path: Path
) -> None:
    """Started from the TUI (a detached runner), in a pty: while the canary waits out its
    backoff the others stay PENDING, untried; when it fails for good they never started."""
    made = service.create(
        "Canary words",
        generator="command",
        command="false {content} {output}",
        output_dir=str(tmp_path / "out"),
        retries=1,
        backoff=1.5,
        canary=True,
        concurrency=1,
    )
    service.add_items(made.id, ["Why is space dark?", "How stars die", "What are comets?"])
    service.lock(made.id)
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Canary words", settle=0.5)  # the list drawn and focused
        term.send(b"s")
        term.wait_for("Start 'Canary words'")
        term.send(b"\r")
        waiting = term.wait_for("↻ 1 retrying", settle=0.3)
        rows = [line for line in waiting.splitlines() if "How stars die" in line]
        assert rows and "PENDING" in rows[0], waiting
        assert re.search(r"PENDING\s+2\s+0\s", waiting), waiting  # item 2 not tried
        done = term.wait_for("never started", settle=0.3)
        assert "1 failed" in done and "2 skipped" in done, done
        assert "2 never started" in done, done


# ------------------------------------------------------------------ stopping early


def test_a_retry_after_max_failures_runs_the_skipped_items(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    contents = ["FAIL 1", "FAIL 2", "ok 3", "ok 4", "ok 5"]
    batch_id = run_batch(service, contents, max_failures="2", concurrency=1)
    first = service.get(batch_id)
    assert [i.status for i in first.items][2:] == [ItemStatus.SKIPPED] * 3
    fake_generator.calls.clear()
    again = anyio.run(service.retry, batch_id)
    # The skipped ones ran (first: the failed ones may well fail again), and this run's own
    # two failures stopped nothing that had not run.
    assert fake_generator.calls == ["ok 3", "ok 4", "ok 5", "FAIL 1", "FAIL 2"]
    assert [i.status for i in again.items] == [ItemStatus.FAILED] * 2 + [ItemStatus.SUCCEEDED] * 3
    assert again.status is BatchStatus.PARTIAL


# -------------------------------------------------------------------- the schedule


def test_a_stored_retry_time_far_ahead_is_capped_at_backoff_max_from_now() -> None:
    batch = locked(backoff_max=300, retries=3)
    batch.items[0].retry_at = at(10 * 86400)  # the clock went back ten days
    batch.items[0].retries_used = 1
    force_status(batch, BatchStatus.PARTIAL)
    force_status(batch.items[0], ItemStatus.CANCELLED)
    begin(batch, batch.items, T0, runner())
    (item,) = batch.items
    assert item.retry_at == at(300)
    assert item.waiting is not None and item.waiting.startswith("retry 1/3 at ")


def test_a_stored_retry_far_ahead_runs_within_backoff_max(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    """The real run: a retry a dead runner stored ten days ahead starts within the cap."""
    batch = service.create("far", generator="fake", retries=2, backoff_max=0.2)
    service.add_items(batch.id, ["ok 1"])
    service.lock(batch.id)
    anyio.run(service.start, batch.id)
    with Repository(service.database_path).transaction() as tx:
        stored = tx.get(batch.id)
        (item,) = stored.items
        force_status(item, ItemStatus.CANCELLED)
        item.retry_at = datetime.now(UTC) + timedelta(days=10)
        item.retries_used = 1
        force_status(stored, BatchStatus.FAILED)
        tx.save(stored)

    async def retried() -> Batch:
        with anyio.fail_after(30):  # ten days, without the cap
            return await service.retry(batch.id)

    assert anyio.run(retried).status is BatchStatus.COMPLETE


def test_a_retry_time_on_another_day_is_shown_with_its_date() -> None:
    tomorrow = T0 + timedelta(days=1)
    assert tomorrow.astimezone().strftime("%Y-%m-%d") in retry_note(1, 3, tomorrow, T0)
    assert retry_note(1, 3, T0, T0) == f"retry 1/3 at {T0.astimezone():%H:%M:%S}"


@pytest.mark.parametrize("how", ["killed", "cancelled"])
def test_a_stop_during_a_backoff_keeps_that_attempts_reason(how: str) -> None:
    batch = begin(locked(retries=2), locked().items, T0, runner())
    item_id = batch.items[0].id
    apply(batch, ItemStarted(BATCH, item_id, 1, at(1), "/logs/1.log", "job"))
    apply(batch, ItemRetrying(BATCH, item_id, at(2), "exit code 3", at(7), 1, 2))
    if how == "cancelled":  # the scheduler reports the waiting item as never started
        apply(batch, ItemFinished(BATCH, item_id, ItemStatus.CANCELLED, at(3), error="cancelled"))
    end(batch, at(3), "the runner died")  # what recovery does after a kill -9
    (item,) = batch.items
    assert next((r.attempt, r.status, r.error) for r in item.attempt_history()) == (
        1,
        ItemStatus.FAILED,
        "exit code 3",
    )
    # And once the retry resumes and runs the next attempt, the reason is still there.
    begin(batch, batch.items, at(4), runner(at(4)))
    apply(batch, ItemStarted(BATCH, item_id, 2, at(7), "/logs/1.log", "job"))
    apply(batch, ItemFinished(BATCH, item_id, ItemStatus.SUCCEEDED, at(8), "/render/out/1.txt"))
    history = batch.items[0].attempt_history()
    assert [(r.attempt, r.status, r.error) for r in history] == [
        (1, ItemStatus.FAILED, "exit code 3"),
        (2, ItemStatus.SUCCEEDED, None),
    ]


def test_jitter_still_spreads_the_waits_at_the_cap() -> None:
    config = BatchConfig(generator="fake", backoff=5, backoff_max=300, retries=20)
    low, high = config.retry_delay(12, 0.0), config.retry_delay(12, 1.0)
    assert low < high <= 300
    assert high - low >= 300 * 0.19  # spread over 80-100% of the cap
    assert config.retry_delay(1, 0.0) == 5 and config.retry_delay(1, 1.0) == 5 * 1.25
    assert config.retry_delay(20, 0.5) <= 300


# ------------------------------------------------------------------------- history


def test_history_keeps_the_last_attempts_and_counts_the_older_ones() -> None:
    batch = locked(retries=0)
    item_id = batch.items[0].id
    clock = 0.0
    for run in range(20):  # twenty retry runs of an item that keeps failing
        force_status(batch, BatchStatus.LOCKED if run == 0 else BatchStatus.FAILED)
        begin(batch, batch.items, at(clock), runner(at(clock)))
        apply(batch, ItemStarted(BATCH, item_id, run + 1, at(clock + 1), "/l/1.log", "j"))
        apply(batch, ItemFinished(BATCH, item_id, ItemStatus.FAILED, at(clock + 2), error="x"))
        end(batch, at(clock + 3), "done")
        clock += 10
    (item,) = batch.items
    assert item.history is not None and len(item.history) == HISTORY_KEPT
    history = item.attempt_history()
    assert [r.attempt for r in history] == list(range(20 - HISTORY_KEPT, 21))
    assert item.earlier_attempts() == 20 - HISTORY_KEPT - 1  # attempt 20 is the item's own
    assert item.history[0].earlier == {ItemStatus.FAILED: 20 - HISTORY_KEPT - 1}
    # The counts survive a write and a read.
    again = BatchItem.model_validate(item.model_dump(mode="json", exclude_none=True))
    assert again.earlier_attempts() == item.earlier_attempts()


def test_an_old_file_with_a_long_history_is_trimmed_on_the_next_write(
    service: BatchService, fake_generator: type[FakeGenerator], db_path: Path
) -> None:
    batch_id = run_batch(service, ["ok 1", "ok 2"])
    path = batch_file(db_path, batch_id)
    plain = path.read_text()
    assert '"history"' not in plain  # items that ran once store no history, as before
    with Repository(service.database_path).transaction() as tx:  # as an older version wrote
        stored = tx.get(batch_id)
        stored.items[0].history = [
            AttemptRecord(attempt=n, status=ItemStatus.FAILED, error="exit code 1")
            for n in range(1, 51)
        ]
        stored.items[0].attempts = 51
        tx.save(stored)
    assert path.read_text().count('"exit code 1"') == 50
    read = service.get(batch_id).items[0]
    assert read.history is not None and len(read.history) == HISTORY_KEPT
    assert read.earlier_attempts() == 50 - HISTORY_KEPT
    with Repository(service.database_path).transaction() as tx:  # the next write, any
        tx.save(tx.get(batch_id))
    text = path.read_text()
    assert text.count('"exit code 1"') == HISTORY_KEPT
    assert f'"earlier":{{"FAILED":{50 - HISTORY_KEPT}}}' in text.replace(" ", "")
