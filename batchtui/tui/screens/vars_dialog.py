"""The vars dialog: one item's variables as `name=value` lines, and its key.

Enter in the lines ends a line only when it is a valid assignment (a bad one is said here,
its text kept); enter in the key box, or ctrl+s anywhere, saves all at once or nothing;
escape cancels. A paste lands as text, bracketed or not (its line ends are lines here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Label, Static, TextArea

from ...core.item_keys import check_key
from ...core.item_vars import VarValue
from ...core.textsafe import one_line
from .. import var_lines
from ..widgets.line_input import LineInput
from .dialog_base import TYPING_CANCEL_KEYS, Dialog, key_button

SAVE_KEYS = "ctrl+s"
"""The key that saves from anywhere in the dialog (enter ends a line in the text)."""
LINE_ENDS = frozenset({"enter", "ctrl+j"})
"""A line end as typed (CR) or pasted without bracketed paste (LF)."""

Save = Callable[[dict[str, str], list[str], str | None], str | None]
"""Saves (values to set, names to unset, the key: None unchanged, "" none); returns why
not, or None once saved."""


async def bound_in_order(widget: Widget, event: events.Key) -> bool:
    """Run `widget`'s own binding for this key now, where its letters are typed (True if
    one ran). A binding otherwise runs once the key has bubbled up to the app, after the
    keys read behind it were typed: `ab⌫cd` in one read deleted the d."""
    bound = widget._bindings.key_to_bindings.get(event.key)
    if not bound or any(binding.priority for binding in bound):
        return False
    event.stop()
    event.prevent_default()
    await widget.run_action(bound[0].action)
    return True


FOCUS_KEYS = {"tab": "focus_next", "shift+tab": "focus_previous"}
"""Keys that move between the lines and the key box."""


class InOrder:
    """A field of this dialog that acts on keys in the order they came, tab included: the
    focus moves at the tab, and keys already read behind it go on to where it went
    (`voice=x⇥intro⏎` in one read: `intro` is the key, and its enter saves)."""

    _handing_on = False
    """A tab moved the focus away: keys still reaching this field belong to the new one."""

    async def hand_on(self, event: events.Key) -> bool:
        """Act on a focus key now, or pass on a key read behind one (True: handled)."""
        screen = cast(Widget, self).screen
        if self._handing_on and screen.focused is not self:
            event.stop()
            event.prevent_default()
            if screen.focused is not None:
                screen.focused.post_message(events.Key(event.key, event.character))
            return True
        move = FOCUS_KEYS.get(event.key)
        if move is None:
            return False
        event.stop()
        event.prevent_default()
        self._handing_on = True
        getattr(screen, move)()
        return True

    def stop_handing_on(self) -> None:
        """The field has the focus again: keys are its own."""
        self._handing_on = False


class VarLines(InOrder, TextArea):
    """The `name=value` lines: a line end is taken only after a valid line."""

    class BadLine(Message):
        """A line end after a line that is not `name=value` (the line stays as it was)."""

        def __init__(self, problem: str) -> None:
            super().__init__()
            self.problem = problem

    async def _on_key(self, event: events.Key) -> None:
        if await self.hand_on(event):
            return
        if event.key in LINE_ENDS:
            event.stop()
            event.prevent_default()
            if self.read_only:
                return
            line = self.document.get_line(self.cursor_location[0])
            problem = var_lines.line_problem(line)
            if problem is not None:
                self.post_message(self.BadLine(problem))
                return
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
            return
        if await bound_in_order(self, event):
            return
        await super()._on_key(event)

    def _on_focus(self, event: events.Focus) -> None:
        self.stop_handing_on()
        super()._on_focus(event)


class KeyInput(InOrder, LineInput):
    """The key box: its enter saves the dialog (with the lines above)."""

    class Save(Message):
        """Enter in the key box."""

    async def on_line_end(self) -> None:
        self.post_message(self.Save())

    async def _on_key(self, event: events.Key) -> None:
        if await self.hand_on(event):
            return
        if event.key not in LINE_ENDS and await bound_in_order(self, event):
            return
        await super()._on_key(event)

    def _on_focus(self, event: events.Focus) -> None:
        self.stop_handing_on()
        super()._on_focus(event)


class VarsDialog(Dialog[bool]):
    """Edit one item's variables and key; answers True once saved (never half)."""

    BINDINGS = [Binding("ctrl+s", "confirm", "Save", show=False, priority=True)]

    def __init__(self, label: str, values: dict[str, VarValue] | None, key: str | None, save: Save):
        super().__init__()
        self.label = label
        self.before = dict(values or {})
        self.key_before = key or ""
        self.save = save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog vars"):
            yield Label(Text(f"Item {self.label}: variables and key", style="bold"))
            hint = "name=value, one a line; a line removed unsets it · tab: the key"
            yield Static(Text(hint), classes="dialog-detail")
            yield VarLines(
                var_lines.as_lines(self.before),
                id="vars-lines",
                soft_wrap=False,
                tab_behavior="focus",
            )
            yield Label(Text("Key (empty: none)"), classes="dialog-detail")
            yield KeyInput(value=self.key_before, placeholder="intro", id="vars-key", compact=True)
            yield Static(Text(""), id="vars-error")
            with Horizontal(classes="dialog-buttons"):
                yield key_button("Save", SAVE_KEYS, "ok", "primary")
                yield key_button("Cancel", TYPING_CANCEL_KEYS, "cancel")

    def on_mount(self) -> None:
        lines = self.query_one(VarLines)
        lines.focus()
        lines.move_cursor(lines.document.end)

    def _say(self, problem: str) -> None:
        self.query_one("#vars-error", Static).update(Text(one_line(problem, 200)))
        self.app.bell()

    def confirmed(self) -> bool | None:
        try:
            after = var_lines.parse_lines(self.query_one(VarLines).text)
        except ValueError as exc:
            self._say(str(exc))
            return None
        key = self.query_one(KeyInput).value.strip()
        try:
            check_key(key)
        except ValueError as exc:
            self._say(f"key: {exc}")
            return None
        values, unset = var_lines.changes(self.before, after)
        if not values and not unset and key == self.key_before:
            return True  # nothing changed: nothing to save
        problem = self.save(values, unset, None if key == self.key_before else key)
        if problem is not None:
            self._say(problem)  # refused (a taken key): the text stays to fix
            return None
        return True

    @on(VarLines.BadLine)
    def _bad_line(self, message: VarLines.BadLine) -> None:
        self._say(message.problem)

    @on(KeyInput.Save)
    def _key_entered(self, message: KeyInput.Save) -> None:
        message.stop()
        self.action_confirm()

    @on(TextArea.Changed)
    def _typed(self, event: TextArea.Changed) -> None:
        self.query_one("#vars-error", Static).update(Text(""))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_confirm()
        else:
            self.action_cancel()
