"""An Input that takes enter in the order the keys came (a burst of keys in one read included)."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from ..key_order import after_keys_in_flight

LINE_ENDS = frozenset({"enter", "ctrl+j"})
LEAVING = frozenset({"tab", "shift+tab", "escape"})
"""Keys that take the focus elsewhere: the keys read behind one of them are not this box's."""
"""The keys a line end arrives as: CR is enter, LF is ctrl+j (a paste without bracketed paste
arrives as keys, with its line ends as they were: CR, LF or CR LF)."""


class LineInput(Input):
    """An Input whose line end (enter, or the LF of an unbracketed paste) acts at once, in the
    order the keys came.

    A plain Input submits on enter through a binding, which runs only once the key has gone up
    to the app, after the box has already taken the keys read behind it: `Name⏎more` in one
    read submitted 'Namemore'. Here the line end is handled where the letters are, so what it
    submits is what was typed before it. `on_line_end` says what a line end does (by default:
    submit, as enter does). After a key that moves the focus away (tab, escape), the keys
    read in the same burst go on to where the focus went (`Made⇥⇥↓⏎`: the list's enter;
    `a⇥b`: b in the next box), and the box's own editing keys act in their place too
    (`ab⌫c` in one read is 'ac').
    """

    _leaving = False
    """A key that moves the focus away was read: the keys read behind it belong to where
    the focus goes (they are held, then handed on: `_hand_on`)."""

    _held: list[events.Key] | None = None
    """Keys read behind one that moves the focus away, held until the focus has moved."""

    async def _on_key(self, event: events.Key) -> None:
        if self._leaving:
            # `url⇥⇥ntfy://x⏎` in one read: what follows a tab belongs where the tab takes
            # the focus, which moves only once the tab has gone up to its binding. Held, then
            # read again by the app in their order, as if they came after it.
            event.stop()
            event.prevent_default()
            if self._held is None:
                self._held = []
                after_keys_in_flight(self, self._hand_on)
            self._held.append(event)
            return
        if event.key in LINE_ENDS:
            event.stop()
            event.prevent_default()
            await self.on_line_end()
            return
        if event.key in LEAVING:
            self._leaving = True
        else:
            bound = self._bindings.key_to_bindings.get(event.key)
            if bound:
                # The box's own editing keys (backspace, ctrl+u, ←…) act here, in order: as a
                # binding they would run only once the key had gone up to the app, after the
                # keys read behind it (`ab⌫c` in one read gave 'ab'; ctrl+u then a paste
                # deleted the paste).
                event.stop()
                event.prevent_default()
                await self.run_action(bound[0].action)
                return
        await super()._on_key(event)

    def _hand_on(self) -> None:
        """Give the held keys to the app again, in their order (the focus has moved)."""
        keys, self._held = self._held or [], None
        for key in keys:
            self.app.post_message(events.Key(key.key, key.character))

    def _on_focus(self, event: events.Focus) -> None:
        self._leaving = False
        super()._on_focus(event)

    def _on_paste(self, event: events.Paste) -> None:
        """A paste goes in whole: several lines are joined by a space (a plain Input keeps
        only the first line, so the rest of a pasted note or name was lost unseen)."""
        lines = event.text.splitlines()
        if len(lines) < 2:
            return  # one line: Input's own paste
        event.prevent_default()
        event.stop()
        text = " ".join(line.strip() for line in lines if line.strip())
        if text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)

    async def on_line_end(self) -> None:
        """What a line end does: submit (`Input.Submitted`), as enter does."""
        await self.action_submit()
