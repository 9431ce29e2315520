"""How the CLI shows things: tables for people, JSON for scripts, live progress for runs."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, TextIO

from ..core.deferral import QUEUED_ICON
from ..core.events import (
    EngineEvent,
    ItemFinished,
    ItemPlaced,
    ItemProgress,
    ItemRetrying,
    ItemStarted,
    ItemWaiting,
)
from ..core.forecast import forecast_words, money_words
from ..core.pausing import PauseMode, pause_mark, pause_meaning
from ..core.review import ReviewCounts, review_state
from ..core.states import BatchStatus, ItemStatus, Phase, phase
from ..core.summary import BatchSummary
from ..core.symbols import ICONS, RETRY_ICON, WAITING_ICON, seconds
from ..core.textsafe import one_line
from ..service.views import batch_json, item_json, summary_json
from .plain_table import write_table

__all__ = ["batch_json", "item_json", "summary_json"]  # the CLI's --json shapes


def utcnow() -> datetime:
    return datetime.now(UTC)


if TYPE_CHECKING:  # rich loads when something is drawn with it, not for every command
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.text import Text

    from ..core.models import Batch, BatchConfig, BatchItem
    from ..core.run import Progress as BatchProgress

STATUS_ICONS = ICONS


def print_json(data: Any, out: TextIO | None = None) -> None:
    """Machine-readable output: one JSON document, UTF-8, stable key order."""
    out = out or sys.stdout
    out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def when(moment: datetime | None) -> str:
    """A local, minute-precision timestamp ('' for none)."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def status_text(status: str, paused: PauseMode | None = None) -> str:
    """A status as shown: icon, word, and the pause it is under (`core.pausing`)."""
    return f"{STATUS_ICONS.get(status, '?')} {status}{pause_mark(paused)}"


def shown_status_text(status: str, shown: str, paused: PauseMode | None = None) -> str:
    """A batch's icon and word as every view shows it (`shown`: its `shown_status`, which
    says QUEUED / SCHEDULED for a deferred start; `paused`: the pause it is under)."""
    return status_text(status, paused) if shown == status else f"{QUEUED_ICON} {shown}"


def console(out: TextIO | None = None) -> Console:
    """A rich console; when not a terminal, wide enough that pipes and logs never wrap."""
    from rich.console import Console

    out = out or sys.stdout
    width = None if out.isatty() else 200
    return Console(file=out, highlight=False, width=width, soft_wrap=not out.isatty())


def write_batches_table(summaries: list[BatchSummary], out: IO[str]) -> None:
    """Batches as an aligned table, one line each."""
    reviewed = any(s.review for s in summaries)  # a column once a batch was reviewed
    rows = [
        (
            s.id,
            s.name,
            shown_status_text(s.status, s.shown_status, s.paused),
            f"{s.succeeded}/{s.total}",
            *((ReviewCounts(*s.review).words() if s.review else "",) if reviewed else ()),
            s.platform,
            when(s.updated_at),
        )
        for s in summaries
    ]
    headers = ("ID", "NAME", "STATUS", "ITEMS", *(("REVIEW",) if reviewed else ()))
    headers += ("PLATFORM", "UPDATED")
    write_table(out, headers, rows, flexible=1, right=frozenset({3}), cap=40)


