"""The stages dialog: a batch's pipeline as the TOML a `--stages` file holds, edited in place.

Enter is a line end here (never a save, never a screen popped); ctrl+s saves the whole text
at once or nothing, and a refusal is said in one line under it, the text kept to fix; escape
cancels with nothing changed. A paste lands as text, bracketed or not. Empty text, or `none`,
saves a batch with no stages (one step, as before).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static, TextArea

from ...core.textsafe import one_line
from .dialog_base import TYPING_CANCEL_KEYS, Dialog, key_button
from .vars_dialog import LINE_ENDS, SAVE_KEYS, bound_in_order

Save = Callable[[str], str | None]
"""Saves the stages text; returns why not (one line), or None once saved."""


class StagesText(TextArea):
    """The stages as TOML: a line end is a new line, whatever else the dialog binds."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key in LINE_ENDS:  # CR typed, LF pasted without bracketed paste
            event.stop()
            event.prevent_default()
            if not self.read_only:
                start, end = self.selection
                self._replace_via_keyboard("\n", start, end)
            return
        if await bound_in_order(self, event):
            return
        await super()._on_key(event)


class StagesDialog(Dialog[bool]):
    """Edit a batch's stages; answers True once saved (never half), None when cancelled."""

    BINDINGS = [Binding("ctrl+s", "confirm", "Save", show=False, priority=True)]

    def __init__(
        self, name: str, text: str, save: Save, *, read_only: bool = False, has: bool = True
    ) -> None:
        """`text`: what the dialog opens with; `has`: whether that is the batch's own stages
        (else an example offered, saved as it is shown)."""
        super().__init__()
        self.batch_name = name
        self.before = text
        self.save = save
        self.read_only = read_only
        self.has = has

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog stages"):
            yield Label(Text(f"Stages of '{one_line(self.batch_name, 40)}'", style="bold"))
            hint = (
                "locked: unlock (u) to change them"
                if self.read_only
                else "[[stages]] tables: name, generator or command, ext, pool, retries, "
                "timeout, rate, concurrency, inputs · empty: no stages"
            )
            yield Static(Text(hint), classes="dialog-detail")
            yield StagesText(
                self.before,
                id="stages-text",
                soft_wrap=False,
                tab_behavior="focus",  # (with "indent", escape would only leave the text)
                read_only=self.read_only,
            )
            yield Static(Text(""), id="stages-error")
            with Horizontal(classes="dialog-buttons"):
                if not self.read_only:
                    yield key_button("Save", SAVE_KEYS, "ok", "primary")
                yield key_button("Close" if self.read_only else "Cancel", TYPING_CANCEL_KEYS,
                                 "cancel")  # fmt: skip

    def on_mount(self) -> None:
        text = self.query_one(StagesText)
        text.focus()

    def confirmed(self) -> bool | None:
        if self.read_only:
            return None
        typed = self.query_one(StagesText).text
        if typed == self.before and self.has:
            return True  # nothing changed: nothing to save
        problem = self.save(typed)
        if problem is not None:
            self.query_one("#stages-error", Static).update(Text(one_line(problem, 300)))
            self.app.bell()
            return None
        return True

    @on(TextArea.Changed)
    def _typed(self, event: TextArea.Changed) -> None:
        self.query_one("#stages-error", Static).update(Text(""))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_confirm()
        else:
            self.action_cancel()
