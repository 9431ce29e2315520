"""App-wide messages: what the app's one watcher of the store (`watcher.StoreWatcher`) and its
dialogs tell the screens. All non-bubbling; the watcher's are coalesced (a newer one replaces
a pending older one for the same batch or list, so a slow screen never falls behind)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from ..core.models import Batch
    from ..core.summary import BatchSummary
    from ..service.follow import Snapshot


@dataclass
class RunEnded(Message, bubble=False):
    """A batch's run was ended or the batch went away (recovered after its runner died,
    deleted): screens showing it reload."""

    batch: Batch


@dataclass
class BatchChanged(Message, bubble=False):
    """A followed batch as stored now (shared: read it, never change it)."""

    snapshot: Snapshot

    @property
    def batch_id(self) -> str:
        return self.snapshot.batch.id

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BatchChanged) and message.batch_id == self.batch_id


@dataclass
class ListChanged(Message, bubble=False):
    """Every batch as a list shows it, now (after any change)."""

    summaries: list[BatchSummary]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ListChanged)
