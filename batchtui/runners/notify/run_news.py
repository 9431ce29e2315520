"""What one run announces, decided once at its start: the runner's side of the outbox.

The run's start goes out as it begins; an item that failed for good (and, when asked, every
item's end) as it happens; the end is queued inside the run's final write, so a runner killed
an instant after its batch ended has its news queued already (and one killed an instant
before leaves the end to recovery, which announces it under the same id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ...core.errors import BatchtuiError
from ...core.events import EngineEvent, ItemFinished
from ...core.models import Batch, BatchItem
from ...core.notify_settings import NotifySettings, load_notify_settings
from ...core.states import ItemStatus
from .announce import announce
from .courier_start import ensure_courier
from .targets import targets_for

log = logging.getLogger(__name__)


class RunNews:
    """The announcements of one run of one batch."""

    def __init__(self, db_path: Path, batch: Batch, clock: Callable[[], datetime]) -> None:
        self.db_path = db_path
        self.clock = clock
        self.log_path = batch.runner.log_path if batch.runner else None
        self.host: NotifySettings | None
        try:
            self.host = load_notify_settings()
        except BatchtuiError as exc:  # the run goes on; the settings file is named
            log.warning("this run announces nothing: %s", exc)
            self.host = None
        self._end_queued = False
        self._where: dict[str, int] = {}

    def announces(self, batch: Batch, event: str) -> bool:
        """Whether `event` has anyone to hear it, by the batch's config as it is now (who
        hears of a run may change while it runs)."""
        return self.host is not None and bool(targets_for(batch.config, self.host, event))

    def _say(self, batch: Batch, event: str, **kwargs: object) -> None:
        if self.announces(batch, event):
            announce(
                self.db_path,
                batch,
                event,
                self.clock(),
                host=self.host,
                log_path=self.log_path,
                **kwargs,  # type: ignore[arg-type]
            )

    def started(self, batch: Batch) -> None:
        """The run began."""
        self._say(batch, "started")

    def heard(self, event: EngineEvent, batch: Batch) -> None:
        """An engine event, folded into `batch`: an item's end may be news."""
        if not isinstance(event, ItemFinished) or self.host is None:
            return
        failed = event.status is ItemStatus.FAILED and self.announces(batch, "failed")
        every = self.announces(batch, "item")
        if not (failed or every):  # the usual case: nobody listens for an item's end
            return
        item = self._item(batch, event.item_id)
        if failed:
            self._say(batch, "failed", item=item)
        if every:
            self._say(batch, "item", item=item)

    def _item(self, batch: Batch, item_id: str) -> BatchItem:
        """The item by its id: found by its remembered position (a search per item's end
        made a 10,000-item run quadratic), looked up again when the items moved."""
        items = batch.items
        at = self._where.get(item_id)
        if at is None or at >= len(items) or items[at].id != item_id:
            self._where = {item.id: position for position, item in enumerate(items)}
            at = self._where[item_id]
        return items[at]

    def ending(self, batch: Batch) -> None:
        """The run's final write is about to be made (under the database's lock): queue the
        end, and start no process while the lock is held."""
        if self.announces(batch, "ended"):
            self._say(batch, "ended", start_courier=False)
            self._end_queued = True

    def ended(self) -> None:
        """The final write is made: the courier takes the end out."""
        if self._end_queued:
            ensure_courier(self.db_path)
