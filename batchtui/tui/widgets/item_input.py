"""The input under the item list: type one item, or paste several lines to add several."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import Input


def pasted_lines(text: str) -> list[str]:
    """The non-blank lines of pasted text. Terminals (tmux, xterm, VTE, iTerm) send a paste's
    line ends as CR, files have LF or CRLF: every one of them ends a line."""
    return [line for line in text.splitlines() if line.strip()]


class ItemInput(Input):
    """An Input that turns a multi-line paste into a `LinesPasted` message (one item a line)
    instead of keeping only the first line."""

    @dataclass
    class LinesPasted(Message):
        """Several non-blank lines were pasted."""

        item_input: ItemInput
        lines: list[str]

    def _on_paste(self, event: events.Paste) -> None:
        lines = pasted_lines(event.text)
        if len(lines) > 1:
            event.prevent_default()
            event.stop()
            self.post_message(self.LinesPasted(self, lines))
