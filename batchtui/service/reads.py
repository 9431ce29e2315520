"""Use-cases that only read: batches, summaries for lists, failures, outputs, and a
cheap "has anything changed?" token. Lists need no models (see `BatchSummary`), and this module
is cheap to import: the TUI's first frame reads through it."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.states import DID_NOT_SUCCEED, ItemStatus
from ..core.summary import BatchSummary
from .context import ServiceContext
from .refs import resolve_item

if TYPE_CHECKING:
    from ..core.models import Batch, BatchItem
    from .item_logs import ItemLog


class Reads:
    """Queries over the repository (lock-free snapshots)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def check_readable(self) -> None:
        """Raise StoreError if the database exists but cannot be used (reads it once; the
        first listing then costs nothing more)."""
        self.ctx.repo.check_readable()

    def list_batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        return self.ctx.repo.all()

    def summaries(self) -> list[BatchSummary]:
        """Every batch as a list shows it, oldest first, without validating items."""
        return self.ctx.repo.summaries()

    def indexed_summaries(self, oldest: int | None = None) -> list[BatchSummary]:
        """Every batch (or the `oldest` N) as the index last recorded it, unchecked against
        the batch files (a first frame's guess; `summaries` is the truth)."""
        return self.ctx.repo.indexed_summaries(oldest)

    def broken(self) -> list[tuple[str, str]]:
        """(id, name) of batches too malformed to list, as the last listing found them
        (`get` of one says what is wrong; `delete` removes it)."""
        return self.ctx.repo.broken()

    def page(self, newest: int | None) -> tuple[list[BatchSummary], int]:
        """The newest N batches (None: all) as a list shows them, and how many there are
        (only those shown are summarised)."""
        return self.ctx.repo.page(newest)

    def version(self) -> Hashable:
        """A token that changes whenever anything stored changes (one stat, no read): poll
        it, then read."""
        return self.ctx.repo.signature()

    def get(self, ref: str) -> Batch:
        """The batch an id, unique id prefix, name or unique name prefix refers to."""
        return self.ctx.find(ref)

    def find_by_id(self, batch_id: str) -> Batch | None:
        """One batch by its exact id, or None (no name resolution: for following a run)."""
        return self.ctx.repo.get(batch_id)

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

    def output_folder(self, batch: Batch) -> Path:
        """The folder a batch's outputs (and their logs and manifest) go to."""
        from ..engine.layout import batch_folder  # not at import: the UI's first frame is quick

        return batch_folder(batch.config, batch.id, batch.name)

    def generator_names(self) -> list[str]:
        """Every generator a batch can name: the built-ins and installed plugins."""
        from ..generators import available

        return available()

    def item(self, ref: str, item_ref: str | int) -> BatchItem:
        """One item of a batch: an exact id, its key, a 1-based position, a variant (`3.v2`)
        or a unique id prefix (`refs.resolve_item`)."""
        return resolve_item(self.get(ref), item_ref)

    def picture(self, item: BatchItem) -> Path | None:
        """An image that shows the item's output: its poster, a frame of its video (taken
        once, kept in the output folder's `.cache/thumbs`), or the output itself when it is
        an image; None when there is nothing to show. Blocking (a frame takes ffmpeg): call it
        off an event loop."""
        from .pictures import picture_of

        return picture_of(item)

    def thumbnail(self, item: BatchItem) -> Path | None:
        """A small copy of the item's picture (`picture`), made once and kept beside it: what
        a contact sheet shows. Blocking."""
        from .pictures import thumbnail_of

        return thumbnail_of(item)

    def item_log(self, ref: str, item_ref: str | int, attempt: int | None = None) -> ItemLog:
        """An item's log: every attempt's, or `attempt`'s alone (see `item_logs`)."""
        from .item_logs import item_log

        return item_log(self.item(ref, item_ref), attempt)
