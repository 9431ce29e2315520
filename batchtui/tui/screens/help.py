"""`?`: the keys of the screen you came from, and the few ideas batchtui is built on."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

CONCEPTS = """\
A batch: one config, up to N items. DRAFT → LOCKED → PROCESSING → COMPLETE,
PARTIAL or FAILED. Locking validates and freezes the config. Retry re-runs only
what did not succeed. ctrl+p searches every action. escape closes this help."""


class HelpScreen(ModalScreen[None]):
    """Keys of the previous screen, and the concepts; any of escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        keys = Table(box=None, show_header=False, pad_edge=False)
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        seen: set[str] = set()
        for binding in [*self.for_screen.BINDINGS, *self.app.BINDINGS]:
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
        with VerticalScroll(classes="dialog help"):
            yield Static(Text(f"Help — {title}", style="bold"), classes="dialog-title")
            yield Static(keys)
            yield Static(Text(CONCEPTS), classes="dialog-detail")

    def action_close(self) -> None:
        self.dismiss(None)
