"""Showing user text inertly: control characters and escape sequences become visible symbols.

Item content and logs may hold anything (ANSI escapes, NUL-free binary noise, markup). Before
it reaches a terminal it passes through here, so it can neither move the cursor nor recolour
the screen; markup escaping is the display layer's job on top of this.
"""

from __future__ import annotations

_TABLE = {code: 0x2400 + code for code in range(0x20)}  # C0 controls → ␀ … ␟
_TABLE[0x7F] = 0x2421  # DEL → ␡
_TABLE.update({code: 0xFFFD for code in range(0x80, 0xA0)})  # C1 controls → �


def inert(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character replaced by a visible stand-in.

    Tabs become spaces; newlines are kept when asked, otherwise shown as '⏎'.
    """
    table = dict(_TABLE)
    table[0x09] = 0x20
    if keep_newlines:
        del table[0x0A]
    else:
        table[0x0A] = 0x23CE
    return text.translate(table)


def one_line(text: str, limit: int | None = None) -> str:
    """`text` made inert on a single line, shortened with '…' past `limit` characters."""
    line = inert(text)
    if limit is not None and len(line) > limit:
        return line[: max(0, limit - 1)] + "…"
    return line
