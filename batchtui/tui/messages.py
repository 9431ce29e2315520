"""App-wide messages. Engine events never reach widgets one by one: the app coalesces them and
posts one `BatchUpdated` per changed batch per tick."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..models import Batch


@dataclass
class BatchUpdated(Message, bubble=False):
    """A batch changed (a run made progress, or a user action); screens redraw what differs."""

    batch: Batch

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BatchUpdated) and message.batch.id == self.batch.id


@dataclass
class RunEnded(Message, bubble=False):
    """A run driven by this app ended (COMPLETE, PARTIAL or FAILED)."""

    batch: Batch
