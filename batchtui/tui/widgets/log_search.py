"""The search box of a log view: `/` opens it under the log, enter searches, escape closes."""

from __future__ import annotations

from textual.binding import Binding
from textual.events import Key
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
        """Show the box, empty, and take the keys (enter on it empty ends the search)."""
        self.value = ""
        self.add_class("-open")
        # Now, not after a refresh (as focus() does): a key read after this goes to the box.
        self.screen.set_focus(self)

    @property
    def is_open(self) -> bool:
        """Whether the box is shown (it may not have the focus yet)."""
        return self.has_class("-open")

    async def take_key(self, event: Key) -> None:
        """A key typed for the box before it had the focus (in the same read as `/`)."""
        if event.key == "enter":
            await self.action_submit()
        elif event.key == "escape":
            self.action_close()
        elif event.key == "backspace":
            self.action_delete_left()
        elif event.is_printable and event.character:
            self.insert_text_at_cursor(event.character)

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
