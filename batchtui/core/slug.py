"""File names made from people's words: a safe slug that keeps every script.

`slug("量子物理入门")` is `量子物理入门`, `slug("Why is space dark?")` is `why-is-space-dark`:
letters, digits and their combining marks of any script are kept (after NFKC, so full-width
`ＡＢＣ` becomes `abc`), every other run of characters (spaces, punctuation, symbols, emoji)
becomes one `-` (path separators too: `../x` gives `x`, never a path), characters a
terminal must not see (NUL and other controls, invisible format characters) are dropped, and
the result is cut to a byte length that leaves room for the rest of a file name within
ext4's 255 bytes. It never starts with a dot or a dash, and is never `.` or `..`; it is empty
when nothing is left (emoji only, say): the caller decides what stands in then.

For an ASCII title it is the slug earlier releases made (`AC/DC` → `ac-dc`).

The one slug rule: every file name made from user text (output files, logs, batch folders)
goes through `slug`.
"""

from __future__ import annotations

import unicodedata

SLUG_CHARS = 40
"""The most characters a slug keeps: a file name stays readable in a listing."""
SLUG_BYTES = 120
"""The most UTF-8 bytes a slug takes: with a position, a `.partN` and an extension around it a
name stays far below the 255 bytes ext4 (and most file systems) allow."""


def _kind(char: str) -> str:
    # "keep" (letter, digit), "mark" (combining), "drop" (control, format, unassigned) or
    # "sep" (spaces, punctuation, symbols; path separators among them: `../x` is `x`).
    category = unicodedata.category(char)
    if category[0] in "LN":
        return "keep"
    if category[0] == "M":
        return "mark"
    if category[0] == "C" and not char.isspace():  # a tab or newline still parts words
        return "drop"
    return "sep"


def _fits(text: str, max_chars: int, max_bytes: int) -> str:
    # `text` cut to the limits, never inside a character nor between a letter and its marks.
    if len(text) <= max_chars and len(text.encode()) <= max_bytes:
        return text
    end, size = 0, 0
    for index, char in enumerate(text):
        size += len(char.encode())
        if index >= max_chars or size > max_bytes:
            break
        end = index + 1
    while 0 < end < len(text) and unicodedata.category(text[end])[0] == "M":
        end -= 1  # the next character is a mark of the one before: leave both out
    return text[:end]


def slug(text: str, max_chars: int = SLUG_CHARS, max_bytes: int = SLUG_BYTES) -> str:
    """`text` as a safe file-name part in any script (see the module's docstring); '' when
    it has no letter or digit."""
    out: list[str] = []
    gap = False
    for char in unicodedata.normalize("NFKC", text).lower():
        kind = _kind(char)
        if kind == "drop" or (kind == "mark" and (gap or not out)):
            continue
        if kind == "sep":
            gap = bool(out)
            continue
        if gap and kind == "keep":
            out.append("-")
        gap = False
        out.append(char)
    return _fits("".join(out), max_chars, max_bytes).rstrip("-")
