"""The lifecycle states of batches and items and the one table of moves between them: plain
enums and dicts, importable without the models (the TUI draws its first frame before pydantic
is loaded)."""

from __future__ import annotations

from enum import StrEnum

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


TERMINAL_ITEM = frozenset(
    {
        ItemStatus.SUCCEEDED,
        ItemStatus.FAILED,
        ItemStatus.CANCELLED,
        ItemStatus.INTERRUPTED,
        ItemStatus.SKIPPED,
    }
)
ENDED_BATCH = frozenset({BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED})

BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.DRAFT: frozenset({BatchStatus.LOCKED}),
    BatchStatus.LOCKED: frozenset({BatchStatus.DRAFT, BatchStatus.PROCESSING}),
    BatchStatus.PROCESSING: frozenset(
        {BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED}
    ),
    BatchStatus.PARTIAL: frozenset({BatchStatus.PROCESSING}),
    BatchStatus.FAILED: frozenset({BatchStatus.PROCESSING}),
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
