"""Use-cases that only read: batches, summaries for lists, progress, failures, outputs, and a
cheap "has anything changed?" token. Lists need no models (see `BatchSummary`)."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import TYPE_CHECKING

from ..core.errors import NotFoundError
from ..core.states import DID_NOT_SUCCEED, ItemStatus
from ..core.summary import BatchSummary
from .context import ServiceContext
from .refs import resolve_item

if TYPE_CHECKING:
    from ..core.models import Batch, BatchItem, Progress

PROGRESS_FRESH = 0.1
"""Seconds a progress answer is reused for the same version of a batch: a thousand clients
polling cost ten computations a second, and their elapsed time is at most this stale."""


class Reads:
    """Queries over the repository (lock-free snapshots)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._progress: dict[str, tuple[Batch, datetime, Progress]] = {}

    def list_batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        return self.ctx.repo.all()

    def summaries(self) -> list[BatchSummary]:
        """Every batch as a list shows it, oldest first, without validating items."""
        return self.ctx.repo.summaries()

    def page(self, newest: int | None) -> tuple[list[BatchSummary], int]:
        """The newest N batches (None: all) as a list shows them, and how many there are."""
        return self.ctx.repo.page(newest)

    def version(self) -> Hashable:
        """A token that changes whenever anything stored changes (one stat, no read)."""
        return self.ctx.repo.signature()

    def get(self, ref: str) -> Batch:
        """The batch an id, unique id prefix, name or unique name prefix refers to."""
        return self.ctx.find(ref)

    def find_by_id(self, batch_id: str) -> Batch | None:
        """One batch by its exact id, or None (no name resolution: for following a run)."""
        return self.ctx.repo.get(batch_id)

    def progress(self, ref: str) -> Progress:
        """Counts per status, percent, elapsed and ETA (from the batch validated once per
        version of its file: clients poll this)."""
        batch_id = self.ctx.resolve(ref)
        batch = self.ctx.repo.shared(batch_id)
        if batch is None:
            raise NotFoundError(f"batch '{batch_id}' was deleted meanwhile")
        now = self.ctx.clock()
        cached = self._progress.get(batch_id)
        if (
            cached is not None
            and cached[0] is batch
            and 0 <= (now - cached[1]).total_seconds() < (PROGRESS_FRESH)
        ):
            return cached[2]  # the same version of the batch, a moment ago: the same answer
        progress = batch.progress(now)
        self._progress[batch_id] = (batch, now, progress)
        return progress

    def failed(self, ref: str) -> list[BatchItem]:
        """Items that did not succeed in an ended or running batch (with their reasons)."""
        return [item for item in self.get(ref).items if item.status in DID_NOT_SUCCEED]

    def outputs(self, ref: str) -> list[BatchItem]:
        """Succeeded items with their output files."""
        return [
            item
            for item in self.get(ref).items
            if item.status is ItemStatus.SUCCEEDED and item.output_path
        ]

    def item(self, ref: str, item_ref: str | int) -> BatchItem:
        """One item of a batch: an exact id, a 1-based position or a unique id prefix."""
        return resolve_item(self.get(ref), item_ref)
