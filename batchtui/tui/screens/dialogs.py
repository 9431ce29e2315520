"""Small modal dialogs: confirm, ask for one line of text, quit while runs go on.

Every one is a `Dialog`: it answers once, however often enter is pressed, and confirms with
enter or `y`, cancels with escape or `n`, its buttons saying so."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ...core.textsafe import one_line
from ..widgets.line_input import LineInput
from .dialog_base import (
    CANCEL_KEYS,
    CONFIRM_KEYS,
    TYPING_CANCEL_KEYS,
    TYPING_CONFIRM_KEYS,
    Dialog,
    key_button,
)


class ConfirmScreen(Dialog[bool]):
    """Yes/no question; enter or `y` confirm, escape or `n` decline."""

    def __init__(self, question: str, detail: str = "", yes: str = "Yes", no: str = "No"):
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question, style="bold"), classes="dialog-title")
            if self.detail:
                yield Static(Text(self.detail), classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield key_button(self.yes, CONFIRM_KEYS, "yes", "error")
                yield key_button(self.no, CANCEL_KEYS, "no")

    def confirmed(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PromptScreen(Dialog[str | None]):
    """Ask for one line of text; enter submits, escape cancels (returns None)."""

    def __init__(
        self,
        title: str,
        *,
        placeholder: str = "",
        value: str = "",
        hint: str = "",
        max_length: int = 0,
        ok: str = "OK",
        allow_empty: bool = False,
    ):
        super().__init__()
        self.allow_empty = allow_empty
        """An empty answer is an answer ('' , not a refusal): an optional note."""
        self.title_text = title
        self.placeholder = placeholder
        self.value = value
        self.hint = hint
        self.max_length = max_length
        """The longest answer that can be typed (0: no limit)."""
        self.ok = ok
        self._typed: str | None = None
        """The answer as submitted by its line end (see `_submitted`)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text, style="bold"), classes="dialog-title")
            yield LineInput(
                value=self.value,
                placeholder=self.placeholder,
                max_length=self.max_length,
                id="prompt-input",
            )
            yield Static(Text(self.hint), id="prompt-error", classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield key_button(self.ok, TYPING_CONFIRM_KEYS, "ok", "primary")
                yield key_button("Cancel", TYPING_CANCEL_KEYS, "cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def confirmed(self) -> str | None:
        typed, self._typed = self._typed, None
        value = typed if typed is not None else self.query_one(Input).value
        if not value.strip():
            if self.allow_empty:
                return ""
            self.query_one("#prompt-error", Static).update(Text("Type something, or escape."))
            return None
        return value

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # The answer as it was at the line end (keys read behind it are not part of it).
        event.stop()
        self._typed = event.value
        self.action_confirm()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_confirm()
        else:
            self.action_cancel()


QuitChoice = Literal["leave", "stop"]


class QuitScreen(Dialog[QuitChoice | None]):
    """Quitting while runs this app started go on: leave them running (the default: enter or
    `y`), stop them (`s`), or stay (escape or `n`)."""

    BINDINGS = [Binding("s", "stop", "Stop them", show=False)]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        count = len(self.names)
        listed = ", ".join(f"'{one_line(name, 30)}'" for name in self.names[:3])
        if count > 3:
            listed += f" and {count - 3} more"
        with Vertical(classes="dialog"):
            yield Static(
                Text(f"{count} batch{'es' * (count != 1)} you started still running", style="bold"),
                classes="dialog-title",
            )
            one = count == 1
            runs = "runs in its own process" if one else "run in their own processes"
            they = "it goes" if one else "they go"
            them = "it" if one else "them"
            yield Static(
                Text(
                    f"{listed} {runs}: left running, {they} on after you quit; reopen "
                    f"batchtui (or batchtui attach) to watch. Stopping cancels {them}; "
                    f"retry resumes {them} later."
                ),
                classes="dialog-detail",
            )
            with Horizontal(classes="dialog-buttons"):
                yield key_button("Leave running", CONFIRM_KEYS, "leave", "primary")
                yield key_button("Stop them", "s", "stop", "error")
                yield key_button("Stay", CANCEL_KEYS, "stay")

    def confirmed(self) -> QuitChoice:
        return "leave"

    def action_stop(self) -> None:
        self.dismiss("stop")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choice = event.button.id
        self.dismiss(choice if choice in ("leave", "stop") else None)  # type: ignore[arg-type]
