"""The search box of a log view: `/` opens it under the log, enter searches, escape closes."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input

from .log_tail import LogTail


class LogSearch(Input):
    """A one-line box that searches the log view `target` names (by id) on its screen."""

    DEFAULT_CSS = """
    LogSearch, LogSearch:focus { display: none; height: 1; border: none; padding: 0 1; }
    LogSearch.-open { display: block; }
    """
    BINDINGS = [Binding("escape", "close", "Close search", show=False)]

    def __init__(self, target: str, *, id: str | None = None) -> None:
        super().__init__(placeholder="search the log (enter: find · esc: close)", id=id)
        self.target = target

    def log_view(self) -> LogTail:
        """The log view it searches."""
        return self.screen.query_one(f"#{self.target}", LogTail)

    def open(self) -> None:
        """Show the box, with the last search in it, and take the keys."""
        self.value = self.log_view().pattern
        self.add_class("-open")
        self.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        log = self.log_view()
        found = log.search(event.value)
        self._close(log)
        if event.value and not found:
            self.notify(f"not in the log: {event.value}", severity="warning")
        elif found:
            self.notify(f"{found} match{'es' if found != 1 else ''} · n next · N previous")

    def action_close(self) -> None:
        self._close(self.log_view())

    def _close(self, log: LogTail) -> None:
        self.remove_class("-open")
        log.focus()
