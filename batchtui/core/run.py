"""A run as a pure fold over its batch: `begin` it, `apply` each engine event, `end` it; what
phase an item is in; and `progress`, every fact derived from a batch that a client shows.

The shape of dask's worker state machine, small: nothing here reads a clock, a file or the
environment (the caller passes `now`), so a run can be driven event by event in a test. The
runner's recorder persists what this computes; the CLI, the TUI and the API render it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, computed_field

from .backoff import capped_retry_at
from .events import (
    EngineEvent,
    ItemCost,
    ItemFinished,
    ItemPlaced,
    ItemProgress,
    ItemRetrying,
    ItemStarted,
    ItemWaiting,
    StageEnded,
)
from .forecast import Forecast
from .pausing import PauseMode
from .review import review_state
from .states import (
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

if TYPE_CHECKING:
    from .models import Batch, BatchItem, RunnerInfo, StageRecord


def retry_note(retry: int, retries: int, at: datetime, now: datetime | None = None) -> str:
    """What an item waiting to be tried again shows: 'retry 2/3 at 14:03:05' (with its date,
    'at 2026-12-05 14:03:05', when that is not the day of `now`)."""
    return f"retry {retry}/{retries} at {local_time(at, now)}"


def local_time(at: datetime, now: datetime | None = None) -> str:
    """`at` as local time of day, with its date when that is not the day of `now` (or no
    `now` is known)."""
    local = at.astimezone()
    if now is not None and local.date() == now.astimezone().date():
        return f"{local:%H:%M:%S}"
    return f"{local:%Y-%m-%d %H:%M:%S}"


# ------------------------------------------------------------------------------- begin


def runnable(batch: Batch) -> list[BatchItem]:
    """The items a start or a retry runs: every one that has not succeeded. In an ended batch
    (where `end` left none PENDING or RUNNING) these are exactly its `DID_NOT_SUCCEED` items,
    the ones `Progress.not_succeeded` counts."""
    return [item for item in batch.items if item.status is not ItemStatus.SUCCEEDED]


def begin(
    batch: Batch,
    todo: Iterable[BatchItem],
    now: datetime,
    runner: RunnerInfo,
    *,
    again: bool = False,
) -> Batch:
    """Move `batch` into PROCESSING for a run of `todo` (its items) owned by `runner`.

    Each item to run becomes PENDING with no error, progress or output. A retry that a stopped
    run had scheduled keeps its time and its count; any other item starts a new run of its own
    (a fresh retry budget; its last attempt joins its history). `again`: the items were chosen
    on purpose (a succeeded one too), so their next attempts render anew. The batch's other
    items keep what they have. `TransitionError` if a move is not allowed.
    """
    for item in todo:
        # Plain field writes (`_write`), as `apply` does: a start writes these for every item.
        fields: dict[str, object] = {
            "error": None,
            "progress": 0.0,
            "output_path": None,
            "stage": None,  # a pipeline's stages are found again (cached or not)
            "stages": None,
        }
        if item.retry_at is None or again:
            item.close_attempt()
            fields.update(retries_used=None, retry_at=None, waiting=None)
            if again:
                fields["rerender"] = True
        else:
            # Believed only up to one longest wait from now (the clock may have gone back).
            retry_at = capped_retry_at(item.retry_at, now, batch.config.backoff_max)
            fields["retry_at"] = retry_at
            fields["waiting"] = retry_note(
                item.retries_used or 1, batch.config.retries, retry_at, now
            )
        item.move_to(ItemStatus.PENDING)
        _write(item, fields)
    batch.move_to(BatchStatus.PROCESSING)
    batch.forecast = None  # this run's is made by its own canary
    batch.started_at = now
    batch.finished_at = None
    batch.cancel_requested = False
    batch.cancelled = None
    batch.runner = runner
    return batch


# ------------------------------------------------------------------------------- apply


def apply(
    batch: Batch, event: EngineEvent, items: Mapping[str, BatchItem] | None = None
) -> BatchItem | None:
    """Fold one engine event into `batch`; returns the item it changed (None: the event names
    no item of this batch). `items`, the batch's items by id, saves a search per event on a
    large batch (the recorder keeps one)."""
    if items is None:
        items = {item.id: item for item in batch.items}
    item = items.get(event.item_id)
    if item is None:
        return None
    # Plain field writes (`_write`): an event's values already have their fields' types, and
    # pydantic's __setattr__ per field (13 for a start) cost ~1.3% of a 1,000-item run's
    # instructions. A status change still goes through `move_to` (the transition table).
    if isinstance(event, ItemStarted):
        if event.stage is not None:
            _stage_started(item, event)
        if item.status is ItemStatus.RUNNING and event.stage is not None:
            # A later stage of a running item: its attempt, slot and host are this one's (the
            # item's own start stays its first stage's).
            _write(
                item,
                {
                    "waiting": None,
                    "attempts": event.attempt,
                    "error": None,
                    "log_path": event.log_path,
                    "job_ref": event.job_ref,
                    "worker": None,
                    "host": event.host,
                    "slot": event.slot,
                },
            )
            return item
        if item.retry_at is not None:  # an automatic retry: the failed attempt is kept
            item.close_attempt()
        item.move_to(ItemStatus.RUNNING)
        _write(
            item,
            {
                "attempt_cost": None,
                "waiting": None,
                "attempts": event.attempt,
                "started_at": event.at,
                "finished_at": None,
                "progress": 0.0,
                "error": None,
                "log_path": event.log_path,
                "job_ref": event.job_ref,
                "worker": None,
                "host": event.host,
                "slot": event.slot,
                "retry_at": None,
            },
        )
    elif isinstance(event, ItemFinished):
        item.move_to(event.status)
        fields: dict[str, object] = {
            "waiting": None,
            "finished_at": event.at,
            "error": event.error,
        }
        if event.status is ItemStatus.SUCCEEDED:
            fields["output_path"] = event.output_path
            fields["progress"] = 1.0
        _write(item, fields)
    elif isinstance(event, ItemCost):
        _write(
            item,
            {
                "cost": round((item.cost or 0.0) + event.amount, 6),
                "attempt_cost": round((item.attempt_cost or 0.0) + event.amount, 6),
            },
        )
    elif isinstance(event, ItemProgress):
        if item.status is ItemStatus.RUNNING:
            _write(item, {"progress": event.fraction})
    elif isinstance(event, ItemWaiting):
        _write(item, {"waiting": event.detail or None})  # '': it waits no more
        if item.status is ItemStatus.RUNNING:  # its host was lost: it is on no box now
            _write(item, {"worker": None, "host": None})
    elif isinstance(event, ItemRetrying):
        item.move_to(ItemStatus.PENDING)
        _write(
            item,
            {
                "finished_at": event.at,
                "error": event.error,
                "progress": 0.0,
                "retry_at": event.retry_at,
                "retries_used": event.retry,
                "waiting": event.note
                or retry_note(event.retry, event.retries, event.retry_at, event.at),
            },
        )
        # Into the history now, with its reason: a kill or a cancel during the wait must not
        # lose it (the item's own fields say what happened next).
        item.close_attempt()
        if item.stage is not None and item.stages and item.stage in item.stages:
            record = item.stages[item.stage]  # its stage waits to be tried again
            record.__dict__.update(status=ItemStatus.PENDING, error=event.error)
    elif isinstance(event, ItemPlaced):
        _write(item, {"worker": event.worker, "host": event.host, "waiting": None})
    elif isinstance(event, StageEnded):
        _stage_ended(item, event)
    return item


def _stage_record(item: BatchItem, stage: str) -> StageRecord:
    from .models import StageRecord  # (models import this module: a late import)

    stages = item.stages
    if stages is None:
        stages = {}
        _write(item, {"stages": stages})
    record = stages.get(stage)
    if record is None:
        record = stages[stage] = StageRecord()
    return record


def _stage_started(item: BatchItem, event: ItemStarted) -> None:
    assert event.stage is not None
    record = _stage_record(item, event.stage)
    record.__dict__.update(
        status=ItemStatus.RUNNING,
        attempts=record.attempts + 1,
        started_at=event.at,
        finished_at=None,
        error=None,
        cached=None,
    )
    record.__pydantic_fields_set__.update({"status", "attempts", "started_at"})
    _write(item, {"stage": event.stage})


def _stage_ended(item: BatchItem, event: StageEnded) -> None:
    record = _stage_record(item, event.stage)
    fields: dict[str, object] = {
        "status": event.status,
        "finished_at": event.at,
        "key": event.key,
        "cached": event.cached or None,
        "error": event.error,
        "seconds": event.seconds,
        "output": event.output,
    }
    if event.cached:
        fields["attempts"] = 0
    record.__dict__.update(fields)
    record.__pydantic_fields_set__.update(fields)
    _write(item, {"stage": event.stage})
    if event.status is ItemStatus.SUCCEEDED and item.status in (
        ItemStatus.RUNNING,
        ItemStatus.PENDING,
    ):
        _write(item, {"progress": event.progress})


def _write(item: BatchItem, fields: dict[str, object]) -> None:
    """Set `fields` of `item` as pydantic's own assignment does on a model without
    `validate_assignment`: the values into the instance, the names into its fields set."""
    item.__dict__.update(fields)
    item.__pydantic_fields_set__.update(fields)


# --------------------------------------------------------------------------------- end


def end_status(batch: Batch) -> BatchStatus:
    """The end state the items imply: all succeeded (COMPLETE), none (FAILED), or some
    (PARTIAL)."""
    succeeded = sum(1 for item in batch.items if item.status is ItemStatus.SUCCEEDED)
    if batch.items and succeeded == len(batch.items):
        return BatchStatus.COMPLETE
    if succeeded == 0:
        return BatchStatus.FAILED
    return BatchStatus.PARTIAL


def end(batch: Batch, now: datetime, reason: str) -> Batch:
    """Close a run: items mid-flight become INTERRUPTED (with `reason` unless they have an
    error already), never-started ones CANCELLED, and the end state is derived from the items.
    Afterwards no item is PENDING or RUNNING."""
    for item in batch.items:
        if item.status is ItemStatus.RUNNING:
            item.move_to(ItemStatus.INTERRUPTED)
            item.finished_at = now
            item.error = item.error or reason
        elif item.status is ItemStatus.PENDING:
            item.move_to(ItemStatus.CANCELLED)
            item.error = (
                f"waited to retry when the run ended; retry resumes at "
                f"{local_time(item.retry_at, now)}"
                if item.retry_at is not None
                else "never started: the run ended first"
            )
            item.waiting = None
    batch.move_to(end_status(batch))
    batch.finished_at = now
    batch.updated_at = now
    batch.runner = None
    batch.awaiting_confirm = batch.confirmed = None  # (a yes is for the run that asked)
    batch.cancelled = True if batch.cancel_requested else None
    batch.cancel_requested = False
    # No runner holds it now (a pause asked for is kept: `paused`).
    batch.holding = batch.host_paused = None
    return batch


# ---------------------------------------------------------------------------- progress


class StageCounts(BaseModel):
    """Where a batch's items are in one pipeline stage."""

    made: int = 0
    cached: int = 0
    running: int = 0
    failed: int = 0


