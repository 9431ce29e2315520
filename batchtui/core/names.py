"""What is said when a new batch takes a name other batches already have (names need not be
unique: ids are). The CLI prints it on stderr, the TUI shows it: the same words."""

from __future__ import annotations

from collections.abc import Sequence

from .textsafe import one_line

SHOWN_IDS = 3
"""Ids listed in the note (the rest are '…')."""


def same_name_note(name: str, others: Sequence[str]) -> str | None:
    """The note for a new batch named `name` when batches `others` (ids) already carry it
    (None when no other batch does): e.g. "1 other batch already named 'Space Facts'
    (0b1c…); ids tell them apart"."""
    if not others:
        return None
    shown = ", ".join(others[:SHOWN_IDS]) + (" …" if len(others) > SHOWN_IDS else "")
    plural = "es" if len(others) > 1 else ""
    return (
        f"{len(others)} other batch{plural} already named '{one_line(name, 40)}' ({shown}); "
        "ids tell them apart"
    )
