"""How the batch list looks: its columns, a batch's row (and its mark), the orders `o` cycles
through (and `O` reverses), their names, and the filter. Pure: summaries in, inert text (or
an order) out; the screen decides when to draw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from ..core.states import BatchStatus
from . import display
from .palette import ERROR, STYLES
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

MARK = "* "
"""What a marked row's name begins with (a shape, not a colour: it reads without colour, in
any font; in the name's cell, so the columns stay as they are)."""

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
SORT_NAMES: dict[str, tuple[str, str]] = {
    "created": ("oldest first", "newest first"),
    "newest": ("newest first", "oldest first"),
    "name": ("name A→Z", "name Z→A"),
    "status": ("by status, running first", "by status, complete first"),
    "last change": ("last changed first", "last changed last"),
}
"""What each order is called on screen: as `o` picks it, and reversed (`O`)."""
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


def sort_name(sort: str, reverse: bool = False) -> str:
    """The order as the screen names it, e.g. 'oldest first', 'name Z→A'."""
    return SORT_NAMES[sort][reverse]


def visible(
    batches: Iterable[BatchSummary], sort: str, needle: str, *, reverse: bool = False
) -> list[BatchSummary]:
    """The batches in the order `sort` names (`reverse`: the other way round), those whose
    name or status holds `needle` (any case) only."""
    shown = sorted(batches, key=SORT_KEYS[sort])
    if (sort in REVERSED) != reverse:
        shown.reverse()
    needle = needle.casefold()
    if not needle:
        return shown
    return [
        b
        for b in shown
        if needle in b.name.casefold()
        or needle in b.status.value.casefold()
        or needle in b.shown_status.casefold()  # QUEUED, SCHEDULED
    ]


def batch_row(batch: BatchSummary, now: datetime, *, marked: bool = False) -> tuple[Text, ...]:
    """A batch's cells, one per column of `COLUMNS` (`marked`: its name after `MARK`)."""
    name = display.literal(batch.name)
    if marked:
        name = Text.assemble((MARK, "bold"), name, style="bold")
    deferred = batch.shown_parts  # QUEUED / SCHEDULED: what it waits for in the bar's place
    return (
        name,
        display.batch_status(
            batch.status,
            deferred[0] if deferred else batch.status.value,
            batch.paused,
            narrow=True,
        ),
        Text(f"{batch.succeeded}/{batch.total}"),
        display.waits_for(deferred[1]) if deferred else _progress_cell(batch),
        Text(PLATFORM_SHORT.get(batch.platform, batch.platform)),
        Text(display.ago(batch.updated_at, now)),
    )


def _progress_cell(batch: BatchSummary) -> Text:
    """The bar; once a batch that has ended was reviewed, its outputs in review instead:
    `✔7 ✘2 ?1` (approved, rejected, to review), what is left to do with it."""
    if batch.review is None or batch.status is BatchStatus.PROCESSING:
        return display.bar(batch.percent / 100, 8)
    approved, rejected, to_review = batch.review
    return Text.assemble(
        (f"✔{approved}", STYLES[BatchStatus.COMPLETE]),
        " ",
        (f"✘{rejected}", STYLES[ERROR] if rejected else ""),
        f" ?{to_review}",
    )
