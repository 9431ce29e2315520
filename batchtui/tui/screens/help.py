"""`?`: the keys of the screen you came from, and the few ideas batchtui is built on."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from .dialog_base import Dialog

# One paragraph, wrapped by the dialog to its width (hard line breaks wrapped raggedly once
# the dialog was narrower than they were long).
CONCEPTS = (
    "A batch: one config, up to N items. DRAFT → LOCKED → PROCESSING → COMPLETE, PARTIAL "
    "or FAILED. Locking validates and freezes the config. Retry re-runs only what did not "
    "succeed. Runs belong to runner processes: quitting never stops one. Dialogs: enter/y "
    "yes, esc/n no. ctrl+p: every action. ↑/↓ scroll; escape closes."
)


class HelpScreen(Dialog[None]):
    """Keys of the previous screen, and the concepts; any of escape, q, ?, enter, y or n
    closes it (a `Dialog`: closing twice never closes the screen below)."""

    BINDINGS = [Binding("escape,q,question_mark", "cancel", "Close")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        keys = Table(box=None, show_header=False, pad_edge=False, expand=True)
        keys.add_column(style="bold", no_wrap=True, min_width=6)
        keys.add_column(ratio=1)
        seen: set[str] = set()
        # Keys a screen has no binding for (a widget's own, like tab) follow its bindings.
        extra = getattr(self.for_screen, "HELP_KEYS", ())
        rows = [*self.for_screen.BINDINGS, *extra, *self.app.BINDINGS]
        for binding in rows:
            if isinstance(binding, tuple):
                keys.add_row(*binding)
                continue
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.description in seen:
                continue
            seen.add(binding.description)
            display = binding.key_display or binding.key.split(",")[0]
            keys.add_row(
                display.replace("question_mark", "?"), binding.tooltip or binding.description
            )
        title = getattr(self.for_screen, "HELP_TITLE", "batchtui")
        with VerticalScroll(classes="dialog help", id="help-body"):
            yield Static(Text(f"Help — {title}", style="bold"), classes="dialog-title")
            yield Static(keys)
            yield Static(Text(CONCEPTS), classes="dialog-detail")

    def on_mount(self) -> None:
        # Focused, so ↑/↓/pgup/pgdn scroll a help longer than the terminal (80x24).
        self.query_one("#help-body").focus()

    def action_confirm(self) -> None:
        self.action_cancel()
