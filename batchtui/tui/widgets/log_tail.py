"""A log view that follows one item's log file, like `tail -f`, showing text inertly."""

from __future__ import annotations

import os

from textual.widgets import Log

from ...core.textsafe import inert

TAIL_BYTES = 16 * 1024
READ_LIMIT = 256 * 1024


class LogTail(Log):
    """Shows the end of a log file and appends what gets written to it (call `poll`)."""

    DEFAULT_CSS = """
    LogTail { height: 6; overflow-x: hidden; overflow-y: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(max_lines=500, auto_scroll=True, id=id, classes=classes)
        self.path: str | None = None
        self._offset = 0
        self._partial = ""

    def follow(self, path: str | None) -> None:
        """Switch to another file (or none), starting from its last few KiB."""
        if path == self.path:
            return
        self.path = path
        self.clear()
        self._partial = ""
        self._offset = 0
        if path is None:
            return
        try:
            size = os.path.getsize(path)
        except OSError:
            self.write_line("(no log file: nothing logged so far)")
            return
        self._offset = max(0, size - TAIL_BYTES)
        self.poll(skip_partial_line=self._offset > 0)

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
            self.write_lines(inert(line) for line in lines)
