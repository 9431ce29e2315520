"""Starting a batch: a last look before it is handed to a runner of its own."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from ...core.run import runnable
from ...core.textsafe import one_line
from .dialog_base import CANCEL_KEYS, CONFIRM_KEYS, Dialog, key_button

if TYPE_CHECKING:
    from ...core.models import Batch


CLUSTER_ENV = "BATCHTUI_CLUSTER"


class StartScreen(Dialog[str]):
    """Start (or retry) now: enter, `y` or `s`; escape or `n` do not. Dismissed with where
    the items run: '' on this host, else a Dask scheduler's address (None: not now)."""

    BINDINGS = [
        Binding("s", "confirm", "Start", show=False),
        Binding("f", "focus_farm", "Render farm", show=False),
    ]

    def __init__(self, batch: Batch, *, retry: bool = False) -> None:
        super().__init__()
        self.current = batch
        self.retry = retry

    def compose(self) -> ComposeResult:
        batch = self.current
        todo = len(runnable(batch))
        verb = "Retry" if self.retry else "Start"
        what = f"{todo} item{'s' * (todo != 1)}, {batch.config.concurrency} at a time"
        with Vertical(classes="dialog"):
            yield Static(
                Text(f"{verb} '{one_line(batch.name, 40)}' — {what}", style="bold"),
                classes="dialog-title",
            )
            yield Static(
                Text(
                    "It runs in a process of its own: quitting batchtui or losing the SSH "
                    "connection does not stop it. Watch it here, or later with batchtui "
                    "attach."
                ),
                classes="dialog-detail",
            )
            yield Static(
                Text("Render farm (f): a Dask scheduler's address, or empty for this host"),
                classes="dialog-detail",
            )
            yield Input(
                os.environ.get(CLUSTER_ENV, ""),
                placeholder="this host   (or tcp://HOST:8786)",
                id="cluster",
            )
            with Horizontal(classes="dialog-buttons"):
                yield key_button(verb, CONFIRM_KEYS, "start", "primary")
                yield key_button("Not now", CANCEL_KEYS, "cancel")

    def where(self) -> str:
        return self.query_one("#cluster", Input).value.strip()

    def confirmed(self) -> str:
        return self.where()

    def action_focus_farm(self) -> None:
        self.query_one("#cluster", Input).focus()

    @on(Input.Submitted, "#cluster")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.where() if event.button.id == "start" else None)
