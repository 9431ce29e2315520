"""How each status looks on screen: colour helps, shape and weight carry the meaning.

Every status is drawn as its icon and word (`✖ FAILED`); the style only adds to that. There
are two palettes, chosen where a style is looked up:

- in colour, hex colours picked so that a 16-colour terminal (`TERM=xterm`), which gets the
  nearest of its own colours, still shows FAILED bold bright red, PARTIAL yellow, COMPLETE
  green, LOCKED and WAITING cyan, CANCELLED and INTERRUPTED magenta. (Rich's ANSI names were
  turned into the Monokai theme's colours first, and its red and orange came out magenta and
  bright red in 16 colours: FAILED read milder than PARTIAL.)
- under `NO_COLOR`, no colour at all, so nothing is turned into a dark grey on near-black:
  every status keeps the terminal's full-contrast text colour, FAILED is reversed and bold,
  the states under way or half done (PROCESSING, RUNNING, PARTIAL) bold, the rest plain.

`NO_COLOR` is read as Textual reads it (set at all, whatever its value): Textual then turns
every colour to grey, the app's too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from ..core.states import BatchStatus, ItemStatus

RETRY = "RETRY"
"""A PENDING item waiting out its backoff before it is tried again."""
WAITING = "WAITING"
"""A PENDING item whose turn has come but which waits for a host slot."""
ERROR = "error"
"""An item's error message."""
NOTE = "note"
"""Text that explains (what a waiting item waits for, how many finished)."""

_RED, _YELLOW, _GREEN = "#ff5f5f", "#eab308", "#22c55e"
_CYAN, _MAGENTA = "#22d3ee", "#c678dd"

COLOUR: Mapping[str, str] = {
    BatchStatus.DRAFT: "",
    BatchStatus.LOCKED: _CYAN,
    BatchStatus.PROCESSING: f"bold {_YELLOW}",
    BatchStatus.COMPLETE: _GREEN,
    BatchStatus.PARTIAL: _YELLOW,
    BatchStatus.FAILED: f"bold {_RED}",
    ItemStatus.PENDING: "",
    ItemStatus.RUNNING: f"bold {_YELLOW}",
    ItemStatus.SUCCEEDED: _GREEN,
    ItemStatus.FAILED: f"bold {_RED}",
    ItemStatus.CANCELLED: _MAGENTA,
    ItemStatus.INTERRUPTED: _MAGENTA,
    ItemStatus.SKIPPED: _YELLOW,
    RETRY: _YELLOW,
    WAITING: _CYAN,
    ERROR: _RED,
    NOTE: "dim",
}
"""Styles in colour: hex colours whose nearest 16-colour neighbours keep their meaning."""

MONO: Mapping[str, str] = {
    BatchStatus.DRAFT: "",
    BatchStatus.LOCKED: "",
    BatchStatus.PROCESSING: "bold",
    BatchStatus.COMPLETE: "",
    BatchStatus.PARTIAL: "bold",
    BatchStatus.FAILED: "bold reverse",
    ItemStatus.PENDING: "",
    ItemStatus.RUNNING: "bold",
    ItemStatus.SUCCEEDED: "",
    ItemStatus.FAILED: "bold reverse",
    ItemStatus.CANCELLED: "",
    ItemStatus.INTERRUPTED: "",
    ItemStatus.SKIPPED: "",
    RETRY: "",
    WAITING: "",
    ERROR: "",
    NOTE: "",
}
"""Styles under NO_COLOR: weight and reverse video only, never a colour nor dim (either
would turn into a grey that barely reads)."""


def no_color() -> bool:
    """Whether colour is off (`NO_COLOR` set, as Textual decides it)."""
    return "NO_COLOR" in os.environ


def style(name: str) -> str:
    """The style (a Rich style string) of a status or of `RETRY`, `WAITING`, `ERROR`, `NOTE`
    in the palette in force now."""
    return (MONO if no_color() else COLOUR)[name]


class _Styles(Mapping[str, str]):
    # The palette in force, looked up as a mapping (`STYLES[status]`).
    def __getitem__(self, name: str) -> str:
        return style(name)

    def __iter__(self) -> Iterator[str]:
        return iter(COLOUR)

    def __len__(self) -> int:
        return len(COLOUR)


STYLES: Mapping[str, str] = _Styles()
"""Each status's style in the palette in force (colour, or the NO_COLOR one)."""
