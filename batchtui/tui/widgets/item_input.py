"""The input under the item list: type one item, or paste several lines to add several."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message

from ...core.item_lines import item_lines
from .line_input import LineInput


class ItemInput(LineInput):
    """An Input for items, one a line.

    A line end (enter, or the LF of an unbracketed paste) takes the line typed so far and
    empties the box at once, in the order the keys came (`LineInput`): the keys after it start
    the next line (a paste without brackets, `one⏎two⏎`, had arrived as 'onetwo' submitted
    twice). A bracketed paste with line ends becomes a `LinesPasted` message (one item a line)
    instead of keeping only the first line.
    """

    DEFAULT_CSS = """
    ItemInput:focus {
        background: $boost;
        text-style: bold;
    }
    """

    @dataclass
    class Entered(Message):
        """A line was entered (the box is empty again). Blank lines come too: the screen
        decides what they mean (`core.item_lines` says they are no item)."""

        item_input: ItemInput
        value: str

    @dataclass
    class LinesPasted(Message):
        """Lines were pasted (non-blank ones, at least one; a paste without a line end is
        typed into the box instead)."""

        item_input: ItemInput
        lines: list[str]

    async def on_line_end(self) -> None:
        """The line typed so far becomes an `Entered` message; the box starts the next one."""
        line, self.value = self.value, ""
        self.post_message(self.Entered(self, line))

    def _on_paste(self, event: events.Paste) -> None:
        # The rule a file's lines follow (`core.item_lines`): terminals send a paste's line
        # ends as CR, files have LF or CRLF; every one of them ends an item.
        # A paste that holds a line end is lines, one item each, as the same keys typed would
        # be ('one⏎' adds 'one'); without one it is text for the box.
        lines = item_lines(event.text)
        if lines and ("\r" in event.text or "\n" in event.text):
            event.prevent_default()
            event.stop()
            self.post_message(self.LinesPasted(self, lines))