def write_items_table(items: list[BatchItem], out: IO[str]) -> None:
    """Items as an aligned table (fast for tens of thousands: no per-cell layout)."""
    farm = any(item.worker for item in items)  # a render-farm run says where each item ran
    keyed = any(item.key for item in items)  # items with keys show them
    costs = any(item.cost is not None for item in items)  # what each spent, once one did
    reviewed = any(item.review is not None for item in items)  # once one was looked at
    rows = []
    for item in items:
        waiting = _waits(item)
        state = _state(item)
        result = (_waiting(item) if waiting else item.error or item.output_path) or ""
        took = seconds(item.duration_seconds) if item.started_at else ""
        row = [item.label, *((item.key or "",) if keyed else ()), state, str(item.tries)]
        row += [item.content, took]
        if costs:
            row.append(f"{item.cost:.2f}" if item.cost is not None else "")
        if farm:
            row.append(item.worker or "")
        if reviewed:
            row.append(_review_cell(item))
        rows.append((*row, result))
    headers = (
        "#",
        *(("KEY",) if keyed else ()),
        "STATUS",
        "TRY",
        "CONTENT",
        "TIME",
        *(("COST",) if costs else ()),
        *(("WORKER",) if farm else ()),
        *(("REVIEW",) if reviewed else ()),
        "RESULT",
    )
    shift = int(keyed)
    write_table(
        out, headers, rows, flexible=3 + shift, right=frozenset({0, 2 + shift, 4 + shift}), cap=80
    )


def _review_cell(item: BatchItem) -> str:
    """An item's review, in a table: approved / rejected: note / to review (or nothing)."""
    state = review_state(item)
    if state is None:
        return ""
    if state == "rejected" and item.review is not None and item.review.note:
        return f"rejected: {one_line(item.review.note, 30)}"
    return state.replace("_", " ")


def _waits(item: BatchItem) -> bool:
    """Whether the item waits for something (a slot, or its retry's time)."""
    return phase(item) in (Phase.WAITING, Phase.RETRYING)


def _state(item: BatchItem) -> str:
    """An item's status as a run's lines show it: a PENDING item may be waiting for a slot
    or to retry."""
    waits = phase(item)
    if waits is Phase.RETRYING:
        return f"{RETRY_ICON} RETRY"
    if waits is Phase.WAITING:
        return f"{WAITING_ICON} WAITING"
    return status_text(item.status)


def _waiting(item: BatchItem) -> str:
    """What a waiting item waits for (a retry says after what)."""
    waiting = item.waiting or ""
    if item.retry_at is not None and item.error:
        waiting += f", after: {item.error}"
    return waiting


def show_batch(batch: Batch, out: IO[str]) -> None:
    """The human view of one batch: header, config, progress, items (plain text, every
    user-given string inert: rich is not even imported, a tenth of `show`'s time)."""
    config = batch.config
    lines = [
        f"{one_line(batch.name)}  ({batch.id})",
        f"status    {shown_status_text(batch.status, batch.shown_status, batch.pause)}",
        f"config    {config.platform} {config.width}x{config.height}, {config.duration:g}s "
        f"@ {config.fps}fps, {_made_by(config)}, concurrency "
        f"{config.concurrency}, max {config.max_items} items"
        + (f", {config.variants} variants of each" if config.variants > 1 else ""),
    ]
    waiter = batch.deferred.waiter if batch.deferred else None
    if waiter is not None:  # who starts it, and where that process logs
        lines.append(
            f"waiting   pid {waiter.pid} on {one_line(waiter.host)} starts it"
            + (f"; log {one_line(waiter.log_path)}" if waiter.log_path else "")
        )
    if batch.start_note:  # why a queued start did not happen
        lines.append(f"note      {one_line(batch.start_note)}")
    if config.stages:
        for stage in config.stages:
            how = stage.command if stage.command is not None else f"generator {stage.program}"
            where = f" [pool {stage.pool}]" if stage.pool else ""
            lines.append(f"stage     {stage.name}{where}: {one_line(how, 100)}")
    elif config.command:
        lines.append(f"command   {one_line(config.command)}")
    if config.var_defaults:
        lines.append(f"defaults  {one_line(vars_text(config.var_defaults))}")
    lines.append(f"output    {one_line(config.output_dir)}")
    if batch.config_hash:
        lines.append(f"locked    {when(batch.locked_at)}  hash {batch.config_hash}")
    if batch.pause is not None:
        lines.append(f"paused    {pause_meaning(batch.pause)} ({resume_hint(batch)})")
    if batch.runner is not None and batch.runner.cluster:
        lines.append(f"farm      items run on the Dask cluster {batch.runner.cluster}")
    lines.append(progress_line(batch.progress()))
    out.write("\n".join(lines) + "\n")
    if batch.items:
        out.write("\n")
        write_items_table(batch.items, out)
        # Once per series item: its variants share its variables.
        with_vars = [item for item in batch.items if item.vars and (item.variant or 1) == 1]
        if with_vars:
            out.write("\nvariables\n")
            for item in with_vars:
                number = str(item.series_number)
                out.write(f"  item {number:<4} {one_line(vars_text(item.vars or {}), 100)}\n")
        retried = [item for item in batch.items if item.history]
        if retried:
            out.write("\nattempts (oldest first)\n")
            for item in retried:
                for n, line in enumerate(history_lines(item)):
                    label = f"item {item.label}" if n == 0 else ""
                    out.write(f"  {label:<9} {line}\n")
    else:
        out.write(f'\nno items yet: batchtui add {batch.id} "a prompt" …\n')


