"""A row table with the keys lazygit and k9s users reach for: j/k move, g/Home to the top,
G/End to the bottom (DataTable's own Home/End move between columns, which a row cursor
never needs)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

ROW_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
    Binding("g,home", "scroll_top", "Top", show=False),
    Binding("G,end", "scroll_bottom", "Bottom", show=False),
]


class RowTable(DataTable[Text]):
    """A DataTable of rows with j/k/g/G/Home/End."""

    BINDINGS: ClassVar[list[BindingType]] = ROW_KEYS
