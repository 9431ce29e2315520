"""The first screen: every batch, its status and progress, live; the keys to act on them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input, Static

from ...core.actions import allowed
from ...core.states import BatchStatus
from ...core.summary import BatchSummary
from ...core.textsafe import one_line
from .. import list_display, marks
from ..flows import batches, runs
from ..flows.bulk import BULK_ACTIONS, act_on_many
from ..key_order import after_keys_in_flight
from ..list_display import SORTS
from ..messages import ListChanged, RunEnded
from ..widgets.app_header import app_header
from ..widgets.fitted_table import FittedTable
from .base import AppScreen

if TYPE_CHECKING:
    from ...core.models import Batch

EMPTY_HELP = """\
No batches yet. A batch is one shared config plus a list of items,
one prompt or topic each, all generated the same way.

  n   create a batch and add your items
  e   create the example "Space Facts" (three items, ready to lock)
  E   create a narrated example: a voice, captions, four stages
  ?   help: every key, and how batches work
  q   quit"""

LIST_ACTIONS: dict[str, tuple[str, ...]] = {
    "open": (),
    "duplicate": (),
    "save_template": (),
    "lock": ("lock", "unlock"),
    "unlock_failed": ("unlock",),
    "start": ("start",),
    "retry": ("retry",),
    "rerun": ("rerun",),
    "cancel": ("cancel",),
    "delete": ("delete",),
    "mark": (),
}
"""Each key action of the list, and the batch actions (`core.actions`) that allow it (any of
them; `open` needs only a selected batch)."""

BULK = frozenset(BULK_ACTIONS)
"""The list's actions that act on every marked batch when some are marked."""


FIRST_FRAME_ROWS = 200
"""Batches the first frame is drawn from (more than any terminal shows at once)."""


