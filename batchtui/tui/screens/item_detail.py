"""One item in full: its content, status, times, output or whole error, and its log."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...core.item_vars import as_text
from ...core.models import Batch, BatchItem
from ...core.review import review_state
from ...core.states import TERMINAL_ITEM, BatchStatus, ItemStatus, Phase, phase
from ...core.symbols import seconds
from ...core.textsafe import inert
from ...service.item_files import item_address
from ...service.pictures import may_have_picture
from .. import display
from ..flows import review
from ..palette import ERROR, RETRY, STYLES
from ..widgets.log_search import LogSearch
from ..widgets.log_tail import LogTail
from ..widgets.picture import Picture


class ItemDetailScreen(ModalScreen[None]):
    """Everything known about one item; escape closes."""

    BINDINGS = [
        Binding("escape,q,enter", "close", "Close"),
        Binding("L,v", "full_log", "Full log", tooltip="The whole log, full screen, following"),
        Binding("o", "play", "Open video", tooltip="Play or download its video (batchtui web)"),
        Binding("a", "approve", "Approve", tooltip="Approve its output"),
        Binding("x", "reject", "Reject", tooltip="Reject its output, with a note"),
    ]

    def __init__(self, batch: Batch, item: BatchItem) -> None:
        super().__init__()
        self.current = batch
        self.item = item

    def compose(self) -> ComposeResult:
        item = self.item
        facts = Table(box=None, show_header=False, pad_edge=False, expand=True)
        facts.add_column(style="bold", no_wrap=True, width=10)
        facts.add_column(overflow="fold")
        facts.add_row("Status", display.item_status(item))
        if item.key:
            facts.add_row("Key", Text(inert(item.key)))
        for name, value in (item.vars or {}).items():  # whole here (cut in the tables)
            facts.add_row(Text(inert(name)), Text(inert(as_text(value))))
        tried = str(item.attempts)
        ran = sum(1 for record in (item.stages or {}).values() if record.attempts)
        if ran:  # every stage's attempt is one of the item's (a cached stage made none)
            tried += f" over {ran} stage{'s' * (ran != 1)}"
        facts.add_row("Attempts", tried)
        if item.cost is not None:  # every attempt's, retries and earlier runs included
            facts.add_row("Cost", f"{item.cost:.2f}")
        if item.stage is not None:
            facts.add_row("Stage", Text(inert(item.stage)))
        facts.add_row("Started", _when(item.started_at))
        facts.add_row("Finished", _when(item.finished_at))
        took = display.item_seconds(item, self.app.service.clock())  # type: ignore[attr-defined]
        facts.add_row("Took", seconds(took) if took is not None else "—")
        if item.worker or item.host:  # where the last attempt ran
            where = f"worker {item.worker} on {item.host}" if item.worker else str(item.host)
            facts.add_row("Ran on", Text(inert(where)))
        facts.add_row("Output", Text(inert(item.output_path or "—")))
        looked = review_state(item)
        if looked is not None:
            facts.add_row("Review", review_text(item, looked))
        if item.take:
            facts.add_row("Take", str(item.take))
        for take in item.takes or ():  # earlier, rejected takes: kept until one is approved
            why = f": {take.review.note}" if take.review and take.review.note else ""
            where = "let go" if take.gone else take.output
            facts.add_row(f"Take {take.take}", Text(inert(f"rejected{why} · {where}")))
        if item.error:
            facts.add_row("Error", Text(inert(item.error), style=STYLES[ERROR]))
        facts.add_row("Log", Text(inert(item.log_path or "not started yet")))
        if phase(item) is Phase.RETRYING:
            facts.add_row("Retry", Text(inert(item.waiting or ""), style=STYLES[RETRY]))
        for name, how in stage_lines(self.current, item):  # a pipeline's stages
            facts.add_row(Text(f"▸ {name}"), how)
        # Each attempt, when there was more than one: when, where, how it ended.
        if item.earlier_attempts():  # older than the history keeps: counted only
            facts.add_row("Earlier", Text(f"{item.earlier_attempts()} attempts, not kept"))
        for record in item.attempt_history()[-8:] if item.history else ():
            started = (
                record.started_at.astimezone().strftime("%H:%M:%S") if record.started_at else "—"
            )
            line = f"{record.status.value} at {started}"
            if record.stage:
                line += f" ({record.stage})"
            if record.worker:
                line += f" on {record.worker}"
            if record.cost is not None:
                line += f", cost {record.cost:.2f}"
            if record.error:
                line += f": {record.error}"
            facts.add_row(f"Attempt {record.attempt}", Text(inert(line)))
        with Vertical(classes="dialog detail"):
            yield Static(
                Text(f"Item {item.label} of {len(self.current.items)}", style="bold"),
                classes="dialog-title",
            )
            with Horizontal(id="detail-top"):
                with VerticalScroll(id="detail-facts"):
                    yield Static(Text(inert(item.content, keep_newlines=True)), id="detail-content")
                    yield Static(facts)
                if may_have_picture(item):  # what it looks like: its poster, a frame
                    yield Picture(id="detail-picture")
            # The log's end, where the error is; it has the focus, so ↑/↓/pgup scroll it.
            yield LogTail(id="detail-log")
            yield LogSearch("detail-log")
            yield Static(
                Text(
                    "↑↓←→ scroll · w wrap · / search · p pager · L full screen · esc closes",
                    style="dim",
                )
            )

    def on_mount(self) -> None:
        if may_have_picture(self.item):
            find = self.app.service.picture  # type: ignore[attr-defined]
            self.query_one(Picture).show(self.item, find)
        log = self.query_one(LogTail)
        log.follow(self.item.log_path, ended=self.item.status in TERMINAL_ITEM)
        log.focus()
        self.set_interval(0.3, log.poll)

    def action_approve(self) -> None:
        review.approve(self.app, self.current.id, [self.item.id], then=self.dismiss)  # type: ignore[arg-type]

    def action_reject(self) -> None:
        review.reject(self.app, self.current.id, [self.item.id], then=self.dismiss)  # type: ignore[arg-type]

    def action_full_log(self) -> None:
        from .log_view import LogScreen

        self.app.switch_screen(LogScreen(self.current.id, self.item))

    def action_play(self) -> None:
        """In a browser (`batchtui web`), open the item's page there: its video, its poster
        and their downloads, served by that server (same origin, so its cookie goes along)."""
        if not self.app.is_web:
            where = self.item.output_path or "no output yet"
            self.notify(f"plays in a browser under batchtui web; here: {where}", markup=False)
            return
        self.app.open_url(item_address(self.current.id, self.item.id), new_tab=True)

    def action_close(self) -> None:
        self.dismiss(None)


def stage_lines(batch: Batch, item: BatchItem) -> list[tuple[str, Text]]:
    """One line per stage of a pipeline batch: how it went for the item (made in 12.3s in N
    attempts, from the cache, failed: why, running, not reached), its key's start and its
    output."""
    lines: list[tuple[str, Text]] = []
    for stage in batch.config.stages or []:
        record = (item.stages or {}).get(stage.name)
        if record is None:
            lines.append((stage.name, Text("not reached", style="dim")))
            continue
        if record.cached:
            said, style = "from the cache", ""
        elif record.status is ItemStatus.SUCCEEDED:
            tries = f" in {record.attempts} attempts" if record.attempts > 1 else ""
            said, style = f"made in {seconds(record.seconds)}{tries}", ""
        elif record.status is ItemStatus.FAILED:
            said, style = f"failed: {record.error or ''}", STYLES[ERROR]
        elif record.status is ItemStatus.PENDING:
            said, style = f"waits to be tried again: {record.error or ''}", STYLES[RETRY]
        else:
            said, style = "running", ""
        if record.key:
            said += f" · key {record.key[:12]}"
        if record.output:
            said += f" · {record.output}"
        lines.append((stage.name, Text(inert(str(said)), style=style)))
    return lines


def _when(moment) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "—"


def review_text(item: BatchItem, state: str) -> Text:
    """An item's review in words: approved / rejected: why / to review (a to look at)."""
    if state == "approved":
        return Text("✔ approved", style=STYLES[BatchStatus.COMPLETE])
    if state == "rejected":
        note = item.review.note if item.review is not None else None
        return Text(inert(f"✘ rejected: {note}" if note else "✘ rejected"), style=STYLES[ERROR])
    return Text("to review · a approve · x reject")
