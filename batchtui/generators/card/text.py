"""Cleaning an item's text for a card: what a terminal or an editor would hide is removed.

Pure string work, no fonts: terminal escape sequences go whole, control and invisible format
characters go, odd spaces become plain ones, and newlines stay as paragraph breaks.
"""

from __future__ import annotations

import re
from types import MappingProxyType

_ESCAPES = re.compile(
    r"""
      (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]              # CSI: colours, cursor
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z) # OSC/DCS/SOS/PM/APC
    | \x1b [\x20-\x2f]* [\x30-\x7e]                                      # ESC + one character
    """,
    re.VERBOSE | re.DOTALL,
)
# Invisible format characters that would draw as boxes or silently reorder the text: zero
# width space, bidi marks/embeddings/overrides/isolates, word joiners, BOM, soft hyphen, ...
# (zero-width joiner and non-joiner stay: they build emoji and shape Persian and Indic text).
_INVISIBLE = (
    0x00AD,
    0x034F,
    0x061C,
    0x180E,
    0x200B,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2070),
    0xFEFF,
    *range(0xFFF9, 0xFFFD),
)


def _clean_table() -> dict[int, int | str | None]:
    # What `str.translate` does to each character the card never shows as it is.
    table: dict[int, int | str | None] = {code: None for code in range(0x20)}
    table.update({0x09: " ", 0x0A: "\n", 0x7F: None})
    table.update({code: None for code in range(0x80, 0xA0)})
    table.update({0x85: "\n", 0x2028: "\n", 0x2029: "\n"})  # NEL and Unicode line breaks
    table.update({code: None for code in _INVISIBLE})
    # Other spaces (em, thin, ideographic, ...) become a plain space; no-break spaces stay.
    table.update({code: " " for code in (0x1680, *range(0x2000, 0x200B), 0x205F, 0x3000)})
    return table


_CLEAN_TABLE = MappingProxyType(_clean_table())  # read-only: a constant, not state
_SURROGATES = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(" {2,}")
_BLANK_LINES = re.compile("\n{3,}")


def clean_text(text: str) -> str:
    """`text` as it should appear on a card: terminal escape sequences (CSI such as colours,
    OSC such as window titles, ESC + one character) removed whole, every other control and
    invisible format character dropped, newlines kept as paragraph breaks (at most one blank
    line in a row), runs of spaces collapsed and each line trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub("", text)
    text = _SURROGATES.sub("", text.translate(_CLEAN_TABLE))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
