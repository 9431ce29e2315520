"""The lifecycle states of batches and items: plain enums, importable without the models
(the TUI draws its first frame before pydantic is loaded)."""

from __future__ import annotations

from enum import StrEnum


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


TERMINAL_ITEM = frozenset(
    {ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.INTERRUPTED}
)
ENDED_BATCH = frozenset({BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED})
