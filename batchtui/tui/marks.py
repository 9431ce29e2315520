"""Marks, as every screen with marks has them (the list, the editor, the progress screen):
`space` marks a row, `*`/`ctrl+a` marks every row shown or, when all are marked, clears."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding


def toggle_all(marked: set[str], shown: Iterable[str]) -> set[str]:
    """The marks after `*`: every shown row marked, or none when all of them were already."""
    rows = set(shown)
    if rows and rows <= marked:
        return set()
    return marked | rows


def marked_note(marked: set[str]) -> str:
    """What a title adds while rows are marked (' · 3 marked'; '' with none)."""
    return f" · {len(marked)} marked" if marked else ""


def mark_bindings(acting: str, rows: str) -> list[Binding]:
    """`space` and `*`/`ctrl+a` on a screen whose `acting` keys act on the marked `rows`."""
    return [
        Binding(
            "space",
            "mark",
            "Mark",
            tooltip=f"Mark/unmark (*, ctrl+a: all); {acting} act on the marked",
        ),
        Binding(
            "asterisk,ctrl+a",
            "mark_all",
            "Mark",  # help shows one line per word: this key is in space's
            show=False,
            key_display="*",
            tooltip=f"Mark every {rows} (again: clear the marks); also ctrl+a",
        ),
    ]
