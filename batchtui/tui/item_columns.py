"""The item editor's columns: the mark, the label, the key (when any item has one), the
content, and one column per variable any item uses (first-seen order). Pure: items in,
columns and inert cells out; the screen draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text

from ..core.item_vars import as_text
from ..core.models import BatchItem
from . import display
from .widgets.fitted_table import Column

MARK = "*"
"""A marked item's mark, in a column of its own (a shape, not a colour; never in the item's
text, which may itself begin with '*'). The batch list marks with the same star."""
MAX_VALUE_WIDTH = 16
"""The widest a key or variable column grows: longer values end in '…' (whole in the
item's detail and the vars dialog)."""
CONTENT_MIN = 18
"""The content column's least width beside variable columns (the rest scrolls sideways)."""
BASE_COLUMNS = (
    Column("mark", "", 1),
    Column("pos", "#", 3, justify="right"),
)
CONTENT = Column("content", "Item")
KEY_COLUMN = "key"
VAR_PREFIX = "var:"
"""Column keys of variables (a variable may be called `content` or `key`)."""


def var_names(items: Sequence[BatchItem]) -> list[str]:
    """Every variable name some item uses, in the order first seen."""
    names: dict[str, None] = {}
    for item in items:
        names.update(dict.fromkeys(item.vars or {}))
    return list(names)


def _width(label: str, values: Sequence[str]) -> int:
    longest = max((cell_len(value) for value in values), default=0)
    return max(cell_len(label), min(longest, MAX_VALUE_WIDTH))


def columns(items: Sequence[BatchItem]) -> tuple[Column, ...]:
    """The columns for these items: the key and variable ones only when some item has one."""
    labels = [item.label for item in items]
    spec = [BASE_COLUMNS[0], Column("pos", "#", max(3, _width("#", labels)), justify="right")]
    keys = [item.key for item in items if item.key]
    if keys:
        spec.append(Column(KEY_COLUMN, "Key", _width("Key", keys)))
    spec.append(CONTENT)
    for name in var_names(items):
        values = [as_text(item.vars[name]) for item in items if item.vars and name in item.vars]
        spec.append(Column(VAR_PREFIX + name, name, _width(name, values)))
    return tuple(spec)


def min_content(spec: Sequence[Column]) -> int:
    """The content column's least width: wide beside variables, else the table's default."""
    return CONTENT_MIN if any(c.key.startswith(VAR_PREFIX) for c in spec) else 8


def row(item: BatchItem, spec: Sequence[Column], *, marked: bool) -> tuple[Text, ...]:
    """An item's cells for `spec` (user text stays literal: never markup)."""
    cells: list[Text] = []
    for column in spec:
        if column.key == "mark":
            cells.append(Text(MARK if marked else "", style="bold"))
        elif column.key == "pos":
            cells.append(Text(item.label))
        elif column.key == KEY_COLUMN:
            cells.append(display.literal(item.key or "", MAX_VALUE_WIDTH * 4))
        elif column.key == "content":
            cells.append(display.literal(item.content))
        else:
            name = column.key.removeprefix(VAR_PREFIX)
            value = (item.vars or {}).get(name)
            cells.append(display.literal("" if value is None else as_text(value), 200))
    return tuple(cells)
