"""The item editor: a batch's items and its config, editable while DRAFT, read-only once LOCKED."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, Static, TextArea

from ...core.actions import allowed
from ...core.errors import BatchtuiError, ValidationError
from ...core.item_lines import item_lines
from ...core.models import Batch, BatchItem, BatchStatus
from ...core.problems import ProblemCode
from ...core.textsafe import one_line
from ...core.variants import series_items
from .. import display, item_columns, marks
from ..flows import batches, item_vars, items, runs
from ..messages import BatchChanged, RunEnded
from ..widgets.app_header import app_header
from ..widgets.config_form import FIELD_LABELS, ConfigForm
from ..widgets.fitted_table import Column, FittedTable
from ..widgets.item_input import ItemInput
from .base import AppScreen

NEW_ITEM_HINT = "type an item + enter · esc: done"
"""The box's hint while it has the focus: what is typed becomes an item."""
TABLE_HINT = "a: type an item · enter: edit it"
"""The box's hint while the item table has the focus: letters there are commands."""
MARK = item_columns.MARK
"""A marked item's mark (see `item_columns`)."""
ITEM_COLUMNS = (*item_columns.BASE_COLUMNS, item_columns.CONTENT)
"""The columns of a batch whose items have no key and no variables."""
UNDO_LEVELS = 50
"""Deletes `u` can undo, latest first (while the screen is open)."""

ITEM_KEYS = frozenset(
    {"add", "edit", "vars", "remove", "move", "import", "mark", "mark_all", "undo"}
)
"""Actions on the item list: not offered while a text field or config field has the focus
(typed letters are text there, and shift+arrows must not move items from a field)."""

EDITOR_ACTIONS = {
    "add": "edit",
    "edit": "edit",
    "vars": "edit",
    "remove": "edit",
    "move": "edit",
    "import": "edit",
    "mark": "edit",
    "mark_all": "edit",
    "undo": "edit",
    "lock": "lock",
    "unlock": "unlock",
    "start": "start",
}
"""Each key action of the editor, and the batch action (`core.actions`) that decides it."""


def counted(number: int) -> str:
    """'1 item', '3 items'."""
    return f"{number} item" if number == 1 else f"{number} items"


