"""A log view that follows one item's log file, like `tail -f`, showing text inertly; long
lines wrap (`wrap`) or scroll sideways, and a search highlights its matches (`search`,
`next_match`)."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import Log

from ...core.textsafe import inert
from .log_wrap import wrap_line

if TYPE_CHECKING:
    from .log_search import LogSearch

TAIL_BYTES = 16 * 1024
NOTHING_LOGGED = "(the item logged nothing)"
READ_LIMIT = 256 * 1024
MAX_LINES = 500
"""Log lines kept (past them the oldest go, a batch at a time)."""
MATCH = Style(underline=True, bold=True)
CURRENT_MATCH = Style(reverse=True, bold=True)
"""How matches look: weight and reverse video read in every palette, NO_COLOR included."""


class Row(NamedTuple):
    """A row on screen: which log line it shows, from which character (wrapped: its part)."""

    line: int
    start: int


class Match(NamedTuple):
    """A match of the search: its log line and its characters there."""

    line: int
    start: int
    end: int


class LogTail(Log):
    """Shows the end of a log file and appends what gets written to it (call `poll`)."""

    BINDINGS = [
        Binding("w", "toggle_wrap", "Wrap", tooltip="Wrap long lines (again: scroll sideways)"),
        # A priority binding acts as the app reads the key, before the next key of the same
        # read is sent anywhere: the box has the focus by then, so they all go to it, in order.
        Binding(
            "slash",
            "start_search",
            "Search",
            key_display="/",
            priority=True,
            tooltip="Search the log",
        ),
        Binding("n", "next_match(1)", "Next", show=False, tooltip="The next match"),
        Binding("N", "next_match(-1)", "Previous", show=False, tooltip="The previous match"),
        Binding("p", "pager", "Pager", tooltip="Open the log file in $PAGER (less)"),
    ]

    DEFAULT_CSS = """
    LogTail { height: 6; overflow-x: auto; overflow-y: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # Following is ours: Log's own auto_scroll misses once the lines outgrow the pane
        # (write_lines' immediate scroll_end runs before the new size is known, then the
        # pane is no longer "at the end" and never follows again).
        super().__init__(max_lines=None, auto_scroll=False, id=id, classes=classes)
        self.following = True
        """New lines scroll the pane to its end; off once the user scrolls up, on at End."""
        self.path: str | None = None
        self.wrap = False
        """Long lines wrap at the pane's width (else they scroll sideways)."""
        self.pattern = ""
        """What the search looks for (literal, any case); '' when none."""
        self.matches: list[Match] = []
        self.current = -1
        """The index in `matches` of the one shown (-1: none yet)."""
        self._raw: list[str] = []
        self._rows: list[Row] = []
        self._wrapped_at = 0
        self._offset = 0
        self._partial = ""
        self._placeholder = False
        """The pane shows a note, not the log: the first real line replaces it."""
        self._ended = False

    # ------------------------------------------------------------ the lines

    @property
    def log_lines(self) -> list[str]:
        """The log's lines as written (before any wrapping)."""
        return list(self._raw)

    def _wrap_width(self) -> int:
        return max(10, self.scrollable_content_region.width)

    def _rows_of(self, index: int, line: str) -> list[tuple[Row, str]]:
        if not self.wrap:
            return [(Row(index, 0), line)]
        return [(Row(index, start), part) for start, part in wrap_line(line, self._wrap_width())]

    def _append(self, lines: list[str]) -> None:
        first = len(self._raw)
        self._raw.extend(lines)
        if len(self._raw) > MAX_LINES + MAX_LINES // 5:  # the oldest go, then one rebuild
            del self._raw[: len(self._raw) - MAX_LINES]
            self._rebuild()
            return
        shown: list[str] = []
        for index, line in enumerate(lines, start=first):
            for row, part in self._rows_of(index, line):
                self._rows.append(row)
                shown.append(part)
        super().write_lines(shown)
        if self.pattern:
            self._find(keep=True)

    def _rebuild(self) -> None:
        """Lay every line out again (wrap toggled, the width changed, old lines dropped)."""
        super().clear()
        self._rows = []
        shown: list[str] = []
        self._wrapped_at = self._wrap_width()
        for index, line in enumerate(self._raw):
            for row, part in self._rows_of(index, line):
                self._rows.append(row)
                shown.append(part)
        super().write_lines(shown)
        if self.pattern:
            self._find(keep=True)
        self._render_line_cache.clear()
        self.refresh()

    def _reset(self) -> None:
        super().clear()
        self._raw, self._rows = [], []
        self.matches, self.current = [], -1

    def _note(self, line: str) -> None:
        self._reset()
        self._append([line])

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap and self._wrap_width() != self._wrapped_at:
            self._rebuild()

    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines at the pane's width, or not (they scroll sideways); the line at
        the top stays in view."""
        if wrap == self.wrap:
            return
        top = self._rows[self.scroll_offset.y].line if self._rows[self.scroll_offset.y :] else 0
        self.wrap = wrap
        self._rebuild()
        if not self.following:
            self.call_after_refresh(self.scroll_to, 0, self._row_of(top, 0), animate=False)
        else:
            self.call_after_refresh(self.scroll_end, animate=False)

    # ----------------------------------------------------------------- search

    def search(self, pattern: str) -> int:
        """Look for `pattern` (literal, any case; '' ends the search) and show the first match
        from the top of the view down (wrapping around); how many there are."""
        self.pattern = pattern
        self.matches, self.current = [], -1
        if pattern:
            self._find(keep=False)
            top = self._rows[self.scroll_offset.y].line if self._rows[self.scroll_offset.y :] else 0
            later = [n for n, match in enumerate(self.matches) if match.line >= top]
            if self.matches:
                self._show(later[0] if later else 0)
        self._render_line_cache.clear()
        self.refresh()
        return len(self.matches)

    def next_match(self, step: int = 1) -> bool:
        """Show the next match (`step` -1: the previous one), wrapping around; False when
        there is none."""
        if not self.matches:
            return False
        self._show((self.current + step) % len(self.matches) if self.current >= 0 else 0)
        return True

    def _find(self, *, keep: bool) -> None:
        current = self.matches[self.current] if keep and self.current >= 0 else None
        found = re.compile(re.escape(self.pattern), re.IGNORECASE)
        self.matches = [
            Match(index, hit.start(), hit.end())
            for index, line in enumerate(self._raw)
            for hit in found.finditer(line)
        ]
        self.current = self.matches.index(current) if current in self.matches else -1

    def _row_of(self, line: int, char: int) -> int:
        """The row on screen that shows character `char` of log line `line`."""
        best = 0
        for y, row in enumerate(self._rows):
            if row.line == line and row.start <= char:
                best = y
            elif row.line > line:
                break
        return best

    def _show(self, index: int) -> None:
        self.current = index
        match = self.matches[index]
        y = self._row_of(match.line, match.start)
        self.following = False
        x, width = 0, self.scrollable_content_region.width
        if not self.wrap and match.end > width:  # in view, with some of what comes before
            x = max(0, match.start - width // 3)
        y = max(0, y - self.scrollable_content_region.height // 2)
        # After the refresh, as Log's own scrolls to the end are: the last scroll wins.
        self.call_after_refresh(self.scroll_to, x, y, animate=False)
        self._render_line_cache.clear()
        self.refresh()

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        if not self.pattern or not self.matches or y >= len(self._rows):
            return super()._render_line_strip(y, rich_style)
        row = self._rows[y]
        line = self.lines[y]
        end = row.start + len(line)
        text = Text(line, no_wrap=True, style=rich_style)
        for number, match in enumerate(self.matches):
            if match.line != row.line or match.end <= row.start or match.start >= end:
                continue
            style = CURRENT_MATCH if number == self.current else MATCH
            text.stylize(
                style, max(0, match.start - row.start), min(len(line), match.end - row.start)
            )
        return Strip(text.render(self.app.console), text.cell_len)

    # ---------------------------------------------------------- the file

    def follow(self, path: str | None, *, ended: bool = False) -> None:
        """Switch to another file (or none), starting from its last few KiB; `ended`: the
        item is over, so a missing file means it logged nothing (not: nothing yet)."""
        if path == self.path:
            if self._placeholder and ended and not self._ended:  # nothing came, and it is over
                self._ended = True
                self._note(NOTHING_LOGGED)
            return
        self.path = path
        self._ended = ended
        self._reset()
        self.following = True
        self._partial = ""
        self._offset = 0
        self._placeholder = False
        if path is None:
            return
        try:
            size = os.path.getsize(path)
        except OSError:
            self._note(NOTHING_LOGGED if ended else "(nothing logged yet)")
            self._placeholder = True
            return
        self._offset = max(0, size - TAIL_BYTES)
        self.poll(skip_partial_line=self._offset > 0)
        # Start at the end, where the error is, once the pane has its size (before that,
        # following the writes cannot scroll) — unless a search moved away meanwhile.
        self.call_after_refresh(self._to_end_if_following)

    def _to_end_if_following(self) -> None:
        if self.following:
            self.scroll_end(animate=False)

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
                self._reset()
                self._placeholder = False
            self._append([inert(line) for line in lines])
            if self.following:
                self.scroll_end(animate=False)  # after the refresh: then the new size counts

    # ---------------------------------------------------------------- keys

    def action_toggle_wrap(self) -> None:
        self.set_wrap(not self.wrap)
        self.notify("long lines wrap" if self.wrap else "long lines scroll sideways (←/→)")

    def _search_box(self) -> LogSearch | None:
        from .log_search import LogSearch

        boxes = [box for box in self.screen.query(LogSearch) if box.target == self.id]
        return boxes[0] if boxes else None

    def action_start_search(self) -> None:
        box = self._search_box()
        if box is not None:
            box.open()

    async def on_key(self, event: events.Key) -> None:
        """Keys that arrive in the same read as `/` (a burst, a paste) reach this view before
        the search box has the focus: they are the box's, never commands of the log.

        They may still be waiting here once the box has the focus (they were sent to this
        view before the focus moved): they are the box's then too. A key typed into the box
        never comes here (the box is not inside this view)."""
        box = self._search_box()
        if box is None:
            return
        if event.key == "slash" and not box.is_open:
            # Opened here, not by the binding: a binding acts once the key has come back up
            # from this view, after every key of the same read was queued here.
            event.stop()
            event.prevent_default()
            box.open()
        elif box.is_open:
            event.stop()
            event.prevent_default()
            await box.take_key(event)

    def action_next_match(self, step: int) -> None:
        if not self.pattern:
            self.notify("no search yet: / searches", severity="warning")
        elif not self.next_match(step):
            self.notify(f"not in the log: {self.pattern}", severity="warning")

    def action_pager(self) -> None:
        from ..pager import open_in_pager

        open_in_pager(self.app, self.path)

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