class BatchListScreen(AppScreen):
    """All batches; `enter` opens one (editor while editable, progress once started)."""

    HELP_TITLE = "batch list"
    AGE_REFRESH = 20.0
    """Seconds between redraws of every row, so that '1m ago' becomes '2m ago' unprompted."""
    AUTO_FOCUS = "#batches"
    BINDINGS = [
        Binding("n", "new", "New", tooltip="Create a batch (name and platform)"),
        Binding(
            "enter",
            "open",
            "Open",
            priority=True,
            tooltip="Open: the editor for DRAFT/LOCKED, live progress otherwise",
        ),
        Binding(
            "l",
            "lock",
            "Lock/unlock",
            tooltip="Lock a DRAFT (validates); unlock a LOCKED or FAILED one",
        ),
        # The same key on a FAILED batch, kept out of its full footer (in the palette; the
        # help says it on the line above: one description, one line).
        Binding(
            "l",
            "unlock_failed",
            "Lock/unlock",
            show=False,
            tooltip="Unlock a FAILED batch (DRAFT again) to fix its config",
        ),
        Binding("s", "start", "Start", tooltip="Start a LOCKED batch"),
        Binding("r", "retry", "Retry", tooltip="Retry only the items that did not succeed"),
        Binding(
            "R",
            "rerun",
            "Again",
            tooltip="Run every item again, succeeded ones too (asks first)",
        ),
        Binding("c", "cancel", "Cancel", tooltip="Cancel a running batch"),
        Binding("x", "delete", "Delete", tooltip="Delete a batch (asks first; files are kept)"),
        Binding(
            "e",
            "example_shown",
            "Example",
            tooltip='The example "Space Facts" (three items); E: a narrated one',
        ),
        *marks.mark_bindings("r R c x D", "batch shown"),
        Binding(
            "o",
            "sort",
            "Sort",
            tooltip="Sort: oldest, newest, name, status, last change; O reverses",
        ),
        Binding(
            "O",
            "reverse_sort",
            "Sort",  # help shows one line per word: this key is in o's
            show=False,
            tooltip="Reverse the sort order",
        ),
        Binding(
            "T",
            "save_template",
            "Save as template",
            show=False,
            tooltip="Save the selected batch's config and items as a template",
        ),
        Binding(
            "Q",
            "queue",
            "Queue",
            show=False,
            tooltip="This host's queue: who runs in which slot, who waits",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            show=False,
            tooltip="Filter by name or status; escape clears",
        ),
        Binding(
            "e",
            "example",
            "Example",
            show=False,
            tooltip='The example "Space Facts" (three items); E: a narrated one',
        ),
        Binding(
            "E",
            "narrated_example",
            "Example",  # help shows one line per word: this key is in e's
            show=False,
            tooltip='Create "Ocean Facts": narrated Shorts (a voice, captions, loudness)',
        ),
        Binding(
            "D",
            "duplicate",
            "Duplicate",
            show=False,
            tooltip="New batch from this one: its config and items (asks a name)",
        ),
        Binding("escape", "clear_filter", "", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield app_header()
        # In the flow under the header, one line (docked, it covered the header, which says
        # the filter is on).
        yield Input(
            placeholder="filter: name or status",
            id="filter",
            classes="hidden",
            disabled=True,
            compact=True,
        )
        yield FittedTable(list_display.COLUMNS, id="batches")
        yield Static(Text(EMPTY_HELP), id="empty", classes="hidden")
        # Compact: a space less per key, so the keys used most fit 80 columns.
        # The palette's key is in help (`?`): its place goes to the list's own keys.
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sort = SORTS[0]
        self.reverse = False
        """Whether the sort runs the other way round (`O`)."""
        self.marked: set[str] = set()
        """The marked batches (ids): r R c x D act on them all while there are any."""
        self._filter = ""
        self._show_title()
        self._batches: dict[str, BatchSummary] = {}
        self._loaded = False
        self.checked = False
        """Whether the list has been read in full (not only from the index) at least once."""
        self.bt.watcher.follow_list(self)  # every change, as `ListChanged`
        # The "Changed" column ages even when nothing happens (a redraw, not a read).
        self.set_interval(self.AGE_REFRESH, self._render_rows)

    def on_unmount(self) -> None:
        self.bt.watcher.forget(self)

    def on_screen_resume(self) -> None:
        if not self._loaded:
            self._loaded = True
            # The first load: the index as it stands draws the first frame, and right after
            # it the list is checked against every batch file (a running batch's latest
            # progress, a change the index has not caught up with).
            self.reload(quick=True)
            return
        self.reload()

    @property
    def table(self) -> FittedTable:
        return self.query_one("#batches", FittedTable)

    # ------------------------------------------------------------ data → rows

    @on(ListChanged)
    def _list_changed(self, message: ListChanged) -> None:
        self.show_batches(message.summaries)

    def reload(self, *, quick: bool = False) -> None:
        """Read every batch and show them (after an action here; changes made anywhere come
        as `ListChanged`); `quick`: as the index has them, unchecked (for the first frame:
        the watcher's first `ListChanged` checks them against every batch file)."""
        read: Callable[[], list[BatchSummary]]
        if quick:  # the first screenful is all a first frame shows (the rest follow)
            read = partial(self.bt.service.indexed_summaries, FIRST_FRAME_ROWS)
        else:
            read = self.bt.service.summaries
        summaries = self.bt.safe(read)  # no models needed
        if summaries is not None:
            self.show_batches(summaries, checked=not quick)

    def show_batches(self, summaries: list[BatchSummary], *, checked: bool = True) -> None:
        """Show these batches (keeps the cursor on the same batch); only rows whose batch
        changed are redrawn. `checked`: read from the batch files, not the index alone."""
        before = self._batches
        self._batches = {s.id: s for s in summaries}
        if self.marked - self._batches.keys():  # a marked batch is gone (deleted anywhere)
            self.marked &= self._batches.keys()
            self._show_title()
        self.checked = self.checked or checked
        self._render_rows(before)
        self.refresh_bindings()

    def _show_title(self) -> None:
        """The sub-title says how the list is sorted, how many batches are marked and the
        filter (none of them is ever silent)."""
        title = f"batches · {list_display.sort_name(self.sort, self.reverse)}"
        title += marks.marked_note(self.marked)
        if self._filter:
            title += f" · filter '{one_line(self._filter, 20)}' (esc clears)"
        self.sub_title = title

    def _visible(self) -> list[BatchSummary]:
        return list_display.visible(
            self._batches.values(), self.sort, self._filter, reverse=self.reverse
        )

    def _row(self, batch: BatchSummary) -> tuple[Text, ...]:
        return list_display.batch_row(batch, self.bt.clock(), marked=batch.id in self.marked)

    def _render_rows(self, before: dict[str, BatchSummary] | None = None) -> None:
        """Show the visible batches; with `before` (what was shown), when the same rows stay
        in the same order only the changed ones are redrawn (with 5,000 batches, making every
        row again on each change of a running batch cost ~75 ms)."""
        visible = self._visible()
        empty = not visible
        message = self.query_one("#empty", Static)
        message.set_class(not empty, "hidden")
        self.table.set_class(empty, "hidden")
        if empty:
            message.update(
                Text(
                    f"No batch matches '{self._filter}' ({len(self._batches)} in all). "
                    "escape clears the filter; / changes it."
                )
                if self._batches
                else Text(EMPTY_HELP)
            )
        if before is not None and self.table.has_keys([b.id for b in visible]):
            for batch in visible:
                if before.get(batch.id) != batch:
                    self.table.update_row(batch.id, self._row(batch))
            return
        self.table.sync([(batch.id, partial(self._row, batch)) for batch in visible])

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        self.reload()

    # ---------------------------------------------------------------- actions

    def selected_id(self) -> str | None:
        """The batch under the cursor, if any."""
        return self.table.selected_key()

    def selected(self) -> BatchSummary | None:
        batch_id = self.selected_id()
        return self._batches.get(batch_id) if batch_id else None

    def select(self, batch_id: str) -> None:
        """Move the cursor to a batch (after creating it, say)."""
        self.reload()
        self.table.select_key(batch_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the selected batch allows (the footer stays short and true)."""
        if action == "example_shown":  # in the footer only while the list is empty
            return not self._batches
        if action == "example":  # the same key, not in the footer: the list has batches
            return bool(self._batches)
        if action in ("mark_all", "sort", "reverse_sort"):  # nothing to mark or sort yet
            return bool(self._batches)
        if action in BULK and self.marked:
            # On the marked batches: offered when one of them allows it (the others are
            # explained when it is done).
            return self._some_marked_allow(action)
        if action not in LIST_ACTIONS:
            return True
        batch = self.selected()
        if batch is None:
            return False
        needs = LIST_ACTIONS[action]
        # `l` is "unlock_failed" on a FAILED batch (out of its full footer), "lock" otherwise.
        if action in ("lock", "unlock_failed") and (action == "unlock_failed") != (
            batch.status is BatchStatus.FAILED
        ):
            return False
        return not needs or any(allowed(needed, batch.status) for needed in needs)

    def _some_marked_allow(self, action: str) -> bool:
        needs = LIST_ACTIONS.get(action, ())
        statuses = {self._batches[i].status for i in self.marked if i in self._batches}
        return not needs or any(allowed(n, status) for n in needs for status in statuses)

    @on(FittedTable.RowHighlighted, "#batches")
    def _highlighted(self, event: FittedTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_new(self) -> None:
        batches.new_batch(self.bt)

    def action_example(self) -> None:
        batches.example_batch(self.bt)

    def action_example_shown(self) -> None:
        batches.example_batch(self.bt)

    def action_narrated_example(self) -> None:
        batches.example_batch(self.bt, narrated=True)

    def action_open(self) -> None:
        # A priority binding (the footer shows "⏎ Open" over the table's own enter) runs
        # before the keys of the same read (`jj⏎`) have moved the cursor: open after them.
        after_keys_in_flight(self.focused or self, self._open_selected)

    def _open_selected(self) -> None:
        if self.focused is self.query_one("#filter"):
            self.table.focus()
            return
        batch = self.selected()
        if batch is not None:
            self.bt.open_batch(batch.id)

    def action_lock(self) -> None:
        batch = self.selected()
        if batch is None:
            return
        if batch.status is BatchStatus.LOCKED:
            batches.unlock(self.bt, batch.id)
        else:
            batches.lock(self.bt, batch.id)
        self.reload()

    def action_unlock_failed(self) -> None:
        batch = self.selected()
        if batch is not None:
            batches.unlock(self.bt, batch.id)
            self.reload()

    def action_start(self) -> None:
        batch = self.selected()
        if batch is not None:
            runs.request_start(self.bt, batch.id)

    def action_retry(self) -> None:
        if self._bulk("retry"):
            return
        batch = self.selected()
        if batch is not None:
            runs.request_start(self.bt, batch.id, retry=True)

    def action_rerun(self) -> None:
        if self._bulk("rerun"):
            return
        batch = self.selected()
        if batch is not None:
            act_on_many(self.bt, [batch.id], "rerun", self.reload)

    def action_cancel(self) -> None:
        if self._bulk("cancel"):
            return
        batch = self._selected_batch()
        if batch is not None:
            runs.confirm_cancel(self.bt, batch)

    def action_delete(self) -> None:
        if self._bulk("delete"):
            return
        batch = self._selected_batch()
        if batch is not None:
            batches.confirm_delete(self.bt, batch)

    def action_queue(self) -> None:
        from .queue import QueueScreen

        self.app.push_screen(QueueScreen())

    def action_duplicate(self) -> None:
        if self._bulk("duplicate"):
            return
        batch = self.selected()
        if batch is not None:
            batches.duplicate(self.bt, batch.id, batch.name)

    def _bulk(self, action: str) -> bool:
        """With batches marked, do `action` to all of them (in the list's order) and say
        so; False when none is marked (the action is the selected batch's)."""
        if not self.marked:
            return False
        every = list_display.visible(self._batches.values(), self.sort, "", reverse=self.reverse)
        order = [batch.id for batch in every]
        ids = [batch_id for batch_id in order if batch_id in self.marked]
        act_on_many(self.bt, ids, action, self._bulk_done)
        return True

    def _bulk_done(self) -> None:
        """After a bulk action: the marks have done their job."""
        self.marked.clear()
        self._show_title()
        self.reload()
        self._render_all()

    # ------------------------------------------------------------------ marks

    def action_mark(self) -> None:
        """Mark or unmark the batch under the cursor, and move down (a run of rows is
        marked by holding space)."""
        batch_id = self.selected_id()
        if batch_id is None:
            return
        self.marked ^= {batch_id}
        self._mark_changed([batch_id])
        self.table.action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark every batch shown; when all are marked already, clear the marks."""
        shown = [batch.id for batch in self._visible()]
        changed = set(shown) | self.marked
        self.marked = marks.toggle_all(self.marked, shown)
        self._mark_changed(sorted(changed))

    def _mark_changed(self, ids: list[str]) -> None:
        for batch_id in ids:
            batch = self._batches.get(batch_id)
            if batch is not None:
                self.table.update_row(batch_id, self._row(batch))
        self._show_title()
        self.refresh_bindings()

    def _render_all(self) -> None:
        """Redraw every row (the marks changed)."""
        for batch in self._visible():
            self.table.update_row(batch.id, self._row(batch))

    # ------------------------------------------------------------------- sort

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.reverse = False
        self._sorted()

    def action_reverse_sort(self) -> None:
        self.reverse = not self.reverse
        self._sorted()

    def _sorted(self) -> None:
        self._show_title()
        self._render_rows()
        self.notify(
            f"sorted: {list_display.sort_name(self.sort, self.reverse)}", timeout=2, markup=False
        )

    def action_save_template(self) -> None:
        batch = self._selected_batch()
        if batch is not None:
            batches.save_as_template(self.bt, batch)

    def _selected_batch(self) -> Batch | None:
        """The selected batch in full (the list only holds summaries)."""
        summary = self.selected()
        return self.bt.batch(summary.id) if summary is not None else None

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("hidden")
        box.disabled = False
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("hidden") and not self._filter:
            if self.marked:  # escape with no filter clears the marks
                self._clear_marks()
            return
        box.value = ""
        box.add_class("hidden")
        box.disabled = True
        self._filter = ""
        self._show_title()
        self._render_rows()
        self.table.focus()

    def _clear_marks(self) -> None:
        ids = sorted(self.marked)
        self.marked.clear()
        self._mark_changed(ids)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter = event.value.strip()
        self._show_title()
        self._render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.table.focus()
