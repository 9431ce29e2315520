"""App-wide messages. Engine events never reach widgets one by one: the app coalesces them and
posts one `BatchUpdated` per changed batch per tick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from ..core.models import Batch


@dataclass
class BatchUpdated(Message, bubble=False):
    """A batch changed (a run made progress, or a user action); screens redraw what differs."""

    batch: Batch
    changed: frozenset[str] | None = None
    """Ids of the items that changed since the last update (None: anything may have)."""

    def can_replace(self, message: Message) -> bool:
        if not (isinstance(message, BatchUpdated) and message.batch.id == self.batch.id):
            return False
        # This one supersedes a queued one: it must also carry what that one said changed.
        if self.changed is not None:
            self.changed = None if message.changed is None else self.changed | message.changed
        return True


@dataclass
class RunEnded(Message, bubble=False):
    """A run driven by this app ended (COMPLETE, PARTIAL or FAILED)."""

    batch: Batch
