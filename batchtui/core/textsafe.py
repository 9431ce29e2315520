"""Showing user text inertly: control characters and escape sequences become visible symbols.

Item content and logs may hold anything (ANSI escapes, NUL-free binary noise, markup). Before
it reaches a terminal it passes through here, so it can neither move the cursor nor recolour
the screen; markup escaping is the display layer's job on top of this.
"""

from __future__ import annotations

import itertools

_TABLE: dict[int, int | str] = {code: 0x2400 + code for code in range(0x20)}  # C0 → ␀ … ␟
_TABLE[0x7F] = 0x2421  # DEL → ␡
_TABLE.update({code: 0xFFFD for code in range(0x80, 0xA0)})  # C1 controls → �
# Invisible characters that reorder or hide text (a right-to-left override makes "gpj.exe"
# read "exe.jpg"; a zero-width space splits a word unseen): shown by name, e.g. <U+202E>.
_INVISIBLE = [
    *(0x061C, 0x180E, 0x200B, 0x200C, 0x200E, 0x200F, 0xFEFF),
    *range(0x202A, 0x202F),  # embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # isolates
]
_TABLE.update({code: f"<U+{code:04X}>" for code in _INVISIBLE})
# The Unicode line and paragraph separators: no terminal breaks a line at them, but every text
# tool does (Python's splitlines, editors, log readers), so a one-line message holding one
# read as two. Shown by name too.
_TABLE.update({code: f"<U+{code:04X}>" for code in (0x2028, 0x2029)})
_ZWJ = "\u200d"


def _show_lone_joiners(text: str) -> str:
    # A zero-width joiner is kept between two symbols (it builds emoji such as 👩‍💻) and shown
    # anywhere else. A scan, not a regex: compiling the Unicode-range pattern cost ~4 ms at
    # every start, and this runs only for text that holds one.
    parts = text.split(_ZWJ)
    out = [parts[0]]
    for before, after in itertools.pairwise(parts):
        joins = before[-1:] >= "\u2000" and after[:1] >= "\u2000"
        out.append(_ZWJ if joins else "<U+200D>")
        out.append(after)
    return "".join(out)


_ONE_LINE = {**_TABLE, 0x09: 0x20, 0x0A: 0x23CE}
_KEEP_NEWLINES = {k: v for k, v in {**_TABLE, 0x09: 0x20}.items() if k != 0x0A}


def inert(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character replaced by a visible stand-in.

    Tabs become spaces; newlines are kept when asked, otherwise shown as '⏎'.
    """
    table = _KEEP_NEWLINES if keep_newlines else _ONE_LINE
    text = text.translate(table)
    if _ZWJ in text:
        text = _show_lone_joiners(text)
    return text


def not_utf8(text: str) -> str | None:
    """None when `text` is UTF-8 text; else `text` shown with its stray bytes escaped (`\\xff`),
    for the error that refuses it. Bytes that are not UTF-8 (a file name, an argument) arrive
    as surrogate escapes, which neither JSON nor a child's argv can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:  # escaped bytes, as shown back: \xff
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate from JSON ("\ud800"), not a byte
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return None


def one_line(text: str, limit: int | None = None) -> str:
    """`text` made inert on a single line, shortened with '…' past `limit` characters."""
    line = inert(text)
    if limit is not None and len(line) > limit:
        return line[: max(0, limit - 1)] + "…"
    return line