def _made_by(config: BatchConfig) -> str:
    """'generator titlecard', or a pipeline's 'stages script → voice → card'."""
    if config.stages:
        return "stages " + " → ".join(stage.name for stage in config.stages)
    return f"generator {one_line(config.generator)}"


def vars_text(values: Mapping[str, object]) -> str:
    """Variables as `voice=alto seed=7` (a value with a space or quote in quotes)."""
    import shlex

    return " ".join(f"{name}={shlex.quote(str(value))}" for name, value in values.items())


def history_lines(item: BatchItem, limit: int = 6) -> list[str]:
    """An item's last attempts, one line each: '#1 FAILED 12:00:01 (2.0s, box1): exit 3'."""
    parts = []
    history = item.attempt_history()
    for record in history[-limit:]:
        text = f"#{record.attempt} {record.status.value}"
        if record.started_at is not None:
            text += f" {record.started_at.astimezone():%H:%M:%S}"
            if record.finished_at is not None:
                took = (record.finished_at - record.started_at).total_seconds()
                where = f", {record.worker}" if record.worker else ""
                text += f" ({seconds(max(0.0, took))}{where})"
        if record.cost is not None:
            text += f" cost {record.cost:.2f}"
        if record.error:
            text += f": {one_line(record.error, 80)}"
        parts.append(text)
    skipped = max(0, len(history) - limit) + item.earlier_attempts()  # older: counted only
    return ([f"… {skipped} earlier"] if skipped > 0 else []) + parts


def progress_line(progress: BatchProgress) -> str:
    """One line: status, counts, percent, elapsed and ETA."""
    counts = ", ".join(f"{n} {status.value.lower()}" for status, n in progress.counts.items() if n)
    line = (
        f"progress  {progress.percent:.0f}% — {progress.finished}/{progress.total} done"
        f" ({counts or 'no items'})"
    )
    if progress.elapsed is not None:
        line += f", elapsed {seconds(progress.elapsed)}"
    if progress.status is BatchStatus.PROCESSING:
        line += f", ETA {seconds(progress.eta)}"
    money = money_words(progress.cost, progress.budget)
    if money:
        line += f", {money}"
    if progress.forecast is not None and progress.status is BatchStatus.PROCESSING:
        line += f" — {forecast_words(progress.forecast)}"
        if progress.awaiting_confirm:
            line += f"; waiting for a yes: batchtui confirm {progress.batch_id}"
    if progress.paused is not None:
        line += f" —{pause_mark(progress.paused)}: {pause_meaning(progress.paused)}"
    if progress.review is not None:
        line += f" — {ReviewCounts(**progress.review).words()}"
    return line


def resume_hint(batch: Batch) -> str:
    """How to let a paused batch go on: its own pause, or the host's."""
    if batch.paused is None and batch.host_paused is not None:
        return "the host is paused; go on: batchtui resume --all"
    return f"go on: batchtui resume {batch.id}"


