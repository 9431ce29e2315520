"""Unlocking: a batch back to DRAFT, to be edited. A LOCKED batch has not run; a FAILED one
has, and none of its items succeeded, so its items start over (their attempts stay in their
history) and the run it had is forgotten: the next lock and start run every item with the
config as it is then."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .states import BatchStatus, ItemStatus
from .variants import fold

if TYPE_CHECKING:
    from .models import Batch


def back_to_draft(batch: Batch) -> Batch:
    """Move `batch` to DRAFT (`TransitionError` unless the table allows it) with no lock and,
    after a run, every item PENDING again with no error, progress or output."""
    ran = batch.status is not BatchStatus.LOCKED
    batch.move_to(BatchStatus.DRAFT)
    batch.locked_at = None
    batch.config_hash = None
    fold(batch)  # one row per item again: the variants are made anew at the next lock
    if ran:
        batch.started_at = None
        batch.finished_at = None
        batch.cancel_requested = False
        batch.cancelled = None
        batch.runner = None
        for item in batch.items:
            item.close_attempt()
            if item.status is not ItemStatus.PENDING:
                item.move_to(ItemStatus.PENDING)
            item.error = None
            item.waiting = None
            item.progress = 0.0
            item.output_path = None
            item.retry_at = None
            item.retries_used = None
            item.started_at = None
            item.finished_at = None
            item.stage = item.stages = None
    return batch
