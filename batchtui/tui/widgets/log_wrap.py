"""A log line cut into rows of a given width in terminal cells (wide characters count two),
each with the character it starts at, so a search match maps onto the rows that show it."""

from __future__ import annotations

from rich.cells import cell_len


def wrap_line(line: str, width: int) -> list[tuple[int, str]]:
    """`line` in rows of at most `width` cells: (first character's index, the row's text).
    An empty line is one empty row; a character wider than `width` gets a row of its own."""
    rows: list[tuple[int, str]] = []
    start = used = 0
    for index, char in enumerate(line):
        size = cell_len(char)
        if used + size > width and index > start:
            rows.append((start, line[start:index]))
            start, used = index, 0
        used += size
    rows.append((start, line[start:]))
    return rows