class RunDisplay:
    """Shows a headless run: a live bar on a terminal, one line per status change otherwise.

    Work per event is constant (an index, a running count), so a 10,000-item run prints as
    fast as a 10-item one; off a terminal, lines are plain text written straight out.
    """

    def __init__(self, batch: Batch, out: TextIO | None = None, *, live: bool | None = None):
        self.out = out or sys.stdout
        self.live = self.out.isatty() if live is None else live
        self.total = len(batch.items)
        self._progress: Progress | None = None
        self._overall = None
        self._tasks: dict[str, TaskID] = {}
        self._seen: dict[str, tuple[ItemStatus, float, str | None]] = {}
        self._source: Batch | None = None
        self._items: dict[str, BatchItem] = {}
        self._running: dict[str, float] = {}
        self._said_waiting: set[str] = set()
        """Items whose wait a plain line has said (a new place in line is not a new line)."""
        self._paused: PauseMode | None = None
        """The pause last said (a run found paused is said so at its first look)."""
        begun = batch.progress()
        self._done = begun.finished
        # The bar fills with successful work, as `progress` counts percent: a run that ends
        # PARTIAL never shows 100%; the description counts the items that finished.
        self._succeeded = begun.succeeded
        self._name = one_line(batch.name, 30)
        if self.live:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}", markup=False),  # names are never markup
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._overall = self._progress.add_task(
                self._overall_label(), total=self.total, completed=self._succeeded
            )

    def _overall_label(self) -> str:
        return f"{self._name} {self._done}/{self.total} finished"

    @functools.cached_property
    def console(self) -> Console:
        """A rich console on this display's stream (made on first use)."""
        return console(self.out)

    def __enter__(self) -> RunDisplay:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def on_event(self, event: EngineEvent, batch: Batch) -> None:
        """Engine listener: bars for the batch and each running item, a line per ending."""
        if batch is not self._source:  # the live batch object of the run: index it once
            self._source = batch
            self._items = {it.id: it for it in batch.items}
        self._note_pause(batch)
        item = self._items.get(event.item_id)
        if item is None:
            return
        if isinstance(event, ItemStarted):
            self._running[item.id] = 0.0
        elif isinstance(event, ItemProgress):
            if item.id in self._running:
                self._running[item.id] = event.fraction
        elif isinstance(event, ItemFinished):
            self._running.pop(item.id, None)
            self._done += 1
            self._succeeded += event.status is ItemStatus.SUCCEEDED
        elif isinstance(event, ItemRetrying):
            self._running.pop(item.id, None)
        if isinstance(event, ItemWaiting) and not event.detail:  # a pause took its turn back
            self._said_waiting.discard(item.id)
            task = self._tasks.pop(item.id, None)
            if task is not None and self._progress is not None:
                self._progress.remove_task(task)
            return
        if self._progress is None:
            if isinstance(event, ItemWaiting):
                if item.id in self._said_waiting:  # its place in line moved: not a new line
                    return
                self._said_waiting.add(item.id)
            elif isinstance(event, ItemStarted | ItemRetrying | ItemFinished):
                self._said_waiting.discard(item.id)
            if isinstance(event, ItemWaiting | ItemStarted | ItemRetrying | ItemFinished):
                self.out.write(self._plain(item) + "\n")
                self.out.flush()
            return
        assert self._overall is not None
        self._progress.update(
            self._overall,
            completed=self._succeeded + sum(self._running.values()),
            description=self._overall_label(),
        )
        if isinstance(event, ItemWaiting | ItemStarted):
            label = f"  {item.label:>3} {one_line(item.content, 26)}"
            if isinstance(event, ItemWaiting):  # a started one waits for a farm's worker
                what = "a worker" if item.status is ItemStatus.RUNNING else "a slot"
                label += f" {WAITING_ICON} waiting for {what}"
            task = self._tasks.get(item.id)
            if task is None:
                self._tasks[item.id] = self._progress.add_task(label, total=1.0)
            else:
                self._progress.update(task, description=label)
        elif isinstance(event, ItemPlaced) and item.id in self._tasks:
            label = f"  {item.label:>3} {one_line(item.content, 26)} on {event.worker}"
            self._progress.update(self._tasks[item.id], description=label)
        elif isinstance(event, ItemProgress) and item.id in self._tasks:
            self._progress.update(self._tasks[item.id], completed=event.fraction)
        elif isinstance(event, ItemFinished | ItemRetrying):
            task = self._tasks.pop(item.id, None)
            if task is not None:
                self._progress.remove_task(task)
            self._progress.console.print(self._line(item))

    def _note_pause(self, batch: Batch) -> None:
        """A line when the run is paused or goes on again (its own pause or the host's)."""
        if batch.pause == self._paused:
            return
        self._paused = batch.pause
        if batch.pause is not None:
            line = (
                f"{pause_mark(batch.pause).strip()}: {pause_meaning(batch.pause)} "
                f"({resume_hint(batch)})"
            )
        else:
            line = "▶ resumed: items start again"
        if self._progress is None:
            self.out.write(line + "\n")
            self.out.flush()
        else:
            from rich.text import Text

            self._progress.console.print(Text(line, style="yellow"))

    def show_snapshot(self, batch: Batch) -> None:
        """Show a batch read from the database (attach): what changed since the last one is
        replayed as the events a live run would have sent."""
        self._note_pause(batch)
        for item in batch.items:
            before = self._seen.get(item.id)
            now = (item.status, item.progress, item.waiting)
            if before == now:
                continue
            self._seen[item.id] = now
            if before is None and item.status is not ItemStatus.RUNNING and not item.waiting:
                continue  # the state found on attaching: the bars show it, no line per item
            if _waits(item):
                self.on_event(ItemWaiting(batch.id, item.id, item.waiting or ""), batch)
            elif item.status is ItemStatus.RUNNING:
                if before is None or before[0] is not ItemStatus.RUNNING:
                    self.on_event(
                        ItemStarted(
                            batch.id, item.id, item.attempts, item.started_at or utcnow(), "", ""
                        ),
                        batch,
                    )
                self.on_event(ItemProgress(batch.id, item.id, item.progress), batch)
            elif item.status is not ItemStatus.PENDING:
                finished = item.finished_at or utcnow()
                self.on_event(ItemFinished(batch.id, item.id, item.status, finished), batch)

    def _where(self, item: BatchItem) -> str:
        """Which item a line is about: '#2 of 5' (its position, not a count of done ones)."""
        width = len(str(self.total))
        return f"#{item.label:<{width}} of {self.total}"

    def _plain(self, item: BatchItem) -> str:
        state = _state(item)
        line = f"{self._where(item)} {state:<13} "
        line += one_line(item.content, 50)
        if _waits(item):
            return f"{line}  — {one_line(_waiting(item), 160)}"
        if item.status is ItemStatus.SUCCEEDED and item.output_path:
            line += f"  → {one_line(item.output_path)}"
        elif item.error:
            line += f"  — {one_line(item.error, 120)}"
        elif item.status is ItemStatus.RUNNING and item.stage:
            line += f"  — {item.stage}"
        return line

    def _line(self, item: BatchItem) -> Text:
        from rich.text import Text

        text = Text(f"{self._where(item)} {_state(item):<13} ")
        text.append(one_line(item.content, 50))
        if _waits(item):
            text.append(f"  — {one_line(_waiting(item), 160)}", style="yellow")
        elif item.status is ItemStatus.SUCCEEDED and item.output_path:
            text.append(f"  → {one_line(item.output_path)}")
        elif item.error:
            text.append(f"  — {one_line(item.error, 120)}", style="red")
        elif item.status is ItemStatus.RUNNING and item.stage:
            text.append(f"  — {item.stage}", style="dim")
        return text
