"""How batch data looks on screen: status icon and word, times, bars — always inert text.

Everything returns `rich.text.Text`, never a markup string, so user content such as
`[bold]x[/bold]` is shown as typed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from ..core.deferral import QUEUED_ICON
from ..core.pausing import PAUSE_ICON, PAUSE_SHORT, PauseMode, pause_mark
from ..core.review import review_state
from ..core.states import BatchStatus, ItemStatus, Phase, phase
from ..core.symbols import ICONS, RETRY_ICON, WAITING_ICON
from ..core.textsafe import one_line
from .palette import ERROR, NOTE, RETRY, STYLES, WAITING

if TYPE_CHECKING:
    from ..core.models import BatchItem


def status(value: BatchStatus | ItemStatus) -> Text:
    """Icon and word, e.g. '✔ COMPLETE'."""
    return Text(f"{ICONS[value]} {value.value}", style=STYLES[value])


def batch_status(
    value: BatchStatus, shown: str, paused: PauseMode | None = None, *, narrow: bool = False
) -> Text:
    """A batch's icon and word as every view shows it: `shown` is its `shown_status` (QUEUED
    (after 'A') / SCHEDULED (02:00) for a deferred start, styled as waiting), `paused` the
    pause it is under ('▶ PROCESSING ⏸ PAUSED'; `narrow`, a list's cell: '⏸ PAUSED' or
    '⏸ FROZEN' in place of PROCESSING)."""
    if shown != value.value:
        return Text(f"{QUEUED_ICON} {shown}", style=STYLES[WAITING])
    if paused is None:
        return status(value)
    style = f"bold {STYLES[WAITING]}"
    if narrow and value is BatchStatus.PROCESSING:
        return Text(f"{PAUSE_ICON} {PAUSE_SHORT[paused]}", style=style)
    text = status(value)
    text.append(pause_mark(paused) if not narrow else f" {PAUSE_ICON}", style=style)
    return text


def waits_for(detail: str) -> Text:
    """What a queued or scheduled batch waits for (`after 'A'`, `02:00`), as the list shows it
    where a bar would be (inert: it holds a batch name)."""
    return Text(one_line(detail), style=STYLES[WAITING])


def item_status(item: BatchItem) -> Text:
    """An item's icon and word; a PENDING item waiting for a host slot says WAITING, one
    waiting to be tried again RETRY."""
    waits = phase(item)
    if waits is Phase.RETRYING:
        return Text(f"{RETRY_ICON} RETRY", style=STYLES[RETRY])
    if waits is Phase.WAITING:
        return Text(f"{WAITING_ICON} WAITING", style=STYLES[WAITING])
    return status(item.status)


def literal(text: str, limit: int | None = None) -> Text:
    """User text on one line, shown exactly as typed (no markup, no control characters)."""
    return Text(one_line(text, limit))


def bar(fraction: float, width: int = 10) -> Text:
    """A text progress bar with percent, e.g. '██████░░░░  60%'."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return Text(f"{'█' * filled}{'░' * (width - filled)} {fraction * 100:3.0f}%")


def ago(moment: datetime | None, now: datetime) -> str:
    """How long ago, coarsely: 'just now', '5m ago', '3h ago', '2d ago'."""
    if moment is None:
        return ""
    delta = (now - moment).total_seconds()
    if delta < 60:
        return "just now"
    if delta < 3600:
        return f"{int(delta // 60)}m ago"
    if delta < 86400:
        return f"{int(delta // 3600)}h ago"
    return f"{int(delta // 86400)}d ago"


def local_time(
    moment: datetime | None, now: datetime | None = None, *, seconds: bool = False
) -> str:
    """A moment as the person reads it: in local time, with the zone named, and the day when
    it is not today: '14:05 CET', 'Dec 3 14:05 CET', 'Dec 3 2025 14:05 CET' ('' for None).

    The one formatter of times for every screen (stored times are UTC; a naive one is taken
    as UTC). `now` decides what "today" is (the app's clock, so tests are fixed);
    `seconds`: '14:05:09 CET'."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    zone = local.strftime("%Z") or local.strftime("%z")
    if local.date() == today:
        day = ""
    elif local.year == today.year:
        day = f"{local:%b} {local.day} "
    else:
        day = f"{local:%b} {local.day} {local.year} "
    return f"{day}{clock} {zone}"


def item_seconds(item: BatchItem, now: datetime) -> float | None:
    """How long the item's last attempt ran (so far, while running); None while it waits
    (a retried item's last attempt is history, not what it is doing)."""
    if item.started_at is None or item.status is ItemStatus.PENDING:
        return None
    end = item.finished_at or now
    return max(0.0, (end - item.started_at).total_seconds())


def item_result(item: BatchItem, limit: int | None = None, stages: Sequence[str] = ()) -> Text:
    """The output file name of a success, the one-line error of a failure, what a waiting
    item waits for (a retry: when, and after what), a pipeline's running item the stage it is
    at (`▸ render 2/4`, of the batch's `stages`), else ''."""
    if phase(item) in (Phase.WAITING, Phase.RETRYING):
        waits_for = item.waiting or ""
        if item.retry_at is not None and item.error:
            return Text(one_line(f"{waits_for}, after: {item.error}", limit), style=STYLES[RETRY])
        return Text(one_line(waits_for, limit), style=STYLES[NOTE])
    if item.error:
        return Text(one_line(item.error, limit), style=STYLES[ERROR])
    if item.output_path:
        name = os.path.basename(item.output_path)
        # A verdict given is said first (a glyph for the eye, a word for a screen reader).
        review = item.review if review_state(item) in ("approved", "rejected") else None
        if review is not None and review.verdict == "approved":
            return Text.assemble(
                ("✔ approved ", STYLES[BatchStatus.COMPLETE]), one_line(name, limit)
            )
        if review is not None:
            why = f": {one_line(review.note, 30)}" if review.note else ""
            return Text(one_line(f"✘ rejected{why} · {name}", limit), style=STYLES[ERROR])
        return Text(one_line(name, limit))
    if item.status is ItemStatus.RUNNING and item.stage is not None:  # a pipeline's item
        return Text(
            one_line(f"▸ {item.stage}{stage_place(item, stages)}", limit), style=STYLES[NOTE]
        )
    return Text("")


def stage_place(item: BatchItem, stages: Sequence[str]) -> str:
    """' 2/4': which of the batch's `stages` the item is at (nothing when they are not
    given)."""
    if item.stage is None or item.stage not in stages:
        return ""
    return f" {list(stages).index(item.stage) + 1}/{len(stages)}"
