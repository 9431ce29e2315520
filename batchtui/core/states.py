"""The lifecycle states of batches and items, their named sets, an item's phase within a run,
and the one table of moves between them: plain enums and dicts, importable without the models
(the TUI draws its first frame before pydantic is loaded)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from .errors import TransitionError


class BatchStatus(StrEnum):
    """Where a batch is in its lifecycle."""

    DRAFT = "DRAFT"
    LOCKED = "LOCKED"
    PROCESSING = "PROCESSING"
    COMPLETE = "COMPLETE"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


class ItemStatus(StrEnum):
    """Where one item is: INTERRUPTED means it was RUNNING when its runner went away."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    INTERRUPTED = "INTERRUPTED"
    SKIPPED = "SKIPPED"
    """Never started because the run stopped early (max failures reached, the canary failed):
    not a failure of its own; retry runs it."""


# The named sets of states: every "has it ended", "did it fail" in the code is one of these.
FAILED_ITEM = frozenset({ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.INTERRUPTED})
"""Item states of a failure of the item's own (SKIPPED is not one: the run stopped first)."""
DID_NOT_SUCCEED = FAILED_ITEM | {ItemStatus.SKIPPED}
"""Item states of an item that ended without success: what `failed` lists, what the
failed-only filter shows and what a retry of an ended batch runs."""
TERMINAL_ITEM = DID_NOT_SUCCEED | {ItemStatus.SUCCEEDED}
"""Item states that end an item's part in a run, however it ended."""
NEVER_STARTED_ENDS = frozenset({ItemStatus.CANCELLED, ItemStatus.SKIPPED})
"""The ends an item can reach without having started."""
ENDED_BATCH = frozenset({BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED})
"""Batch states of a batch whose (last) run has ended."""


class _Waits(Protocol):
    """What `phase` reads of an item (a `BatchItem`)."""

    @property
    def status(self) -> ItemStatus: ...

    @property
    def waiting(self) -> str | None: ...

    @property
    def retry_at(self) -> datetime | None: ...


class Phase(StrEnum):
    """Where an item is within a run: its status, with PENDING told apart by what it waits for."""

    PENDING = "pending"
    """Waits for its batch's turn (a concurrency slot)."""
    WAITING = "waiting"
    """Has its turn, and waits for something else first (a host-wide slot; or, started on a
    render farm, a worker to run on after its own was lost)."""
    RETRYING = "retrying"
    """A failed attempt is to be tried again, at its `retry_at`."""
    RUNNING = "running"
    ENDED = "ended"
    """In one of `TERMINAL_ITEM`: nothing more happens to it in this run."""


def phase(item: _Waits) -> Phase:
    """The phase of `item` (a waiting PENDING item with a retry time is waiting to retry)."""
    status = item.status
    if status is ItemStatus.RUNNING:  # a started attempt that lost its host waits for another
        return Phase.WAITING if item.waiting else Phase.RUNNING
    if status is not ItemStatus.PENDING:
        return Phase.ENDED
    if not item.waiting:
        return Phase.PENDING
    return Phase.RETRYING if item.retry_at is not None else Phase.WAITING


BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.DRAFT: frozenset({BatchStatus.LOCKED}),
    BatchStatus.LOCKED: frozenset({BatchStatus.DRAFT, BatchStatus.PROCESSING}),
    BatchStatus.PROCESSING: frozenset(
        {BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED}
    ),
    BatchStatus.PARTIAL: frozenset({BatchStatus.PROCESSING}),
    # FAILED → DRAFT: unlocked to change a config none of its items succeeded with.
    BatchStatus.FAILED: frozenset({BatchStatus.PROCESSING, BatchStatus.DRAFT}),
    # COMPLETE → PROCESSING: chosen items run again on purpose (`retry --item`).
    BatchStatus.COMPLETE: frozenset({BatchStatus.PROCESSING}),
}

ITEM_TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    # PENDING → SUCCEEDED: a retry adopts an output its crashed predecessor finished.
    ItemStatus.PENDING: frozenset(
        {ItemStatus.RUNNING, ItemStatus.CANCELLED, ItemStatus.SUCCEEDED, ItemStatus.SKIPPED}
    ),
    # RUNNING → PENDING: a failed attempt waits to be tried again (automatic retry).
    ItemStatus.RUNNING: frozenset(
        {
            ItemStatus.SUCCEEDED,
            ItemStatus.FAILED,
            ItemStatus.CANCELLED,
            ItemStatus.INTERRUPTED,
            ItemStatus.PENDING,
        }
    ),
    # SUCCEEDED → PENDING: a succeeded item chosen to run again on purpose.
    ItemStatus.SUCCEEDED: frozenset({ItemStatus.PENDING}),
    ItemStatus.FAILED: frozenset({ItemStatus.PENDING}),
    ItemStatus.CANCELLED: frozenset({ItemStatus.PENDING}),
    ItemStatus.INTERRUPTED: frozenset({ItemStatus.PENDING, ItemStatus.SUCCEEDED}),
    ItemStatus.SKIPPED: frozenset({ItemStatus.PENDING}),
}


def check_batch_transition(old: BatchStatus, new: BatchStatus) -> None:
    """Raise `TransitionError` if the table forbids moving a batch from `old` to `new`."""
    if new not in BATCH_TRANSITIONS[old]:
        moves = BATCH_TRANSITIONS[old]
        allowed = ", ".join(s.value for s in BatchStatus if s in moves) or "nothing"
        raise TransitionError(f"a {old.value} batch cannot become {new.value} (allowed: {allowed})")


def check_item_transition(old: ItemStatus, new: ItemStatus) -> None:
    """Raise `TransitionError` if the table forbids moving an item from `old` to `new`."""
    if new not in ITEM_TRANSITIONS[old]:
        moves = ITEM_TRANSITIONS[old]
        allowed = ", ".join(s.value for s in ItemStatus if s in moves) or "nothing"
        raise TransitionError(f"a {old.value} item cannot become {new.value} (allowed: {allowed})")
