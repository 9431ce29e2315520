"""How a run looks on the progress screen: the counts line, the timing line, the next step,
an item's row. Pure: a batch (or an item) in, inert text out; the screen decides when to draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from ..core.actions import allowed
from ..core.forecast import forecast_short, forecast_words, money_words
from ..core.pausing import pause_mark, pause_meaning
from ..core.review import ReviewCounts
from ..core.states import BatchStatus, ItemStatus, Phase, phase
from ..core.symbols import RETRY_ICON, seconds
from ..core.textsafe import one_line
from . import display
from .palette import ERROR, NOTE, RETRY, STYLES, WAITING
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
CONTENT_COLUMN = next(n for n, column in enumerate(COLUMNS) if column.key == "content")
"""Where the item's own words are in a row (of `COLUMNS`; `content_column` for any)."""
KEY_WIDTH = 12
"""The widest the key column grows (a longer key ends in '…'; whole in the item's detail)."""


def columns(items: Sequence[BatchItem]) -> tuple[Column, ...]:
    """`COLUMNS` for these items: `#` as wide as their labels (`3.v2`), and a key column
    after it when some item has a key."""
    widest = max((len(item.label) for item in items), default=0)
    keys = [item.key for item in items if item.key]
    spec: list[Column] = []
    for column in COLUMNS:
        if column.key == "pos":
            spec.append(Column("pos", "#", max(3, widest), justify="right"))
            if keys:
                width = max(3, min(KEY_WIDTH, max(len(key) for key in keys)))
                spec.append(Column("key", "Key", width))
        else:
            spec.append(column)
    return tuple(spec)


def content_column(spec: Sequence[Column]) -> int:
    """Where the item's own words are in a row of `spec`."""
    return next(n for n, column in enumerate(spec) if column.key == "content")


def head(batch: Batch) -> Text:
    """Status (cancelled, once ended so) and name."""
    text = Text.assemble(display.batch_status(batch.status, batch.shown_status, batch.pause))
    if batch.cancelled and batch.status is not BatchStatus.PROCESSING:
        text.append(" (cancelled)", style=display.STYLES[batch.status])
    text.append_text(Text.assemble("  ", display.literal(batch.name, 50)))
    return text


def counts(progress: Progress) -> Text:
    """How many items are in each status, then how many finished (and never started)."""
    text = Text()
    # PENDING items that wait (for a host slot, or to retry) are counted apart from those
    # waiting their turn, each under the word its rows show: ◔ is for a host slot only.
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
        if status is ItemStatus.PENDING and progress.retrying:
            text.append(f"{RETRY_ICON} {progress.retrying} retrying", style=STYLES[RETRY])
            text.append("  ")
        if status is ItemStatus.PENDING and progress.waiting:
            text.append(f"{display.WAITING_ICON} {progress.waiting} waiting", style=STYLES[WAITING])
            text.append("  ")
    never = progress.never_started
    note = f"({progress.ran}/{progress.total} finished"
    note += f", {never} never started)" if never else ")"
    text.append(note, style=STYLES[NOTE])
    looked = _review_words(progress)
    if looked:
        text.append(f" · {looked}")
    return text


def timing(batch: Batch, progress: Progress) -> str:
    """Elapsed, the ETA while running, the rate, the concurrency."""
    line = f"elapsed {seconds(progress.elapsed)}"
    if batch.status is BatchStatus.PROCESSING:
        line += f" · ETA {seconds(progress.eta)}"
    if progress.rate is not None:  # None until an item of this run ended: no made-up pace
        line += f" · {progress.rate:.1f} items/min"
    line += f" · concurrency {batch.config.concurrency}"
    money = money_words(progress.cost, progress.budget)
    if money:
        line += f" · {money}"
    if progress.forecast is not None and batch.status is BatchStatus.PROCESSING:
        line += f" · {forecast_short(progress.forecast)}"
    return line


def _review_words(progress: Progress) -> str:
    """'7 approved · 2 rejected · 1 to review', once a verdict was given ('' before)."""
    review = progress.review
    if not review or not (review["approved"] or review["rejected"]):
        return ""
    return ReviewCounts(**review).words()


