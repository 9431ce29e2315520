"""The input under the item list: type one item, or paste several lines to add several."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import Input

from ...core.item_lines import item_lines


class ItemInput(Input):
    """An Input that turns a multi-line paste into a `LinesPasted` message (one item a line)
    instead of keeping only the first line."""

    @dataclass
    class LinesPasted(Message):
        """Several non-blank lines were pasted."""

        item_input: ItemInput
        lines: list[str]

    def _on_paste(self, event: events.Paste) -> None:
        # The rule a file's lines follow (`core.item_lines`): terminals send a paste's line
        # ends as CR, files have LF or CRLF; every one of them ends an item.
        lines = item_lines(event.text)
        if len(lines) > 1:
            event.prevent_default()
            event.stop()
            self.post_message(self.LinesPasted(self, lines))
