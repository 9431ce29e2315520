"""A status change checked against its transition table (shared by items and batches)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..states import BatchStatus, ItemStatus

S = TypeVar("S", BatchStatus, ItemStatus)


def _checked_move(old: S, new: S, check: Callable[[S, S], None]) -> S:
    """`new`, once the table allows the move from `old` (staying put is no move)."""
    if new is not old:
        check(old, new)
    return new
