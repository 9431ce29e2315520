"""Starting a batch: here (stops when batchtui quits) or in the background (survives it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ...core.textsafe import one_line

if TYPE_CHECKING:
    from ...core.models import Batch

Choice = Literal["here", "background"]


class StartScreen(ModalScreen[Choice | None]):
    """Where to run: `h`/enter here, `b` in the background, escape to cancel."""

    BINDINGS = [
        Binding("h", "choose('here')", "Here"),
        Binding("b", "choose('background')", "Background"),
        Binding("escape", "choose(None)", "Cancel"),
    ]

    def __init__(self, batch: Batch, *, retry: bool = False) -> None:
        super().__init__()
        self.batch = batch
        self.retry = retry

    def compose(self) -> ComposeResult:
        batch = self.batch
        todo = sum(1 for item in batch.items if item.status.value != "SUCCEEDED")
        verb = "Retry" if self.retry else "Start"
        what = f"{todo} item{'s' * (todo != 1)}, {batch.config.concurrency} at a time"
        with Vertical(classes="dialog"):
            yield Static(
                Text(f"{verb} '{one_line(batch.name, 40)}' — {what}", style="bold"),
                classes="dialog-title",
            )
            yield Static(
                Text(
                    "Here: runs inside batchtui; quitting stops it (retry resumes).\n"
                    "In the background: keeps running if you quit or the SSH session "
                    "drops; come back to watch it."
                ),
                classes="dialog-detail",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Here (h)", variant="primary", id="here")
                yield Button("In the background (b)", id="background")

    def on_mount(self) -> None:
        self.query_one("#here", Button).focus()

    def action_choose(self, choice: Choice | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)  # type: ignore[arg-type]
