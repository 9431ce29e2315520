"""How a run looks on the progress screen: the counts line, the timing line, the next step,
an item's row. Pure: a batch (or an item) in, inert text out; the screen decides when to draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from ..core.actions import allowed
from ..core.states import BatchStatus, ItemStatus
from ..core.symbols import seconds
from ..core.textsafe import one_line
from . import display
from .palette import NOTE, STYLES, WAITING
from .widgets.fitted_table import Column

if TYPE_CHECKING:
    from datetime import datetime

    from ..core.models import Batch, BatchItem
    from ..core.run import Progress

COLUMNS = (
    Column("status", "Status", 13),
    Column("pos", "#", 3, justify="right"),
    Column("try", "Try", 3, justify="right"),
    Column("progress", "Progress", 9),
    Column("time", "Time", 6, justify="right"),
    # The item's own words matter most at 80 columns: they get the larger share.
    Column("content", "Item", weight=3),
    Column("result", "Output / error", weight=2),
)
"""The item table's columns, in the order `item_row` fills them."""


def head(batch: Batch) -> Text:
    """Status (cancelled, once ended so) and name."""
    text = Text.assemble(display.status(batch.status))
    if batch.cancelled and batch.status is not BatchStatus.PROCESSING:
        text.append(" (cancelled)", style=display.STYLES[batch.status])
    text.append_text(Text.assemble("  ", display.literal(batch.name, 50)))
    return text


def counts(progress: Progress) -> Text:
    """How many items are in each status, then how many finished (and never started)."""
    text = Text()
    # PENDING items that wait (for a host slot, or to retry) are counted apart from those
    # waiting their turn.
    waiting = progress.waiting + progress.retrying
    for status in ItemStatus:
        count = progress.counts[status] - (waiting if status is ItemStatus.PENDING else 0)
        if count:
            text.append_text(
                Text(
                    f"{display.ICONS[status]} {count} {status.value.lower()}",
                    style=display.STYLES[status],
                )
            )
            text.append("  ")  # unstyled: a reversed word (FAILED under NO_COLOR) ends with it
        if status is ItemStatus.PENDING and waiting:
            text.append(f"{display.WAITING_ICON} {waiting} waiting  ", style=STYLES[WAITING])
    never = progress.never_started
    note = f"({progress.ran}/{progress.total} finished"
    note += f", {never} never started)" if never else ")"
    text.append(note, style=STYLES[NOTE])
    return text


def timing(batch: Batch, progress: Progress) -> str:
    """Elapsed, the ETA while running, the rate, the concurrency."""
    line = f"elapsed {seconds(progress.elapsed)}"
    if batch.status is BatchStatus.PROCESSING:
        line += f" · ETA {seconds(progress.eta)}"
    if progress.rate is not None:
        line += f" · {progress.rate:.1f} items/min"
    return line + f" · concurrency {batch.config.concurrency}"


def next_step(batch: Batch) -> Text:
    """What the batch's state means, and the keys that take it on from there."""
    progress = batch.progress()
    if batch.status is BatchStatus.COMPLETE:
        folder = ""
        outputs = [item.output_path for item in batch.items if item.output_path]
        if outputs:
            folder = str(Path(outputs[0]).parent)
        return Text.assemble(
            ("✔ COMPLETE", f"bold {STYLES[BatchStatus.COMPLETE]}"),
            f" — {progress.total} outputs in ",
            Text(one_line(folder, 50)),
        )
    if allowed("retry", batch.status):  # ended, and not every item succeeded
        style = f"bold {STYLES[batch.status]}"
        word = batch.status.value + (" (cancelled)" if batch.cancelled else "")
        # "the others": what `f` shows and `r` runs again (every one that did not succeed).
        return Text.assemble(
            (f"{display.ICONS[batch.status]} {word}", style),
            f" {progress.succeeded}/{progress.total} ok · f: the {progress.not_succeeded}"
            " others"
            " · enter: why · r: retry them",
        )
    if batch.status is BatchStatus.PROCESSING:
        if batch.cancel_requested:
            return Text("Cancelling: stopping running items …", style="yellow")
        return Text("Running · c cancel · +/- workers · esc back (the run goes on)")
    return Text("")


def item_row(item: BatchItem, now: datetime) -> tuple[Text, ...]:
    """An item's cells, one per column of `COLUMNS`."""
    running = item.status is ItemStatus.RUNNING
    fraction = 1.0 if item.status is ItemStatus.SUCCEEDED else item.progress
    return (
        display.item_status(item),
        Text(str(item.position)),
        Text(str(item.attempts)),
        display.bar(fraction, 4) if (running or item.progress) else Text(""),
        Text(seconds(took) if (took := display.item_seconds(item, now)) else ""),
        display.literal(item.content),
        display.item_result(item),
    )
