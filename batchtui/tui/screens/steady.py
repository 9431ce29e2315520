"""Steady cursors: with `App.blink` off (snapshot tests), inputs never blink."""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class SteadyCursor:
    """Screen mixin: on mount, stop its inputs' cursors blinking when the app says so."""

    def _on_mount(self, event: events.Mount) -> None:
        if not getattr(self.app, "blink", True):  # type: ignore[attr-defined]
            for widget in self.query(Input):  # type: ignore[attr-defined]
                widget.cursor_blink = False
