"""Plain events the engine emits per item; the CLI prints them, the TUI turns them into messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..core.models import ItemStatus


@dataclass(frozen=True, slots=True)
class ItemStarted:
    """An item took a concurrency slot and began its attempt."""

    batch_id: str
    item_id: str
    attempt: int
    at: datetime
    log_path: str
    job_ref: str


@dataclass(frozen=True, slots=True)
class ItemProgress:
    """An item reported how far along it is (0.0 to 1.0)."""

    batch_id: str
    item_id: str
    fraction: float


@dataclass(frozen=True, slots=True)
class ItemFinished:
    """An item ended: SUCCEEDED with an output, or FAILED/CANCELLED with a one-line error."""

    batch_id: str
    item_id: str
    status: ItemStatus
    at: datetime
    output_path: str | None = None
    error: str | None = None


EngineEvent = ItemStarted | ItemProgress | ItemFinished