def next_step(batch: Batch) -> Text:
    """What the batch's state means, and the keys that take it on from there."""
    progress = batch.progress()
    if batch.status is BatchStatus.COMPLETE:
        folder = ""
        outputs = [item.output_path for item in batch.items if item.output_path]
        if outputs:
            folder = str(Path(outputs[0]).parent)
        review = progress.review or {}
        if review.get("rejected"):
            return Text.assemble(
                ("✔ COMPLETE", f"bold {STYLES[BatchStatus.COMPLETE]}"),
                f" — {review['rejected']} rejected · r: make them again · v pictures · a/x",
            )
        if review.get("approved") and not review.get("to_review"):
            return Text.assemble(
                ("✔ COMPLETE", f"bold {STYLES[BatchStatus.COMPLETE]}"),
                f" — every output approved · hand them on: batchtui export {batch.id} DIR",
            )
        return Text.assemble(
            ("✔ COMPLETE", f"bold {STYLES[BatchStatus.COMPLETE]}"),
            f" — {progress.total} outputs in ",
            Text(one_line(folder, 24)),
            " · v pictures · a/x review",
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
        if batch.awaiting_confirm and progress.forecast is not None:
            return Text.assemble(
                ("Waiting for a yes", f"bold {STYLES[WAITING]}"),
                f": {forecast_words(progress.forecast).removeprefix('forecast: ')}"
                " · A yes · c cancel",
            )
        if batch.pause is not None:
            go_on = "p resume" if batch.paused is not None else "the host is paused: resume --all"
            return Text.assemble(
                (pause_mark(batch.pause).strip(), f"bold {STYLES[WAITING]}"),
                f": {pause_meaning(batch.pause)} · {go_on} · c cancel",
            )
        if progress.canary is not None:
            return Text.assemble(
                ("canary", f"bold {STYLES[RETRY]}"),
                # As the scheduler runs it: one item at a time (others take the slot while
                # the canary waits to retry) until the canary succeeds.
                f": one at a time until item {progress.canary} succeeds, then"
                f" {batch.config.concurrency} at once · c cancel",
            )
        if batch.priority:  # only when set: most boxes never use one
            return Text(
                f"Running · priority {batch.priority} ([ ]) · c cancel · p pause · +/- workers"
            )
        return Text("Running · c cancel · p pause · +/- workers · esc back (the run goes on)")
    return Text("")


def retry_schedule(item: BatchItem, retries: int, now: datetime) -> Text | None:
    """What an item waiting to be tried again waits for, counted down: 'retry 2/3 in 12s,
    after: exit 3' (None: it does not wait to retry)."""
    if phase(item) is not Phase.RETRYING or item.retry_at is None:
        return None
    if (item.retries_used or 1) > retries:  # a budget that does not fit: the stored note
        return None
    left = max(0.0, (item.retry_at - now).total_seconds())
    when = "now"
    if left >= 60:
        when = f"in {seconds(left)}"
    elif left > 0:
        when = f"in {math.ceil(left)} s"
    line = f"retry {item.retries_used or 1}/{retries} {when}"
    if item.error:
        line += f", after: {item.error}"
    return Text(one_line(line), style=STYLES[RETRY])


def full_result(item: BatchItem, retries: int, now: datetime) -> Text | None:
    """What the selected item's result cell says, uncut, after its position: its retry
    schedule or its error (None: neither, nothing to add to its row)."""
    said = retry_schedule(item, retries, now)
    if said is None and item.error and item.status is not ItemStatus.SUCCEEDED:
        said = Text(one_line(item.error, 400), style=STYLES[ERROR])
    if said is None:
        return None
    return Text.assemble((f"item {item.label}: ", STYLES[NOTE]), said)


def item_row(
    item: BatchItem,
    now: datetime,
    retries: int = 0,
    *,
    keyed: bool = False,
    stages: Sequence[str] = (),
) -> tuple[Text, ...]:
    """An item's cells, one per column of `COLUMNS` (`retries`: the batch's retry budget,
    for a waiting retry's 'retry 2/3 in 12s'; `keyed`: with the key column of `columns`;
    `stages`: a pipeline's stage names, for a running item's '▸ render 2/4')."""
    running = item.status is ItemStatus.RUNNING
    fraction = 1.0 if item.status is ItemStatus.SUCCEEDED else item.progress
    key = (display.literal(item.key or "", 80),) if keyed else ()
    return (
        display.item_status(item),
        Text(item.label),
        *key,
        Text(str(item.tries)),
        display.bar(fraction, 4) if (running or item.progress) else Text(""),
        Text(seconds(took) if (took := display.item_seconds(item, now)) else ""),
        display.literal(item.content),
        retry_schedule(item, retries, now) or display.item_result(item, stages=stages),
    )
