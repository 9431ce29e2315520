"""A log view that follows one item's log file, like `tail -f`, showing text inertly."""

from __future__ import annotations

import os

from textual import events
from textual.widgets import Log

from ...core.textsafe import inert

TAIL_BYTES = 16 * 1024
NOTHING_LOGGED = "(the item logged nothing)"
READ_LIMIT = 256 * 1024


class LogTail(Log):
    """Shows the end of a log file and appends what gets written to it (call `poll`)."""

    DEFAULT_CSS = """
    LogTail { height: 6; overflow-x: hidden; overflow-y: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # Following is ours: Log's own auto_scroll misses once the lines outgrow the pane
        # (write_lines' immediate scroll_end runs before the new size is known, then the
        # pane is no longer "at the end" and never follows again).
        super().__init__(max_lines=500, auto_scroll=False, id=id, classes=classes)
        self.following = True
        """New lines scroll the pane to its end; off once the user scrolls up, on at End."""
        self.path: str | None = None
        self._offset = 0
        self._partial = ""
        self._placeholder = False
        """The pane shows a note, not the log: the first real line replaces it."""
        self._ended = False

    def follow(self, path: str | None, *, ended: bool = False) -> None:
        """Switch to another file (or none), starting from its last few KiB; `ended`: the
        item is over, so a missing file means it logged nothing (not: nothing yet)."""
        if path == self.path:
            if self._placeholder and ended and not self._ended:  # nothing came, and it is over
                self._ended = True
                self.clear()
                self.write_line(NOTHING_LOGGED)
            return
        self.path = path
        self._ended = ended
        self.clear()
        self.following = True
        self._partial = ""
        self._offset = 0
        self._placeholder = False
        if path is None:
            return
        try:
            size = os.path.getsize(path)
        except OSError:
            self.write_line(NOTHING_LOGGED if ended else "(nothing logged yet)")
            self._placeholder = True
            return
        self._offset = max(0, size - TAIL_BYTES)
        self.poll(skip_partial_line=self._offset > 0)
        # Start at the end, where the error is, once the pane has its size (before that,
        # following the writes cannot scroll).
        self.call_after_refresh(self.scroll_end, animate=False)

    def poll(self, *, skip_partial_line: bool = False) -> None:
        """Append whatever was written since the last poll."""
        if self.path is None:
            return
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read(READ_LIMIT)
        except OSError:
            return
        if not data:
            return
        self._offset += len(data)
        text = self._partial + data.decode("utf-8", "replace")
        lines = text.split("\n")
        self._partial = lines.pop()
        if skip_partial_line and lines:
            lines = lines[1:]
        if lines:
            if self._placeholder:
                self.clear()
                self._placeholder = False
            self.write_lines(inert(line) for line in lines)
            if self.following:
                self.scroll_end(animate=False)  # after the refresh: then the new size counts

    # The user scrolling back stops following; End (or G) follows again.
    def action_scroll_up(self) -> None:
        self.following = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.following = False
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.following = False
        super().action_scroll_home()

    def action_scroll_down(self) -> None:
        super().action_scroll_down()
        self.following = self.scroll_target_y >= self.max_scroll_y

    def action_page_down(self) -> None:
        super().action_page_down()
        self.following = self.scroll_target_y >= self.max_scroll_y

    def action_scroll_end(self) -> None:
        self.following = True
        super().action_scroll_end()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False
        super()._on_mouse_scroll_up(event)
