"""An Input that takes enter in the order the keys came (a burst of keys in one read included)."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

LINE_ENDS = frozenset({"enter", "ctrl+j"})
"""The keys a line end arrives as: CR is enter, LF is ctrl+j (a paste without bracketed paste
arrives as keys, with its line ends as they were: CR, LF or CR LF)."""


class LineInput(Input):
    """An Input whose line end (enter, or the LF of an unbracketed paste) acts at once, in the
    order the keys came.

    A plain Input submits on enter through a binding, which runs only once the key has gone up
    to the app, after the box has already taken the keys read behind it: `Name⏎more` in one
    read submitted 'Namemore'. Here the line end is handled where the letters are, so what it
    submits is what was typed before it. `on_line_end` says what a line end does (by default:
    submit, as enter does).
    """

    async def _on_key(self, event: events.Key) -> None:
        if event.key in LINE_ENDS:
            event.stop()
            event.prevent_default()
            await self.on_line_end()
            return
        await super()._on_key(event)

    async def on_line_end(self) -> None:
        """What a line end does: submit (`Input.Submitted`), as enter does."""
        await self.action_submit()
