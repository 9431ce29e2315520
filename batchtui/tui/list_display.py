"""How the batch list looks: its columns, a batch's row, the orders `o` cycles through and
the filter. Pure: summaries in, inert text (or an order) out; the screen decides when to draw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from ..core.states import BatchStatus
from . import display
from .widgets.fitted_table import Column

if TYPE_CHECKING:
    from datetime import datetime

    from ..core.summary import BatchSummary

PLATFORM_SHORT = {
    "youtube_shorts": "YT Shorts",
    "tiktok": "TikTok",
    "instagram_reels": "IG Reels",
    "youtube": "YouTube",
}

COLUMNS = (
    Column("name", "Name"),
    Column("status", "Status", 12),
    Column("items", "Done", 9, justify="right"),
    Column("progress", "Progress", 13),
    Column("platform", "Platform", 9),
    Column("changed", "Changed", 8),
)
"""The list's columns, in the order `batch_row` fills them."""

SORTS = ("created", "newest", "name", "status", "last change")
"""The orders `o` cycles through (the first is the default: oldest first, as created)."""
STATUS_ORDER = {
    BatchStatus.PROCESSING: 0,
    BatchStatus.FAILED: 1,
    BatchStatus.PARTIAL: 2,
    BatchStatus.LOCKED: 3,
    BatchStatus.DRAFT: 4,
    BatchStatus.COMPLETE: 5,
}
SORT_KEYS: dict[str, Callable[[BatchSummary], Any]] = {
    "created": lambda b: b.created_at,
    "newest": lambda b: b.created_at,
    "name": lambda b: (b.name.casefold(), b.created_at),
    # Running first, then what needs a look (failed, partial), then the rest.
    "status": lambda b: (STATUS_ORDER.get(b.status, 9), b.created_at),
    "last change": lambda b: b.updated_at or b.created_at,
}
REVERSED = {"newest", "last change"}


def visible(batches: Iterable[BatchSummary], sort: str, needle: str) -> list[BatchSummary]:
    """The batches in the order `sort` names, those whose name or status holds `needle`
    (any case) only."""
    shown = sorted(batches, key=SORT_KEYS[sort])
    if sort in REVERSED:
        shown.reverse()
    needle = needle.casefold()
    if not needle:
        return shown
    return [b for b in shown if needle in b.name.casefold() or needle in b.status.value.casefold()]


def batch_row(batch: BatchSummary, now: datetime) -> tuple[Text, ...]:
    """A batch's cells, one per column of `COLUMNS`."""
    return (
        display.literal(batch.name),
        display.status(batch.status),
        Text(f"{batch.succeeded}/{batch.total}"),
        display.bar(batch.percent / 100, 8),
        Text(PLATFORM_SHORT.get(batch.platform, batch.platform)),
        Text(display.ago(batch.updated_at, now)),
    )