class Progress(BaseModel):
    """A batch's progress and every fact derived from it that a client shows (never stored)."""

    batch_id: str
    status: BatchStatus
    total: int
    counts: dict[ItemStatus, int]
    finished: int
    """Items that ended (`TERMINAL_ITEM`), however they ended."""
    succeeded: int
    failed: int
    """Items that ended by a failure of their own (`FAILED_ITEM`: skipped is not failed)."""
    not_succeeded: int
    """Items that ended without success (`DID_NOT_SUCCEED`): what `failed` lists, what the
    failed-only filter shows and what a retry of an ended batch runs."""
    never_started: int
    """Items that ended in this run without starting in it (cancelled or skipped while they
    waited): `finished - never_started` ran to an end."""
    waiting: int
    """PENDING items whose turn came and that wait for a host slot (`Phase.WAITING`)."""
    retrying: int
    """PENDING items waiting to be tried again (`Phase.RETRYING`)."""
    percent: float
    """Successful work: succeeded items count 1, running ones their progress, others 0."""
    elapsed: float | None
    """Seconds since the run began (to its end, once it ended; None: never started)."""
    eta: float | None
    """Seconds left at this run's pace (None: unknown yet; 0 once ended)."""
    rate: float | None
    """Items per minute this run has ended (None before any item of this run ended, or with
    no time): an item waiting to retry has not ended, nor has one ended by an earlier run."""
    running_work: float = 0.0
    """The running items' progress, summed (each 0 to 1): the part of the work in flight."""
    shown_status: str | None = None
    """The word every view shows for the batch: its status, or QUEUED (after 'A') /
    SCHEDULED (02:00) for a deferred start (`core.deferral.shown_status`)."""
    canary: int | None = None
    """The position of the canary while it runs alone (config `canary`: the others start
    when it succeeds); None outside that phase."""
    paused: PauseMode | None = None
    """The pause the batch is under (`core.pausing`: its own or, while it runs, the host's)."""
    stages: dict[str, StageCounts] | None = None
    """A pipeline's stages in order, each with how many items it made, took from the cache,
    runs now and failed in (None: the batch has no stages)."""
    cost: float | None = None
    """What the items' attempts reported they spent, every run together (`COST` lines; None:
    none reported)."""
    budget: float | None = None
    """The spending limit of its runs (`--budget`; None: none)."""
    forecast: Forecast | None = None
    """The whole run's time and cost projected from its canary (`--canary`), once it
    succeeded."""
    awaiting_confirm: bool = False
    """Its run waits for a yes to the forecast before the others start (`confirm`)."""
    review: dict[str, int] | None = None
    """How its outputs stand in review: approved, rejected, to_review (None: no output yet;
    `core.review`)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ran(self) -> int:
        """Items that ran to an end (those that ended less those that never started)."""
        return self.finished - self.never_started


def progress(batch: Batch, now: datetime) -> Progress:
    """Counts, phases, percent, elapsed, rate and ETA of the current (or last) run."""
    counts = dict.fromkeys(ItemStatus, 0)
    phases = dict.fromkeys(Phase, 0)
    began = batch.started_at
    good_work = 0.0
    never_started = finished_in_run = 0
    running_work = 0.0
    cost: float | None = None
    looked = {"approved": 0, "rejected": 0, "to_review": 0}
    for item in batch.items:
        status = item.status
        if status is ItemStatus.SUCCEEDED:
            state = review_state(item)
            if state is not None:
                looked[state] += 1
        if item.cost is not None:
            cost = (cost or 0.0) + item.cost
        counts[status] += 1
        if status is ItemStatus.PENDING:  # only a PENDING item has a phase of its own
            phases[phase(item)] += 1
        # Percent complete counts successful work only: a batch with failures never shows
        # 100%, so the bar itself says "not all done" (ETA, below, counts every ended item).
        if status is ItemStatus.SUCCEEDED:
            good_work += 1.0
        elif status is ItemStatus.RUNNING:
            good_work += item.progress
            running_work += item.progress
        if status in NEVER_STARTED_ENDS and (
            item.started_at is None or (began is not None and item.started_at < began)
        ):
            never_started += 1
        # Ended in this run: an item waiting to retry has a finish time but has not ended.
        if (
            status in TERMINAL_ITEM
            and item.finished_at is not None
            and began is not None
            and item.finished_at >= began
        ):
            finished_in_run += 1
    total = len(batch.items)
    finished = sum(counts[s] for s in TERMINAL_ITEM)
    elapsed = eta = rate = None
    if began is not None:
        ended = batch.status in ENDED_BATCH
        end_at = batch.finished_at if ended and batch.finished_at else now
        elapsed = max(0.0, (end_at - began).total_seconds())
        if batch.status is BatchStatus.PROCESSING:
            eta = _eta(batch, elapsed)
        elif ended:
            eta = 0.0
        if elapsed and finished_in_run:
            rate = finished_in_run / elapsed * 60
    return Progress(
        batch_id=batch.id,
        status=batch.status,
        total=total,
        counts=counts,
        finished=finished,
        succeeded=counts[ItemStatus.SUCCEEDED],
        failed=sum(counts[s] for s in FAILED_ITEM),
        not_succeeded=sum(counts[s] for s in DID_NOT_SUCCEED),
        never_started=never_started,
        waiting=phases[Phase.WAITING],
        retrying=phases[Phase.RETRYING],
        percent=round(100.0 * good_work / total if total else 0.0, 1),
        elapsed=elapsed,
        eta=eta,
        rate=rate,
        running_work=round(running_work, 3),
        canary=_canary(batch),
        paused=batch.pause,
        shown_status=batch.shown_status,
        stages=_stage_counts(batch),
        cost=None if cost is None else round(cost, 6),
        budget=getattr(getattr(batch, "config", None), "budget", None),  # (none: malformed)
        review=looked if any(looked.values()) else None,
        forecast=batch.forecast,
        awaiting_confirm=bool(batch.awaiting_confirm),
    )


def _stage_counts(batch: Batch) -> dict[str, StageCounts] | None:
    stages = getattr(getattr(batch, "config", None), "stages", None)  # (none: malformed)
    if not stages:
        return None
    counts = {stage.name: StageCounts() for stage in stages}
    for item in batch.items:
        for name, record in (item.stages or {}).items():
            count = counts.get(name)
            if count is None:
                continue
            if record.status is ItemStatus.SUCCEEDED:
                if record.cached:
                    count.cached += 1
                else:
                    count.made += 1
            elif record.status is ItemStatus.RUNNING and item.status is ItemStatus.RUNNING:
                count.running += 1
            elif record.status is ItemStatus.FAILED:
                count.failed += 1
    return counts


def _canary(batch: Batch) -> int | None:
    """The canary's position while it runs alone: in a PROCESSING batch configured `canary`,
    the first item this run runs (as the scheduler picks it), while it is PENDING or RUNNING."""
    if batch.status is not BatchStatus.PROCESSING or not batch.config.canary:
        return None  # (status first: a deleted malformed batch's stand-in has no config)
    began = batch.started_at
    in_run = [
        item
        for item in batch.items
        if item.status in (ItemStatus.PENDING, ItemStatus.RUNNING)
        or (began is not None and item.finished_at is not None and item.finished_at >= began)
    ]
    if not in_run:
        return None
    first = min(in_run, key=lambda item: item.position)
    return first.position if first.status in (ItemStatus.PENDING, ItemStatus.RUNNING) else None


def _eta(batch: Batch, elapsed: float) -> float | None:
    # Rate over this run only: items that succeeded before it started are not its work.
    started = batch.started_at
    in_run = [
        it
        for it in batch.items
        if not (
            it.status is ItemStatus.SUCCEEDED
            and it.finished_at is not None
            and started is not None
            and it.finished_at < started
        )
    ]
    done = sum(1.0 if it.status in TERMINAL_ITEM else it.progress for it in in_run)
    remaining = len(in_run) - done
    if done <= 0 or elapsed <= 0:
        return None
    return max(0.0, elapsed * remaining / done)