class ItemEditorScreen(AppScreen):
    """Edit one batch: items on the left, config on the right."""

    HELP_TITLE = "item editor"
    HELP_KEYS = (("tab", "To the config, where a field saves on enter or when left"),)
    """Keys the help lists that are no binding of this screen's."""
    BINDINGS = [
        Binding("a", "add", "Add", tooltip="Add items (type one, or paste several lines)"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected item in place"),
        Binding(
            "v",
            "vars",
            "Vars",
            tooltip="Edit the selected item's variables (name=value) and key",
        ),
        Binding(
            "d",
            "remove",
            "Delete",
            tooltip="Delete the selected item, or the marked ones (u undoes)",
        ),
        Binding(
            "u",
            "undo",
            "Undo",
            tooltip="Undo the last delete: the items come back where they were",
        ),
        *marks.mark_bindings("d and ⇧↑↓", "item"),
        Binding(
            "shift+up,K",
            "move(-1)",
            "Move",
            key_display="⇧↑↓",
            tooltip="Move the selected (or marked) items up; ⇧↓ or J: down",
        ),
        Binding(
            "shift+down,J",
            "move(1)",
            "Move",  # help shows one line per word: this key is in ⇧↑'s
            show=False,
            key_display="⇧↓",
            tooltip="Move the selected (or marked) items down",
        ),
        Binding("i", "import", "Import", tooltip="Import items from a text file (one a line)"),
        Binding(
            "S",
            "stages",
            "Stages",
            show=False,
            tooltip="The pipeline's stages, as TOML",
        ),
        Binding("l", "lock", "Lock", tooltip="Validate and lock the config (DRAFT → LOCKED)"),
        # `u` undoes a delete while the batch is a DRAFT; a LOCKED batch has no deletes to
        # undo, and there it unlocks (the key each state offers is in the footer).
        Binding("u", "unlock", "Unlock", tooltip="Unlock to edit again (LOCKED → DRAFT)"),
        Binding("s", "start", "Start", tooltip="Start the locked batch"),
        Binding(
            "escape",
            "back",
            "Back",
            tooltip="Back: from the box or config to the items, then to the list",
        ),
    ]

    def __init__(self, batch_id: str) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.current: Batch | None = None
        self._editing: str | None = None  # item id being edited in the input box
        self._editing_from = ""  # what the box showed when that edit began
        self._problems: list[str] = []
        self.marked: set[str] = set()
        """The marked items (ids): `d` and the moves act on them all while there are any."""
        self._columns: tuple[Column, ...] = ITEM_COLUMNS
        """The item table's columns as last laid out (a key and variable ones when used)."""
        self._undo: list[list[BatchItem]] = []
        """The items of each delete, as they were, the latest last (`u` puts them back)."""

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static(id="editor-head")
        with Horizontal(id="editor-body"):
            with Vertical(id="items-pane"):
                # Fitted: a long item ends in '…' within the pane (an auto-width column ran
                # off its edge, cut mid-word).
                yield FittedTable(ITEM_COLUMNS, id="items")
                # Not selected on focus: typing goes on from the end of an item being edited
                # or of a line typed before esc (selected, the first key replaced it all).
                yield ItemInput(
                    placeholder=NEW_ITEM_HINT,
                    id="item-input",
                    compact=True,
                    select_on_focus=False,
                )
            yield ConfigForm(self.bt.service, self.bt.service.generator_names(), id="config-pane")
        yield Static(id="problems", classes="hidden")
        # Compact, without the palette's key (it is in help, `?`): the item keys fit 80
        # columns, undo and marks included.
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.reload(fill_form=True)
        if self.editable and self.current is not None and not self.current.items:
            # A new or empty batch: its hint invites typing, so typing goes to the box (in the
            # table, letters are commands: `q` quit, `d` deleted).
            self.query_one("#item-input", ItemInput).focus()
        else:
            self.query_one("#items", DataTable).focus()
        if self.editable:  # a value the lock will refuse, said on opening as after a save
            found = self.bt.safe(self.bt.service.lock_problems, self.batch_id) or []
            problems: list[str] = [p for p in found if p.code is not ProblemCode.NO_ITEMS]
            self.show_problems(problems, "Lock will refuse", warning=True)
        self.bt.watcher.follow_batch(self, self.batch_id)

    def on_unmount(self) -> None:
        self.bt.watcher.forget(self)

    @on(BatchChanged)
    def _changed(self, message: BatchChanged) -> None:
        # A change made elsewhere (the CLI, another window) shows here: fields the user is not
        # editing take the stored values, so a later blur can never save a stale one back.
        if message.batch_id == self.batch_id and not message.snapshot.deleted:
            self.reload(stored=message.snapshot.batch)

    # ------------------------------------------------------------------ view

    @property
    def editable(self) -> bool:
        return self.current is not None and allowed("edit", self.current.status)

    @property
    def form(self) -> ConfigForm:
        return self.query_one(ConfigForm)

    def reload(self, *, fill_form: bool = False, stored: Batch | None = None) -> None:
        """Show the batch as stored (`stored`: as the watcher just read it); the form keeps
        what the user is editing unless `fill_form` (every box refilled)."""
        batch = stored if stored is not None else self.bt.batch(self.batch_id)
        if batch is None:
            return
        if batch == self.current and not fill_form:
            return  # the store changed elsewhere (another batch)
        if (
            stored is not None
            and self.current is not None
            and stored.updated_at < self.current.updated_at
        ):
            # The watcher's read from before a save of ours that was shown since: refilling
            # from it would put the old value back in the box (a clear then saved nothing).
            return
        self.current = batch
        if allowed("edit", batch.status):  # a deleted item is no longer marked
            self.marked &= {item.id for item in batch.items}
        else:  # locked (here, or elsewhere): marks have nothing left to act on
            self.marked.clear()
        self._show_title()
        self._render_head()
        self._render_items()
        self.form.show(batch, keep_edits=not fill_form)
        self.refresh_bindings()

    def _show_title(self) -> None:
        """The sub-title: the batch's name, and how many items are marked (never silent)."""
        assert self.current is not None
        title = one_line(self.current.name, 40)
        title += marks.marked_note(self.marked)
        self.sub_title = title

    def _render_head(self) -> None:
        batch = self.current
        assert batch is not None
        head = Text.assemble(
            display.status(batch.status),
            "  ",
            display.literal(batch.name, 36),
            f"   {len(series_items(batch))}/{batch.config.max_items} items",
        )
        if batch.config.variants > 1:  # the rows are its variants once it is locked
            head.append(f" × {batch.config.variants} variants")
        if batch.config_hash:
            head.append(f"   hash {batch.config_hash}", style="cyan")
        self.query_one("#editor-head", Static).update(head)

    def _render_items(self) -> None:
        batch = self.current
        assert batch is not None
        table = self.query_one("#items", FittedTable)
        cursor = table.cursor_row
        self._columns = item_columns.columns(batch.items)
        table.set_columns(self._columns, min_flex=item_columns.min_content(self._columns))
        table.sync([(item.id, self._row(item)) for item in batch.items])
        if batch.items and table.row_count:
            table.move_cursor(row=min(max(cursor, 0), len(batch.items) - 1))
        self._show_hint()

    def _row(self, item: BatchItem) -> tuple[Text, ...]:
        return item_columns.row(item, self._columns, marked=item.id in self.marked)

    def _show_hint(self) -> None:
        """The box's hint says what typing does now: where the focus is, and what the
        batch allows."""
        batch = self.current
        if batch is None:
            return
        box = self.query_one("#item-input", ItemInput)
        box.disabled = not self.editable
        full = len(batch.items) >= batch.config.max_items
        if not self.editable:
            box.placeholder = "locked: u unlocks to edit"
        elif full:
            box.placeholder = f"full at {batch.config.max_items}: raise Max items"
        elif self._editing is not None:
            return  # the edit's own hint stays
        elif self.focused is box:
            box.placeholder = NEW_ITEM_HINT
        else:
            box.placeholder = TABLE_HINT

    def show_problems(
        self, problems: list[str], title: str = "Cannot lock", *, warning: bool = False
    ) -> None:
        """Show problems under the panes, once each, every one whole (wrapped, not cut);
        cleared by the next success. `warning`: saved, but the lock will refuse."""
        self._problems = problems
        panel = self.query_one("#problems", Static)
        panel.set_class(warning, "warning")
        if not problems:
            panel.add_class("hidden")
            return
        text = Text(f"{title}:", style="bold")
        for problem in dict.fromkeys(problems):  # the same problem once
            text.append(f"\n • {one_line(problem, 500)}")
        panel.update(text)
        panel.remove_class("hidden")

    @on(RunEnded)
    def _ended(self, message: RunEnded) -> None:
        if message.batch.id == self.batch_id:
            self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ITEM_KEYS and (self._in_form() or self._typing()):
            return False  # the footer offers what the keys do here: typing, not moving items
        if action == "undo" and not self._undo:
            return False  # in the footer once there is a delete to undo
        needs = EDITOR_ACTIONS.get(action)
        if needs is None:
            return True
        return self.current is not None and allowed(needs, self.current.status)

    def _in_form(self) -> bool:
        focused = self.focused
        return focused is not None and focused.id is not None and focused.id.startswith("f-")

    def _typing(self) -> bool:
        """Whether a text field has the focus (the item box, a config box): keys are text."""
        return isinstance(self.focused, Input | TextArea)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._show_hint()
        self.refresh_bindings()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._show_hint()
        self.refresh_bindings()

    def selected_item_id(self) -> str | None:
        table = self.query_one("#items", DataTable)
        if self.current is None or not self.current.items or table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def targets(self) -> list[str]:
        """The items `d` and the moves act on: the marked ones (in list order), else the
        one under the cursor."""
        if self.current is None:
            return []
        if self.marked:
            return [item.id for item in self.current.items if item.id in self.marked]
        selected = self.selected_item_id()
        return [selected] if selected is not None else []

    # --------------------------------------------------------------- items

    def action_add(self) -> None:
        box = self.query_one("#item-input", ItemInput)
        if self._editing is not None:  # an edit left with tab: its text is not a new item
            self._editing = None
            box.value = ""
        self._render_items()
        box.focus()  # what was typed before esc is still there

    def action_edit(self) -> None:
        item_id = self.selected_item_id()
        if item_id is None or self.current is None:
            return
        item = self.current.item(item_id)
        self._editing = item_id
        box = self.query_one("#item-input", ItemInput)
        box.placeholder = f"item {item.label}: enter saves · esc cancels"
        box.value = item.content.replace("\n", " ")
        box.cursor_position = len(box.value)
        self._editing_from = box.value
        box.focus()

    def action_vars(self) -> None:
        """Edit the selected item's variables and key in a dialog."""
        item_id = self.selected_item_id()
        if item_id is None or self.current is None:
            return
        item_vars.edit_vars(self.bt, self.batch_id, self.current.item(item_id), self.reload)

    def action_remove(self) -> None:
        """Delete the marked items (or the selected one) at once; `u` brings them back, so
        nothing is asked."""
        ids = self.targets()
        if not ids:
            return
        removed = self.bt.safe(self.bt.service.remove_items, self.batch_id, ids)
        if not removed:
            return
        self._undo = [*self._undo, removed][-UNDO_LEVELS:]
        self.marked.clear()
        self.reload()
        self.notify(f"deleted {counted(len(removed))} · u: undo", timeout=4, markup=False)

    def action_undo(self) -> None:
        """Put the items of the last delete back where they were."""
        if not self._undo:
            return
        returning = self._undo[-1]
        restored = self.bt.safe(self.bt.service.restore_items, self.batch_id, returning)
        if not restored:
            return  # refused (said): the delete stays undoable
        self._undo.pop()
        self.reload()
        self._cursor_to(restored[0].id)
        left = f" · u: undo {len(self._undo)} more" if self._undo else ""
        self.notify(f"restored {counted(len(restored))}{left}", timeout=3, markup=False)

    def action_move(self, offset: int) -> None:
        ids = self.targets()
        if not ids:
            return
        selected = self.selected_item_id()
        moved = self.bt.safe(self.bt.service.move_items, self.batch_id, ids, offset)
        if moved is not None:
            self.reload()
            if selected is not None:
                self._cursor_to(selected)  # the cursor stays on its item, moved or not

    def _cursor_to(self, item_id: str) -> None:
        if self.current is None:
            return
        for row, item in enumerate(self.current.items):
            if item.id == item_id:
                self.query_one("#items", DataTable).move_cursor(row=row)
                return

    # ------------------------------------------------------------------ marks

    def action_mark(self) -> None:
        """Mark or unmark the item under the cursor, and move down (a run of items is marked
        by holding space)."""
        item_id = self.selected_item_id()
        if item_id is None:
            return
        self.marked ^= {item_id}
        self._marks_changed()
        self.query_one("#items", DataTable).action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark every item; when all are marked already, clear the marks."""
        if self.current is None:
            return
        every = {item.id for item in self.current.items}
        self.marked = marks.toggle_all(self.marked & every, every)
        self._marks_changed()

    def _marks_changed(self) -> None:
        if self.current is None:
            return
        table = self.query_one("#items", FittedTable)
        for item in self.current.items:
            table.update_row(item.id, self._row(item))
        self._show_title()
        self.refresh_bindings()

    def action_import(self) -> None:
        items.import_items(self.app, lambda contents, source: self._add_many(contents, source))

    def _add_many(self, contents: list[str], source: str = "paste") -> None:
        if not contents:
            self.notify("nothing to add", severity="warning")
            return
        added = self.bt.safe(self.bt.service.add_items, self.batch_id, contents)
        if added:
            self.notify(f"Added {counted(len(added))} from {one_line(source, 30)}", markup=False)
            self.reload()
            self.query_one("#items", DataTable).move_cursor(row=added[-1].position - 1)

    @on(ItemInput.LinesPasted)
    def _pasted(self, message: ItemInput.LinesPasted) -> None:
        self._add_many(message.lines)

    def on_paste(self, event: events.Paste) -> None:
        """A paste anywhere but the item box (the table has focus): its lines become items,
        as the hint promises, instead of being dropped."""
        if isinstance(self.focused, Input | TextArea):
            return  # the box, or a config field, takes its own paste
        event.stop()
        if self.current is None or self.current.status is not BatchStatus.DRAFT:
            self.notify("items can only be added to a DRAFT batch (u unlocks)", markup=False)
            return
        self._add_many(item_lines(event.text))

    @on(ItemInput.Entered)
    def _item_entered(self, event: ItemInput.Entered) -> None:
        """A line typed in the box (already emptied: keys typed after the enter are the next
        line). A blank line is no item (`core.item_lines`): a CR LF's second half, enter
        twice."""
        event.stop()
        box = event.item_input
        lines = item_lines(event.value)
        if self._editing is not None:
            if not lines:
                box.value = box.value or event.value
                self.notify("an item cannot be blank: esc keeps it, d deletes it", markup=False)
                return
            # Unchanged: nothing to save (the box shows a multi-line item on one line, and
            # the stored text may be newer than the box).
            content = lines[0]
            unchanged = content == self._editing_from
            edit = self.bt.service.edit_item
            if not unchanged and self.bt.safe(edit, self.batch_id, self._editing, content) is None:
                box.value = box.value or content  # refused (said): the text is kept
                return
            self._editing = None
            self.reload()
            if not box.value:  # nothing typed after the enter: back to the list
                self.query_one("#items", DataTable).focus()
            return
        if not lines:
            return
        added = self.bt.safe(self.bt.service.add_items, self.batch_id, lines)
        if not added:
            box.value = box.value or event.value  # refused (said): the text is kept
            return
        self.reload()
        self.query_one("#items", DataTable).move_cursor(row=added[-1].position - 1)

    @on(DataTable.RowSelected, "#items")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if self.editable:
            self.action_edit()

    # --------------------------------------------------------------- config

    def save_field(self, field: str, raw: str) -> None:
        """Save one config field now, as leaving its box does, and show how it went."""
        self._react(self.form.save(field, raw))

    def _react(self, outcome: ConfigForm.Saved | ConfigForm.Refused | None) -> None:
        if isinstance(outcome, ConfigForm.Saved):
            self._saved(outcome)
        elif isinstance(outcome, ConfigForm.Refused):
            self._refused(outcome)

    @on(ConfigForm.EditStages)
    def _edit_stages(self, message: ConfigForm.EditStages) -> None:
        self.action_stages()

    def action_stages(self) -> None:
        """The stages as TOML in a dialog; saved all at once (ctrl+s), or nothing."""
        from ...core.stages_text import parse_stages, stages_toml
        from .stages_dialog import StagesDialog

        batch = self.current
        if batch is None:
            return

        def save(text: str) -> str | None:
            try:
                stages = parse_stages(text, "stages")
                self.bt.service.update_config(batch.id, stages=stages)
            except ValueError as exc:
                return str(exc)
            except BatchtuiError as exc:
                return str(exc).removeprefix("invalid config: ")
            return None

        def done(saved: bool | None) -> None:
            if saved:
                self.reload()
                self.notify("saved the stages", timeout=2, markup=False)

        read_only = not allowed("edit", batch.status)
        has = bool(batch.config.stages)  # else the example is offered, saved as shown
        text = stages_toml(batch.config.stages)
        dialog = StagesDialog(batch.name, text, save, read_only=read_only, has=has)
        self.app.push_screen(dialog, done)

    @on(ConfigForm.Refused)
    def _refused(self, message: ConfigForm.Refused) -> None:
        self.show_problems(message.problems, "Not saved")

    @on(ConfigForm.Saved)
    def _saved(self, message: ConfigForm.Saved) -> None:
        self.reload()
        label = FIELD_LABELS.get(message.field, message.field)
        saved = one_line(message.value, 40) or "(none)"
        self.notify(f"saved {label}: {saved}", timeout=2, markup=False)
        # A value the lock will refuse (say, longer than the platform allows) is said now,
        # where it was typed, not at lock.
        found = self.bt.safe(self.bt.service.lock_problems, self.batch_id) or []
        problems: list[str] = [p for p in found if p.code is not ProblemCode.NO_ITEMS]
        self.show_problems(problems, "Saved, but lock will refuse", warning=True)

    # -------------------------------------------------------------- lifecycle

    def action_lock(self) -> None:
        self._react(self.form.save_focused())  # what is typed in a box is locked too
        try:
            self.bt.service.lock(self.batch_id)
        except ValidationError as exc:
            self.show_problems(exc.problems)
            self.app.bell()
            return
        except BatchtuiError as exc:  # refused: the state, a busy database
            self.show_problems([str(exc)])
            return
        self.show_problems([])
        self.reload()
        self.notify(f"Locked — hash {self.current.config_hash if self.current else ''}; s to start")

    def action_unlock(self) -> None:
        if batches.unlock(self.bt, self.batch_id) is not None:
            self.reload()

    def action_start(self) -> None:
        runs.request_start(self.bt, self.batch_id)

    def action_back(self) -> None:
        box = self.query_one("#item-input", ItemInput)
        if self.focused is box:  # escape leaves the input (dropping an unsaved edit) first
            if self._editing is not None:
                self._editing = None
                box.value = ""
            self.query_one("#items", DataTable).focus()
            self._render_items()
            return
        if self._in_form():  # escape leaves the field (saved, as a blur saves), not the batch
            self.query_one("#items", DataTable).focus()
            return
        if self.marked:  # escape in the list clears the marks first, as in the batch list
            self.marked.clear()
            self._marks_changed()
            return
        self.dismiss()
