"""The header every screen shares."""

from __future__ import annotations

from textual.widgets import Header

ICON = "≡"
"""Textual's default icon (⭘, U+2B58) is missing from common monospace fonts: screenshots
viewed in a browser, and some terminals, drew it as an empty box. '≡' is in all of them (and
still opens the command palette when clicked)."""


def app_header() -> Header:
    """A header with an icon every font has."""
    return Header(icon=ICON)
