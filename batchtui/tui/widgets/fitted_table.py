"""A row table with fixed-width columns plus flexible ones that share the remaining width.

Fixed widths keep the layout still while values change (no jitter as times tick, and no
width recomputation on every update); text that does not fit ends in '…'; and `sync` touches
only the cells that changed, so a burst of updates costs a few cell refreshes, not a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.cells import cell_len
from rich.text import Span, Text
from textual import events
from textual.widgets.data_table import RowDoesNotExist

from .row_table import RowTable

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

Row = tuple[Text, ...]
GAP = 1  # one space between columns (DataTable's own padding would spend two)
PENDING_CHUNK = 250
"""Rows added per step after the first frame (~10 ms each: a key waits at most that long)."""


@dataclass(frozen=True)
class Column:
    """A column: a fixed `width`, or flexible (`width=None`) with a share `weight`."""

    key: str
    label: str
    width: int | None = None
    weight: int = 1
    justify: Literal["left", "right"] = "left"


class _Fitted(Text):
    """A cell already cut and padded to its column's fixed width.

    DataTable measures every cell of every row it adds, to size auto-width columns (these are
    not): for a 1,000-row table that was 7,000 text layouts and most of the ~0.2 s the rows
    took to appear (measured). Without a measure hook, Textual and Rich take the cell as
    unmeasurable (a getattr, nothing laid out). It renders the same segments as a Text.
    """

    __rich_measure__ = None  # type: ignore[assignment]

    def __rich_console__(  # type: ignore[override]  # rich's own Text says Iterable[Segment]
        self, console: Console, options: ConsoleOptions
    ) -> RenderResult:
        # One line that fits needs no wrapping (which is most of Text's rendering): render its
        # segments straight away, ~30% less per cell drawn. Anything else renders as Text does.
        plain = self.plain
        if "\n" not in plain and "\t" not in plain and cell_len(plain) <= options.max_width:
            return self.render(console, end=self.end)
        return super().__rich_console__(console, options)


def _signature(row: Row) -> tuple[str, ...]:
    return tuple(cell.plain for cell in row)


class FittedTable(RowTable):
    """A DataTable of keyed rows that fits its flexible columns to its width."""

    def __init__(
        self, columns: Sequence[Column], *, min_flex: int = 8, id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self.spec = tuple(columns)
        self.min_flex = min_flex
        self.widths = [c.width or min_flex for c in self.spec]
        self._rows: dict[str, Row | Callable[[], Row]] = {}
        self._signatures: dict[str, tuple[str, ...]] = {}
        self._fitted_width = -1
        self._pending: list[str] = []
        self._wanted: str | None = None

    def on_mount(self) -> None:
        self._rebuild()

    def set_columns(self, columns: Sequence[Column], *, min_flex: int | None = None) -> None:
        """Show these columns instead (the rows given to `sync` must then match them);
        nothing happens when they are the ones shown. Wider than the table, it scrolls
        sideways."""
        columns = tuple(columns)
        if columns == self.spec and (min_flex is None or min_flex == self.min_flex):
            return
        self.spec = columns
        if min_flex is not None:
            self.min_flex = min_flex
        self._rows = {}
        self._signatures = {}
        self._pending = []
        if self.size.width:
            self._rebuild()
        else:
            self.widths = [c.width or self.min_flex for c in self.spec]

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._fitted_width:
            self._rebuild()

    def _fit(self) -> list[int]:
        total = self.size.width or self.app.size.width
        fixed = sum(c.width for c in self.spec if c.width is not None)
        spare = total - fixed - GAP * len(self.spec) - 1  # - room for a scrollbar
        flexible = [c for c in self.spec if c.width is None]
        room = max(self.min_flex * len(flexible), spare)
        weights = sum(c.weight for c in flexible) or 1
        return [
            c.width if c.width is not None else max(self.min_flex, room * c.weight // weights)
            for c in self.spec
        ]

    def _cell(self, index: int, cell: Text) -> Text:
        """Fit a cell to its column: cut with '…', aligned, with the gap on the left."""
        column, width = self.spec[index], self.widths[index]
        plain = cell.plain
        used = cell_len(plain)
        if used <= width and not cell.spans:
            # The common case (a count, a status word, a short name): nothing to cut, so the
            # cell is built whole, one string and at most one span (copying, truncating and
            # assembling it part by part cost as much as the rest of adding a row).
            padding = " " * (width - used)
            if column.justify == "right":
                start, text = GAP + len(padding), " " * GAP + padding + plain
            else:
                start, text = GAP, " " * GAP + plain + padding
            spans = [Span(start, start + len(plain), cell.style)] if cell.style and plain else []
            return _Fitted(text, spans=spans)
        cut = cell.copy()
        cut.truncate(width, overflow="ellipsis")
        padding = " " * (width - cut.cell_len)
        if column.justify == "right":
            return _Fitted.assemble(" " * GAP + padding, cut)
        return _Fitted.assemble(" " * GAP, cut, padding)

    def _fitted(self, row: Row) -> list[Text]:
        return [self._cell(index, cell) for index, cell in enumerate(row)]

    def _rebuild(self) -> None:
        """Lay the columns out for the current width and re-add every row."""
        selected = self.selected_key()
        self._fitted_width = self.size.width
        self.widths = self._fit()
        self.clear(columns=True)
        for index, column in enumerate(self.spec):
            label = Text(column.label, style="bold")
            self.add_column(
                self._cell(index, label), key=column.key, width=self.widths[index] + GAP
            )
        self._add(list(self._rows))
        self._restore(self._wanted or selected)

    def _add(self, keys: list[str]) -> None:
        """Add rows: a screenful now, the rest in chunks after the next frames are painted.

        Adding (and measuring) 1,000 rows took longer than everything else before the first
        frame; nobody sees row 900 in it. All of 5,000 at once after it blocked the app for
        ~0.2 s (a key pressed then waited): a chunk at a time, keys are handled in between.
        """
        first = self.size.height + 10  # what fits, and a little to scroll into
        for key in keys[:first]:
            self.add_row(*self._fitted(self._built(key)), key=key)
        self._pending = keys[first:]
        if self._pending:
            self.call_after_refresh(self._add_pending, PENDING_CHUNK)

    def _add_pending(self, chunk: int | None = None) -> None:
        """Add `chunk` of the rows still waiting (None: all of them now)."""
        if chunk is None:
            pending, self._pending = self._pending, []
        else:
            pending, self._pending = self._pending[:chunk], self._pending[chunk:]
        for key in pending:
            if key in self._rows:
                self.add_row(*self._fitted(self._built(key)), key=key)
        if self._pending and chunk is not None:
            self.call_after_refresh(self._add_pending, chunk)

    def _restore(self, key: str | None) -> None:
        if key is None or key not in self._rows:
            return
        if self._pending:
            self._add_pending()
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:  # rows wait for the first layout: select it once they are in
            self._wanted = key
            return
        self._wanted = None
        self.move_cursor(row=index, animate=False)

    def _built(self, key: str) -> Row:
        """The row for `key`, made now if it was given as a function."""
        row = self._rows[key]
        if callable(row):
            row = row()
            self._rows[key] = row
        if key not in self._signatures:  # what is shown now: later updates compare with it
            self._signatures[key] = _signature(row)
        return row

    def sync(self, rows: Sequence[tuple[str, Row | Callable[[], Row]]]) -> None:
        """Show exactly these rows: rebuilt when the keys change, else only changed cells.

        A row may be given as a function that makes it: rows not yet on screen are then made
        when they are added (the first frame of a 1,000-row table makes ~60).
        """
        keys = [key for key, _ in rows]
        if not self.size.width:  # not laid out yet: the first resize fits and adds them once
            self._rows = dict(rows)
            self._signatures = {}
            self._fitted_width = -1
            return
        if keys != list(self._rows):
            selected = self.selected_key()
            self._rows = dict(rows)
            self._signatures = {}
            self.clear()
            self._add(keys)
            self._restore(selected)
            return
        for key, row in rows:
            self.update_row(key, row() if callable(row) else row)

    def has_keys(self, keys: list[str]) -> bool:
        """Whether the table shows exactly these rows, in this order."""
        return keys == list(self._rows)

    def update_row(self, key: str, row: Row) -> None:
        """Refresh one row's changed cells (ignored if the row is not in the table)."""
        if key not in self._rows:
            return
        old = self._signatures.get(key)
        if old is None:  # not made yet, so not shown: keep the newer one
            self._rows[key] = row
            self._signatures[key] = _signature(row)
            return
        new = _signature(row)
        if new == old:
            return
        if key not in self.rows:  # not added yet (no layout, or later this frame): added as is
            self._rows[key] = row
            self._signatures[key] = new
            return
        for index, (column, before, after) in enumerate(zip(self.spec, old, new, strict=True)):
            if before != after:
                self.update_cell(key, column.key, self._cell(index, row[index]))
        self._rows[key] = row
        self._signatures[key] = new

    def source_row(self, key: str) -> Row:
        """The row as given (before fitting to the column widths)."""
        return self._built(key)

    def selected_key(self) -> str | None:
        """The key of the row under the cursor, if any."""
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def select_key(self, key: str) -> None:
        """Move the cursor to a row by key."""
        self._restore(key)
