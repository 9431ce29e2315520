"""The run as a pure fold (`core.run`), driven event by event with no files, no clock and no
runner: begin, every event type, retries, cancel, skipped items, a succeeded item run again,
the end, an item's phase, the named status sets and every fact `Progress` derives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchtui.core.actions import ACTIONS
from batchtui.core.errors import TransitionError
from batchtui.core.events import (
    EngineEvent,
    ItemFinished,
    ItemPlaced,
    ItemProgress,
    ItemRetrying,
    ItemStarted,
    ItemWaiting,
)
from batchtui.core.models import Batch, BatchConfig, BatchItem, RunnerInfo
from batchtui.core.run import apply, begin, end, end_status, progress, runnable
from batchtui.core.states import (
    DID_NOT_SUCCEED,
    ENDED_BATCH,
    FAILED_ITEM,
    NEVER_STARTED_ENDS,
    TERMINAL_ITEM,
    BatchStatus,
    ItemStatus,
    Phase,
    phase,
)

T0 = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)
BATCH = "0123456789ab"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def runner(now: datetime = T0) -> RunnerInfo:
    return RunnerInfo(pid=4242, host="render-box", started_at=now, heartbeat=now)


def locked(count: int = 3, **config: object) -> Batch:
    """A LOCKED batch of `count` PENDING items, in memory only."""
    config.setdefault("generator", "fake")
    config.setdefault("output_dir", "/render/out")
    config.setdefault("workdir", "/render")
    return Batch(
        id=BATCH,
        name="Fold",
        status=BatchStatus.LOCKED,
        config=BatchConfig(**config),
        items=[
            BatchItem(id=f"item{n}", position=n, content=f"topic {n}") for n in range(1, count + 1)
        ],
    )


def started(batch: Batch, item_id: str, seconds: float, attempt: int = 1) -> ItemStarted:
    return ItemStarted(
        BATCH, item_id, attempt, at(seconds), f"/logs/{item_id}.log", f"job-{item_id}"
    )


def finished(
    item_id: str, status: ItemStatus, seconds: float, error: str | None = None
) -> ItemFinished:
    output = f"/render/out/{item_id}.txt" if status is ItemStatus.SUCCEEDED else None
    return ItemFinished(BATCH, item_id, status, at(seconds), output_path=output, error=error)


def retrying(item_id: str, seconds: float, retry: int = 1, retries: int = 2) -> ItemRetrying:
    return ItemRetrying(
        BATCH,
        item_id,
        at(seconds),
        "exit code 3",
        retry_at=at(seconds + 5),
        retry=retry,
        retries=retries,
    )


def run(batch: Batch, *events: EngineEvent) -> Batch:
    for event in events:
        assert apply(batch, event) is not None
    return batch


# ------------------------------------------------------------------------ status sets


def test_the_named_sets_nest_as_their_names_say() -> None:
    assert DID_NOT_SUCCEED | {ItemStatus.SUCCEEDED} == TERMINAL_ITEM
    assert ItemStatus.SUCCEEDED not in DID_NOT_SUCCEED
    assert FAILED_ITEM < DID_NOT_SUCCEED
    assert {ItemStatus.SKIPPED} == DID_NOT_SUCCEED - FAILED_ITEM  # skipped is not failed
    assert NEVER_STARTED_ENDS < DID_NOT_SUCCEED
    assert set(ItemStatus) - TERMINAL_ITEM == {ItemStatus.PENDING, ItemStatus.RUNNING}
    assert ACTIONS["rerun"] == ENDED_BATCH
    assert ACTIONS["retry"] == ENDED_BATCH - {BatchStatus.COMPLETE}


# ------------------------------------------------------------------------------ begin


def test_begin_moves_a_locked_batch_into_processing_with_every_item_pending() -> None:
    batch = locked(3)
    batch.cancel_requested = True
    owner = runner()
    begun = begin(batch, runnable(batch), T0, owner)
    assert begun is batch
    assert batch.status is BatchStatus.PROCESSING
    assert batch.started_at == T0 and batch.finished_at is None
    assert batch.runner is owner
    assert batch.cancel_requested is False and batch.cancelled is None
    assert [phase(it) for it in batch.items] == [Phase.PENDING] * 3
    facts = progress(batch, at(1))
    assert facts.counts[ItemStatus.PENDING] == 3 and facts.finished == 0
    assert facts.elapsed == pytest.approx(1.0) and facts.eta is None and facts.rate is None


def test_begin_refuses_a_batch_that_cannot_run() -> None:
    batch = locked(1)
    batch.move_to(BatchStatus.DRAFT)
    with pytest.raises(TransitionError):
        begin(batch, runnable(batch), T0, runner())


# ------------------------------------------------------------------- events, one by one


def test_every_event_type_folds_into_its_item() -> None:
    batch = begin(locked(2), [], T0, runner())
    first = batch.items[0]

    assert apply(batch, ItemWaiting(BATCH, "item1", "waiting for a host slot")) is first
    assert phase(first) is Phase.WAITING
    assert progress(batch, at(1)).waiting == 1

    apply(batch, started(batch, "item1", 2))
    assert phase(first) is Phase.RUNNING and first.waiting is None
    assert (first.attempts, first.started_at, first.log_path, first.job_ref) == (
        1,
        at(2),
        "/logs/item1.log",
        "job-item1",
    )
    assert progress(batch, at(2)).waiting == 0

    apply(batch, ItemPlaced(BATCH, "item1", "worker-7", "gpu-box"))
    assert (first.worker, first.host) == ("worker-7", "gpu-box")

    apply(batch, ItemProgress(BATCH, "item1", 0.5))
    assert first.progress == 0.5
    assert progress(batch, at(4)).percent == 25.0  # half of one item of two

    apply(batch, finished("item1", ItemStatus.SUCCEEDED, 6))
    assert first.status is ItemStatus.SUCCEEDED and phase(first) is Phase.ENDED
    assert first.output_path == "/render/out/item1.txt" and first.progress == 1.0
    assert first.finished_at == at(6)


def test_progress_of_an_item_that_is_not_running_changes_nothing() -> None:
    batch = begin(locked(1), [], T0, runner())
    (only,) = batch.items
    assert apply(batch, ItemProgress(BATCH, "item1", 0.7)) is only
    assert only.progress == 0.0


def test_an_event_for_an_item_of_no_such_id_is_ignored() -> None:
    batch = begin(locked(1), [], T0, runner())
    assert apply(batch, ItemProgress(BATCH, "nobody", 0.5)) is None


def test_apply_with_an_index_finds_the_same_item() -> None:
    batch = begin(locked(3), [], T0, runner())
    index = {it.id: it for it in batch.items}
    assert apply(batch, started(batch, "item3", 1), index) is batch.items[2]
    assert batch.items[2].status is ItemStatus.RUNNING


# ---------------------------------------------------------------------------- retries


def test_an_automatic_retry_waits_then_runs_again_and_keeps_the_failed_attempt() -> None:
    batch = begin(locked(1, retries=2), [], T0, runner())
    (only,) = batch.items
    run(batch, started(batch, "item1", 1), retrying("item1", 3))
    assert only.status is ItemStatus.PENDING and phase(only) is Phase.RETRYING
    assert only.retry_at == at(8) and only.retries_used == 1 and only.error == "exit code 3"
    assert only.waiting is not None and only.waiting.startswith("retry 1/2 at ")
    facts = progress(batch, at(4))
    assert (facts.retrying, facts.waiting, facts.finished) == (1, 0, 0)

    run(batch, started(batch, "item1", 8, attempt=2))
    assert only.status is ItemStatus.RUNNING and only.retry_at is None and only.error is None
    assert [(a.attempt, a.status) for a in only.attempt_history()] == [
        (1, ItemStatus.FAILED),
        (2, ItemStatus.RUNNING),
    ]
    run(batch, finished("item1", ItemStatus.SUCCEEDED, 9))
    end(batch, at(10), "stopped")
    assert batch.status is BatchStatus.COMPLETE and only.attempts == 2


def test_a_retry_a_stopped_run_scheduled_keeps_its_time_when_the_batch_is_retried() -> None:
    batch = begin(locked(1, retries=3), [], T0, runner())
    (only,) = batch.items
    run(batch, started(batch, "item1", 1), retrying("item1", 2, retry=2, retries=3))
    end(batch, at(3), "stopped")
    assert only.status is ItemStatus.CANCELLED
    assert only.error is not None and only.error.startswith("waited to retry when the run ended")
    assert batch.status is BatchStatus.FAILED

    begin(batch, runnable(batch), at(10), runner(at(10)))
    assert only.status is ItemStatus.PENDING and phase(only) is Phase.RETRYING
    assert only.retry_at == at(7) and only.retries_used == 2
    assert only.waiting is not None and only.waiting.startswith("retry 2/3 at ")


def test_a_retry_of_an_ended_batch_runs_what_did_not_succeed_with_a_fresh_budget() -> None:
    batch = begin(locked(3), [], T0, runner())
    run(
        batch,
        started(batch, "item1", 1),
        finished("item1", ItemStatus.SUCCEEDED, 2),
        started(batch, "item2", 1),
        finished("item2", ItemStatus.FAILED, 2, "exit code 1"),
        finished("item3", ItemStatus.SKIPPED, 2, "skipped: 1 item failed"),
    )
    end(batch, at(3), "stopped")
    assert batch.status is BatchStatus.PARTIAL
    facts = progress(batch, at(3))
    assert (facts.failed, facts.not_succeeded) == (1, 2)  # skipped: not failed, not succeeded

    todo = runnable(batch)
    assert [it.id for it in todo] == ["item2", "item3"]
    assert len(todo) == facts.not_succeeded
    begin(batch, todo, at(10), runner(at(10)))
    ok, failed, skipped = batch.items
    assert ok.status is ItemStatus.SUCCEEDED and ok.output_path == "/render/out/item1.txt"
    assert failed.status is ItemStatus.PENDING and failed.error is None
    assert [a.status for a in failed.history or []] == [ItemStatus.FAILED]
    assert skipped.status is ItemStatus.PENDING and skipped.retries_used is None


# --------------------------------------------------------------- chosen items, on purpose


def test_a_succeeded_item_chosen_again_renders_anew() -> None:
    batch = begin(locked(2), [], T0, runner())
    run(
        batch,
        started(batch, "item1", 1),
        finished("item1", ItemStatus.SUCCEEDED, 2),
        started(batch, "item2", 1),
        finished("item2", ItemStatus.SUCCEEDED, 2),
    )
    end(batch, at(3), "stopped")
    assert batch.status is BatchStatus.COMPLETE
    chosen = [batch.items[1]]
    begin(batch, chosen, at(10), runner(at(10)), again=True)
    kept, again = batch.items
    assert again.status is ItemStatus.PENDING and again.rerender is True
    assert again.output_path is None and again.progress == 0.0
    assert [a.status for a in again.history or []] == [ItemStatus.SUCCEEDED]
    assert kept.status is ItemStatus.SUCCEEDED and kept.rerender is None
    # The ETA counts this run's work only: the item that succeeded before it is not its work.
    run(batch, started(batch, "item2", 12), ItemProgress(BATCH, "item2", 0.5))
    facts = progress(batch, at(14))
    assert facts.eta == pytest.approx(4.0)  # half an item in 4 s, half left


# ------------------------------------------------------------------------- cancel, end


def test_a_cancelled_run_ends_failed_with_what_never_started_counted() -> None:
    batch = begin(locked(5), [], T0, runner())
    run(
        batch,
        started(batch, "item1", 1),
        finished("item1", ItemStatus.FAILED, 2, "exit code 1"),
        started(batch, "item2", 1),
        ItemWaiting(BATCH, "item3", "waiting for a host slot"),
    )
    batch.cancel_requested = True  # the user asked; the scheduler stops what runs
    run(batch, finished("item2", ItemStatus.CANCELLED, 3, "cancelled"))
    end(batch, at(4), "the run stopped while it was running")
    assert batch.status is BatchStatus.FAILED
    assert batch.cancelled is True and batch.cancel_requested is False
    assert batch.runner is None and batch.finished_at == at(4) and batch.updated_at == at(4)
    assert all(phase(it) is Phase.ENDED for it in batch.items)
    assert [it.status for it in batch.items[2:]] == [ItemStatus.CANCELLED] * 3
    assert all(it.waiting is None for it in batch.items)
    facts = progress(batch, at(60))
    assert facts.never_started == 3 and facts.ran == 2
    assert facts.elapsed == pytest.approx(4.0) and facts.eta == 0.0
    assert facts.rate == pytest.approx(2 / 4 * 60)  # two ended in this run's 4 s


def test_end_interrupts_what_runs_and_keeps_an_error_it_had() -> None:
    batch = begin(locked(2), [], T0, runner())
    run(batch, started(batch, "item1", 1), started(batch, "item2", 1))
    batch.items[1].error = "already said"
    end(batch, at(2), "its runner stopped")
    first, second = batch.items
    assert first.status is second.status is ItemStatus.INTERRUPTED
    assert first.error == "its runner stopped" and second.error == "already said"
    assert first.finished_at == at(2)
    assert batch.cancelled is None


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([ItemStatus.SUCCEEDED, ItemStatus.SUCCEEDED], BatchStatus.COMPLETE),
        ([ItemStatus.SUCCEEDED, ItemStatus.SKIPPED], BatchStatus.PARTIAL),
        ([ItemStatus.SKIPPED, ItemStatus.FAILED], BatchStatus.FAILED),
        ([], BatchStatus.FAILED),
    ],
)
def test_end_status_is_derived_from_the_items(
    statuses: list[ItemStatus], expected: BatchStatus
) -> None:
    batch = begin(locked(len(statuses)), [], T0, runner())
    for it, status in zip(batch.items, statuses, strict=True):
        if status not in (ItemStatus.SKIPPED, ItemStatus.SUCCEEDED):  # only a started one fails
            apply(batch, started(batch, it.id, 1))
        apply(batch, finished(it.id, status, 1))
    assert end_status(batch) is expected
    assert end(batch, at(2), "stopped").status is expected


# ------------------------------------------------------------------------ properties


def _next_event(data: st.DataObject, batch: Batch, clock: float) -> EngineEvent | None:
    """A legal next event for a random item of `batch` (None: that item has ended)."""
    item = data.draw(st.sampled_from(batch.items))
    now = at(clock)
    if phase(item) is Phase.ENDED:
        return None
    if phase(item) is Phase.RUNNING:
        kind = data.draw(st.sampled_from(["progress", "placed", "retry", "end"]))
        if kind == "progress":
            return ItemProgress(BATCH, item.id, data.draw(st.floats(0.0, 1.0)))
        if kind == "placed":
            return ItemPlaced(BATCH, item.id, "worker", "box")
        if kind == "retry":
            return retrying(item.id, clock, retry=(item.retries_used or 0) + 1, retries=9)
        status = data.draw(
            st.sampled_from([ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.CANCELLED])
        )
        return finished(item.id, status, clock)
    kind = data.draw(st.sampled_from(["wait", "start", "end"]))
    if kind == "wait":
        return ItemWaiting(BATCH, item.id, "waiting for a host slot")
    if kind == "start":
        return ItemStarted(BATCH, item.id, item.attempts + 1, now, "/log", "job")
    status = data.draw(
        st.sampled_from([ItemStatus.CANCELLED, ItemStatus.SKIPPED, ItemStatus.SUCCEEDED])
    )
    return finished(item.id, status, clock)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), count=st.integers(1, 5), steps=st.integers(0, 25))
def test_any_legal_sequence_of_events_keeps_the_facts_consistent(
    data: st.DataObject, count: int, steps: int
) -> None:
    batch = begin(locked(count), [], T0, runner())
    for step in range(steps):
        event = _next_event(data, batch, step + 1.0)
        if event is None:
            continue
        apply(batch, event)
        facts = progress(batch, at(step + 1.5))
        assert sum(facts.counts.values()) == facts.total == count
        assert 0.0 <= facts.percent <= 100.0
        assert facts.waiting + facts.retrying <= facts.counts[ItemStatus.PENDING]
        assert facts.failed <= facts.not_succeeded <= facts.finished
        assert facts.eta is None or facts.eta >= 0.0
    end(batch, at(steps + 2.0), "stopped")
    facts = progress(batch, at(steps + 3.0))
    assert batch.status in ENDED_BATCH and batch.status is end_status(batch)
    assert all(it.status in TERMINAL_ITEM for it in batch.items)
    assert facts.finished == count and facts.eta == 0.0
    assert facts.not_succeeded == len(runnable(batch)) == count - facts.succeeded
    assert facts.not_succeeded == facts.failed + facts.counts[ItemStatus.SKIPPED]
    assert (batch.status is BatchStatus.COMPLETE) == (facts.not_succeeded == 0)
    assert (
        0
        <= facts.never_started
        <= facts.counts[ItemStatus.CANCELLED] + facts.counts[ItemStatus.SKIPPED]
    )
