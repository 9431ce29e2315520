"""Live progress of one batch: overall bar, counts, timing, a row per item, the log tail.

Runs belong to runner processes, never to this app: the app's watcher follows the batch
through the service and says each change (`BatchChanged`); the screen redraws only the rows of
items that changed.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from ...core.actions import allowed
from ...core.config_text import value_of
from ...core.errors import BatchtuiError
from ...core.models import Batch, BatchItem, BatchStatus, ItemStatus
from ...core.pausing import pause_meaning, pause_word
from ...core.review import rejected_items
from ...core.states import DID_NOT_SUCCEED, TERMINAL_ITEM, Phase, phase
from ...core.textsafe import one_line
from .. import desktop, marks, run_display
from ..flows import review, runs
from ..key_order import after_keys_in_flight
from ..messages import BatchChanged, RunEnded
from ..widgets.app_header import app_header
from ..widgets.fitted_table import Column, FittedTable
from ..widgets.log_tail import LogTail
from ..widgets.run_bar import RunBar
from .base import AppScreen
from .item_detail import ItemDetailScreen
from .log_view import LogScreen

FILTERS = {"all": "all items", "failed": "failed only", "outputs": "outputs only"}

PROGRESS_ACTIONS = {
    "retry": "retry",
    "cancel": "cancel",
    "concurrency": "concurrency",
    "priority": "priority",
    "rerun_item": "rerun",
    "toggle_pause": "pause",
    "confirm_forecast": "confirm",
    "approve": "review",
    "reject": "review",
}
"""Each key action of the screen, and the batch action (`core.actions`) that decides it."""


class ProgressScreen(AppScreen):
    """One batch, live."""

    HELP_TITLE = "live progress"
    DEFAULT_CSS = """
    ProgressScreen #item-result { height: auto; max-height: 3; padding: 0 1; }
    """
    BINDINGS = [
        Binding("r", "retry", "Retry", tooltip="Run again only what did not succeed"),
        Binding("c", "cancel", "Cancel", tooltip="Cancel the running batch (asks first)"),
        Binding(
            "p",
            "toggle_pause(False)",
            "Pause",
            tooltip="Pause: no new item starts (again: resume); P freezes too",
        ),
        Binding(
            "P",
            "toggle_pause(True)",
            "Pause",  # help shows one line per word: this key is in p's
            show=False,
            tooltip="Pause now: also freeze the running items (again: resume)",
        ),
        Binding(
            "plus,equals_sign",
            "concurrency(1)",
            "More",
            key_display="+",
            tooltip="Concurrency +1: run one more item at once",
        ),
        Binding(
            "minus",
            "concurrency(-1)",
            "Fewer",
            key_display="-",
            tooltip="Concurrency -1: run one fewer item at once",
        ),
        Binding(
            "right_square_bracket",
            "priority(1)",
            "Priority",
            key_display="]",
            show=False,
            tooltip="Priority on this host: ] up, [ down (higher: served first)",
        ),
        Binding(
            "left_square_bracket",
            "priority(-1)",
            "Priority",  # help shows one line per word: this key is in ]'s
            key_display="[",
            show=False,
            tooltip="Priority -1 on this host",
        ),
        Binding(
            "A",
            "confirm_forecast",
            "Accept forecast",
            tooltip="Yes to the canary's forecast of time and cost: the other items start",
        ),
        Binding(
            "N",
            "news",
            "News",
            show=False,
            tooltip="Who hears of this batch's runs: webhooks, notifications, the on_end hook",
        ),
        Binding("f", "filter('failed')", "Failed", tooltip="Show failed items only (again: all)"),
        Binding("o", "filter('outputs')", "Outputs", tooltip="Show outputs only (again: all)"),
        Binding(
            "enter",
            "detail",
            "Detail",
            priority=True,
            tooltip="The selected item in full: error, times, log",
        ),
        Binding("escape", "back", "Back", tooltip="Back (the run goes on)"),
        Binding(
            "w",
            "wrap_log",
            "Log",  # help shows one line per word: this key is in L's
            show=False,
            tooltip="Wrap the log pane's long lines (again: scroll sideways)",
        ),
        Binding(
            "slash",
            "search_log",
            "Log",  # help shows one line per word: this key is in L's
            key_display="/",
            show=False,
            tooltip="Search the selected item's log, full screen",
        ),
        Binding(
            "L",
            "full_log",
            "Log",
            show=False,
            tooltip="The selected item's whole log, full screen, following (/ searches it; "
            "w wraps the pane's long lines, again: sideways)",
        ),
        Binding(
            "R",
            "rerun_item",
            "Run again",
            show=False,
            tooltip="Run the selected item again, or the ones marked with space (* or ctrl+a: "
            "all), succeeded ones too (asks first)",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Run again",  # help shows one line per word: marking is for R, in its line
            show=False,
            tooltip="Mark or unmark the item (* or ctrl+a: all; R runs the marked again)",
        ),
        Binding(
            "asterisk,ctrl+a",
            "mark_all",
            "Run again",  # help shows one line per word: marking is for R, in its line
            key_display="*",
            show=False,
            tooltip="Mark every item shown (again: clear the marks)",
        ),
        Binding(
            "v",
            "contact_sheet",
            "Pictures",
            show=False,  # the footer is full at 80 columns: the COMPLETE line says it
            tooltip="Every output as a picture; Q measures them (QA)",
        ),
        Binding(
            "Q",
            "qa",
            "Pictures",  # help shows one line per word: this key is in v's
            show=False,
            tooltip="QA: every output measured (black, frozen, loudness…) and the spread",
        ),
        Binding(
            "a",
            "approve",
            "Review",
            show=False,
            tooltip="a approves the output, x rejects it (marked items too)",
        ),
        Binding(
            "x",
            "reject",
            "Review",  # help shows one line per word: this key is in a's
            show=False,
            tooltip="Reject the output, with a note",
        ),
        Binding(
            "y",
            "copy_output",
            "Output",
            show=False,
            tooltip="Copy the output (or log) path; O opens its folder",
        ),
        Binding(
            "O",
            "open_folder",
            "Output",  # help shows one line per word: this key is in y's
            show=False,
            tooltip="Open the output folder (over SSH: copy its path instead)",
        ),
    ]

    def __init__(self, batch_id: str) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.current: Batch | None = None
        self.filter = "all"
        self._stamp: object = None
        self._index: dict[str, BatchItem] = {}
        self._bindings_for: tuple[BatchStatus, bool, bool] | None = None
        self._shown = -1
        self._columns: tuple[Column, ...] = run_display.COLUMNS
        """The item table's columns as last laid out (`#` as wide as the labels, a key's)."""
        self._searching: LogScreen | None = None
        """The log screen `/` opened, while keys typed for its search may still come here."""
        self.marked: set[str] = set()
        """Ids of the items marked with space (R runs them again)."""
        self._failed_ids: set[str] = set()
        """The items the "failed only" filter was turned on for: a retry of them (they turn
        PENDING, then RUNNING) stays in view instead of emptying the table."""

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static(id="run-head")
        yield RunBar(id="overall")
        yield Static(id="run-counts")
        yield Static(id="run-timing")
        yield FittedTable(run_display.COLUMNS, id="run-items")
        # The selected row's error (or retry schedule) in full: its cell is cut at 80 columns.
        yield Static(id="item-result")
        yield Static(id="log-title")
        yield LogTail(id="log")
        yield Static(id="next-step")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#run-items", FittedTable).focus()
        # A run in another process (a background runner) is followed by the app's watcher,
        # which says every change (`BatchChanged`); the clock ticks the running times on.
        self.bt.watcher.follow_batch(self, self.batch_id)
        self.set_interval(1.0, self._tick)
        self.set_interval(0.3, self._poll_log)

    # -------------------------------------------------------------- data in

    def on_unmount(self) -> None:
        self.bt.watcher.forget(self)

    def reload(self, stored: Batch | None = None) -> None:
        """Show the batch as stored (`stored`: as the watcher just read it)."""
        batch = stored if stored is not None else self.bt.batch(self.batch_id)
        if batch is None:
            return
        old = self.current
        if old is None or [it.id for it in old.items] != [it.id for it in batch.items]:
            self.show(batch)
            return
        # The same items: redraw the rows of those that changed only (a 10,000-item table
        # rebuilt on every flush of a run stalled keys).
        changed = [new.id for new, was in zip(batch.items, old.items, strict=True) if new != was]
        self.show(batch, changed)

    @on(BatchChanged)
    def _changed(self, message: BatchChanged) -> None:
        if message.batch_id == self.batch_id and not message.snapshot.deleted:
            self.reload(message.snapshot.batch)

    def _tick(self) -> None:
        if self.current is not None and self.current.status is BatchStatus.PROCESSING:
            self._render_summary()
            self._render_rows(only_running=True)
            self._show_selected_result()

    def _poll_log(self) -> None:
        self.query_one(LogTail).poll()

    @on(RunEnded)
    def _ended(self, message: RunEnded) -> None:
        if message.batch.id == self.batch_id:
            self.show(message.batch)

    # ----------------------------------------------------------------- view

    def show(self, batch: Batch, changed: Collection[str] | None = None) -> None:
        """Redraw what differs from the last batch shown; `changed` names the items that may
        differ (None: any of them)."""
        same = len(batch.items) == self._shown
        self.current = batch
        self.bt.watch_run(batch)  # its end is announced, on whatever screen is up by then
        if same:
            self._index = {item.id: item for item in batch.items}
        self._say_marks()
        self._render_summary()
        if same and changed is not None and self.filter == "all" and self._index:
            # Rows for the changed items only: a tick's cost follows what happened in it,
            # not the size of the batch (10,000 rows rebuilt 7 times a second stalled keys).
            table = self.query_one("#run-items", FittedTable)
            for item_id in changed:
                item = self._index.get(item_id)
                if item is not None:
                    table.update_row(item_id, self._row(item))
        else:
            self._render_rows()
        self._follow_selected_log()
        offers = (batch.status, bool(batch.awaiting_confirm), bool(rejected_items(batch.items)))
        if offers != self._bindings_for:  # what the keys offer depends on these alone
            self._bindings_for = offers
            self.refresh_bindings()  # re-laying the footer each tick cost more than the rows

    def _render_summary(self) -> None:
        batch = self.current
        assert batch is not None
        progress = batch.progress(self.bt.clock())
        self.query_one("#run-head", Static).update(run_display.head(batch))
        self.query_one("#overall", RunBar).show(progress, batch.started_at)
        self.query_one("#run-counts", Static).update(run_display.counts(progress))
        timing = run_display.timing(batch, progress)
        if self.filter != "all":
            timing += f" · showing {FILTERS[self.filter]}"
            if not self._visible():
                timing += f" (none yet; {self.filter[0]} shows all)"
        self.query_one("#run-timing", Static).update(Text(timing))
        self.query_one("#next-step", Static).update(run_display.next_step(batch))

    def _visible(self) -> list[BatchItem]:
        assert self.current is not None
        items = self.current.items
        if self.filter == "failed":
            return [
                item
                for item in items
                if item.status in DID_NOT_SUCCEED or item.id in self._failed_ids
            ]
        if self.filter == "outputs":
            return [item for item in items if item.output_path]
        return items

    def _row(self, item: BatchItem) -> tuple[Text, ...]:
        retries = self.current.config.retries if self.current is not None else 0
        spec = self._columns
        keyed = any(column.key == "key" for column in spec)
        stages = [s.name for s in (self.current.config.stages or [])] if self.current else []
        row = run_display.item_row(item, self.bt.clock(), retries, keyed=keyed, stages=stages)
        if item.id in self.marked:  # a mark the eye finds without colour: a leading '*'
            content = run_display.content_column(spec)
            row = (*row[:content], Text("* ", style="bold") + row[content], *row[content + 1 :])
        return row

    def _render_rows(self, *, only_running: bool = False) -> None:
        """Every visible row (`only_running`: those whose cells change with the clock)."""
        table = self.query_one("#run-items", FittedTable)
        if only_running:
            for item in self._visible():
                # Running times tick on, and so do the countdowns of waiting retries.
                if item.status is ItemStatus.RUNNING or phase(item) is Phase.RETRYING:
                    table.update_row(item.id, self._row(item))
            return
        assert self.current is not None
        self._columns = run_display.columns(self.current.items)  # labels, keys: as wide
        table.set_columns(self._columns)
        table.sync([(item.id, self._row(item)) for item in self._visible()])
        self._index = {item.id: item for item in self.current.items}
        self._shown = len(self.current.items)

    def selected_item_id(self) -> str | None:
        return self.query_one("#run-items", FittedTable).selected_key()

    def selected_item(self) -> BatchItem | None:
        item_id = self.selected_item_id()
        if item_id is None or self.current is None:
            return None
        try:
            return self.current.item(item_id)
        except KeyError:
            return None

    def _show_selected_result(self) -> None:
        """The selected item's error or retry schedule, whole (wrapped), under the table;
        nothing when it has neither."""
        item = self.selected_item()
        line = self.query_one("#item-result", Static)
        if item is None or self.current is None:
            line.display = False
            return
        text = run_display.full_result(item, self.current.config.retries, self.bt.clock())
        line.display = text is not None
        if text is not None:
            line.update(text)

    def _follow_selected_log(self) -> None:
        self._show_selected_result()
        item = self.selected_item()
        log = self.query_one(LogTail)
        title = self.query_one("#log-title", Static)
        if item is None:
            log.follow(None)
            title.update(Text("log: no item selected", style="dim"))
            return
        log.follow(item.log_path, ended=item.status in TERMINAL_ITEM)
        if item.log_path:
            name = os.path.basename(item.log_path)
            title.update(Text(f"log of item {item.label}: {one_line(name, 60)}", style="dim"))
        else:
            title.update(Text(f"log of item {item.label}: not started yet", style="dim"))

    @on(DataTable.RowHighlighted, "#run-items")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._follow_selected_log()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = PROGRESS_ACTIONS.get(action)
        if needs is None:
            return True
        if action == "confirm_forecast":  # only while the run waits for a yes
            return self.current is not None and bool(self.current.awaiting_confirm)
        if action == "retry" and self.current is not None and self._has_rejected():
            return allowed("rerun", self.current.status)  # r makes the rejected again
        return self.current is not None and allowed(needs, self.current.status)

    def _has_rejected(self) -> bool:
        assert self.current is not None
        return bool(rejected_items(self.current.items))

    # -------------------------------------------------------------- actions

    def action_retry(self) -> None:
        # What did not succeed goes first; once every item succeeded, r makes the rejected
        # outputs again (each a new take).
        stored = self.bt.batch(self.batch_id)
        if (
            stored is not None
            and not allowed("retry", stored.status)
            and rejected_items(stored.items)
        ):
            review.retake_rejected(self.bt, self.batch_id)
            return
        runs.request_start(self.bt, self.batch_id, retry=True)

    def _review_targets(self) -> list[str]:
        """The marked items, else the one under the cursor."""
        if self.marked and self.current is not None:
            return [item.id for item in self.current.items if item.id in self.marked]
        item_id = self.selected_item_id()
        return [item_id] if item_id is not None else []

    def action_contact_sheet(self) -> None:
        from .contact_sheet import ContactSheetScreen

        stored = self.bt.batch(self.batch_id)
        if stored is not None:
            self.app.push_screen(ContactSheetScreen(stored))

    def action_qa(self) -> None:
        from .qa_panel import QaPanel

        if self.current is not None:
            self.app.push_screen(QaPanel(self.batch_id, self.current.name))

    def action_approve(self) -> None:
        # After the keys of the same read (`G` then `a`) have moved the cursor.
        after_keys_in_flight(self.focused or self, self._approve)

    def _approve(self) -> None:
        targets = self._review_targets()
        if targets:
            review.approve(self.bt, self.batch_id, targets, then=self._reviewed)

    def action_reject(self) -> None:
        after_keys_in_flight(self.focused or self, self._reject)

    def _reject(self) -> None:
        targets = self._review_targets()
        if targets:
            review.reject(self.bt, self.batch_id, targets, then=self._reviewed)

    def _reviewed(self) -> None:
        batch = self.bt.batch(self.batch_id)
        self.marked = set()
        if batch is not None:
            self.show(batch, None)

    def action_confirm_forecast(self) -> None:
        batch = self.bt.safe(self.bt.service.confirm, self.batch_id)
        if batch is not None:
            self.notify("Yes to the forecast: the other items start")
            self.show(batch)

    def action_cancel(self) -> None:
        if self.current is not None:
            runs.confirm_cancel(self.bt, self.current)

    def action_toggle_pause(self, now: bool) -> None:
        # Decided from the batch as stored (this screen's copy may be a poll behind): two
        # quick presses pause and resume, and the screen shows what each one did.
        batch = self.bt.safe(self.bt.service.toggle_pause, self.batch_id, now=now, wait=False)
        if batch is not None:
            word = pause_word(batch.paused)
            self.notify(f"{word}: {pause_meaning(batch.paused)}" if word else "Resumed")
            self.show(batch)

    def action_concurrency(self, delta: int) -> None:
        if self.current is None:
            return
        # Counted from the stored value (this screen's copy may be a poll behind).
        change = self.bt.service.set_concurrency
        batch = self.bt.safe(change, self.batch_id, delta, relative=True)
        if batch is not None:
            value = batch.config.concurrency
            self.notify(f"Concurrency {value}: {'more' if delta > 0 else 'fewer'} items at once")
            self.show(batch)  # what is drawn is what the next poll compares with

    def action_priority(self, delta: int) -> None:
        if self.current is None:
            return
        change = self.bt.service.set_priority
        batch = self.bt.safe(change, self.batch_id, delta, relative=True)
        if batch is not None:
            self.notify(f"Priority {batch.priority or 0} on this host")
            self.show(batch)

    def action_news(self) -> None:
        """Who hears of the batch's runs, in a dialog: saved all at once, or nothing."""
        from .news_dialog import NEWS_LABELS, NewsDialog

        batch = self.current
        if batch is None:
            return
        service = self.bt.service

        def save(texts: dict[str, str]) -> str | None:
            fields: dict[str, object] = {}
            for field, text in texts.items():
                if text == dialog.before[field]:
                    continue
                try:
                    fields[field] = value_of(field, text)
                except ValueError as exc:
                    return f"{NEWS_LABELS[field]}: {exc}"
            try:
                service.update_config(batch.id, **fields)
            except BatchtuiError as exc:
                return str(exc).removeprefix("invalid config: ")
            return None

        def done(saved: bool | None) -> None:
            if saved:
                self.notify("saved who hears of its runs", timeout=2, markup=False)

        def test() -> str:
            try:
                answers, hook = service.notify_test(batch.id)
            except BatchtuiError as exc:
                return str(exc)
            if not answers:
                return "no webhook or notification target to test" + (
                    " (the on_end hook is not run by a test)" if hook else ""
                )
            return " · ".join(
                f"{a.target}: {'answered' if a.ok else 'no: ' + a.detail}" for a in answers
            )

        dialog = NewsDialog(batch.name, batch.config, save, test)
        self.app.push_screen(dialog, done)

    def action_filter(self, which: str) -> None:
        self.filter = "all" if self.filter == which else which
        self._failed_ids = set()
        if self.current is not None:
            if self.filter == "failed":
                self._failed_ids = {
                    item.id for item in self.current.items if item.status in DID_NOT_SUCCEED
                }
            self.show(self.current)

    def action_full_log(self, search: bool = False) -> None:
        item = self.selected_item()
        if item is not None:
            self.app.push_screen(LogScreen(self.batch_id, item, search=search))

    def action_search_log(self) -> None:
        self.action_full_log(search=True)
        if isinstance(self.app.screen, LogScreen):
            self._searching = self.app.screen

    @on(events.Key)
    async def _key_for_search(self, event: events.Key) -> None:
        """`/` opens the full log searching at once (not as a binding, which acts only after
        the keys of the same read reached this screen); those keys are the search box's."""
        if self._searching is not None and self.app.screen is self._searching:
            event.stop()
            event.prevent_default()
            await self._searching.type_into_search(event)
        elif event.key == "slash" and self.app.screen is self:
            event.stop()
            event.prevent_default()
            self.action_search_log()

    def on_screen_resume(self) -> None:
        self._searching = None

    def action_wrap_log(self) -> None:
        self.query_one(LogTail).action_toggle_wrap()

    def action_rerun_item(self) -> None:
        if self.current is None:
            return
        marked = [item for item in self.current.items if item.id in self.marked]
        if marked:
            runs.rerun_items(self.bt, self.current, marked, then=self._clear_marks)
            return
        item = self.selected_item()
        if item is not None:
            runs.rerun_items(self.bt, self.current, [item])

    def action_toggle_mark(self) -> None:
        item = self.selected_item()
        if item is None:
            return
        self.marked ^= {item.id}
        table = self.query_one("#run-items", FittedTable)
        table.update_row(item.id, self._row(item))
        table.action_cursor_down()
        self._say_marks()

    def action_mark_all(self) -> None:
        if self.current is None:
            return
        self.marked = marks.toggle_all(self.marked, (item.id for item in self._visible()))
        self.show(self.current)
        self._say_marks()

    def _clear_marks(self) -> None:
        self.marked = set()
        if self.current is not None:
            self.show(self.current)
        self._say_marks()

    def _say_marks(self) -> None:
        name = one_line(self.current.name, 40) if self.current is not None else ""
        self.sub_title = name + marks.marked_note(self.marked)

    def action_copy_output(self) -> None:
        item = self.selected_item()
        if item is None:
            return
        if item.output_path:
            desktop.copy_path(self.app, item.output_path, "output")
        elif item.log_path:
            desktop.copy_path(self.app, item.log_path, "log")
        else:
            self.notify("this item has no output or log yet", severity="warning")

    def action_open_folder(self) -> None:
        if self.current is None:
            return
        outputs = [item.output_path for item in self.current.items if item.output_path]
        if outputs:
            folder = str(Path(outputs[0]).parent)
        else:
            folder = str(self.bt.service.output_folder(self.current))
        if not os.path.isdir(folder):
            self.notify(f"no output folder yet ({one_line(folder, 50)})", severity="warning")
            return
        desktop.open_folder(self.app, folder)

    def action_detail(self) -> None:
        # A priority binding (the footer shows it) runs before the keys of the same read
        # (`G⏎`) have moved the cursor: show the detail after them.
        after_keys_in_flight(self.focused or self, self._show_detail)

    def _show_detail(self) -> None:
        item = self.selected_item()
        if item is not None and self.current is not None:
            self.app.push_screen(ItemDetailScreen(self.current, item))

    def action_back(self) -> None:
        if self.marked:  # escape clears the marks first, as in the list and the editor
            self._clear_marks()
            return
        self.dismiss()
