"""Small modal dialogs: confirm, ask for one line of text."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...core.textsafe import one_line
from .steady import SteadyCursor


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no question; `y`/`enter` confirm, `n`/`escape` decline."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

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
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PromptScreen(SteadyCursor, ModalScreen[str | None]):
    """Ask for one line of text; `enter` submits, `escape` cancels (returns None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        *,
        placeholder: str = "",
        value: str = "",
        hint: str = "",
        max_length: int = 0,
    ):
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value
        self.hint = hint
        self.max_length = max_length
        """The longest answer that can be typed (0: no limit)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Input(
                value=self.value,
                placeholder=self.placeholder,
                max_length=self.max_length,
                id="prompt-input",
            )
            yield Static(Text(self.hint), id="prompt-error", classes="dialog-detail")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#prompt-error", Static).update(Text("Type something, or escape."))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


QuitChoice = Literal["leave", "stop"]


class QuitScreen(ModalScreen[QuitChoice | None]):
    """Quitting while runs this app started go on: leave them running (the default: enter or
    `l`), stop them (`s`), or stay (escape)."""

    BINDINGS = [
        Binding("l", "choose('leave')", "Leave running"),
        Binding("s", "choose('stop')", "Stop them"),
        Binding("escape", "choose(None)", "Stay"),
    ]

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
                yield Button("Leave running (l)", variant="primary", id="leave")
                yield Button("Stop them (s)", variant="error", id="stop")
                yield Button("Stay (esc)", id="stay")

    def on_mount(self) -> None:
        self.query_one("#leave", Button).focus()

    def action_choose(self, choice: QuitChoice | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choice = event.button.id
        self.dismiss(choice if choice in ("leave", "stop") else None)  # type: ignore[arg-type]
