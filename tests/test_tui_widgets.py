"""Widgets and messages on their own: the fitted table's deferred rows, coalesced updates."""

from __future__ import annotations

import io

import pytest
from rich.text import Span, Text
from textual.app import App, ComposeResult
from textual.render import measure

from batchtui.tui.widgets.fitted_table import Column, FittedTable

pytestmark = pytest.mark.anyio

COLUMNS = (Column("name", "Name"), Column("n", "N", 6, justify="right"))


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield FittedTable(COLUMNS, id="t")


def rows(count: int, tag: str = "") -> list[tuple[str, tuple[Text, ...]]]:
    return [(f"k{n}", (Text(f"row {n}{tag}"), Text(str(n)))) for n in range(count)]


async def test_a_long_table_shows_a_screenful_first_then_every_row():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(FittedTable)
        table.sync(rows(1000))
        assert 0 < table.row_count < 1000  # the first frame holds what can be seen
        await pilot.pause()
        assert table.row_count == 1000
        assert table.get_row_at(999)[0].plain.strip() == "row 999"


async def test_rows_updated_before_they_are_added_show_the_update():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(FittedTable)
        table.sync(rows(500))
        table.update_row("k400", (Text("changed"), Text("400")))
        table.select_key("k450")  # selecting a row not added yet adds the rest at once
        assert table.row_count == 500 and table.selected_key() == "k450"
        await pilot.pause()
        assert table.get_row("k400")[0].plain.strip() == "changed"
        assert table.row_count == 500


async def test_cells_are_fitted_and_aligned_whatever_their_characters():
    app = TableApp()
    async with app.run_test(size=(30, 8)) as pilot:
        table = app.query_one(FittedTable)
        table.sync([("a", (Text("✔ 🚀 wide"), Text("12"))), ("b", (Text("x" * 80), Text("3")))])
        await pilot.pause()
        name_width = table.widths[0]
        first, second = table.get_row("a"), table.get_row("b")
        assert first[1].plain == "     12" and second[1].plain == "      3"  # gap + right
        assert second[0].plain.endswith("…") and second[0].cell_len == name_width + 1
        assert first[0].cell_len == name_width + 1
        # DataTable measures every cell it adds; fitted cells (fixed width) are not laid out
        # for that: Textual's measure falls back to its default.
        assert measure(app.console, second[0], -1) == -1


@pytest.mark.parametrize("width", [30, 21, 12, 1])
@pytest.mark.parametrize("plain", [" ✔ COMPLETE          ", " two\nlines", " tab\there", " "])
def test_a_fitted_cell_renders_exactly_as_text(plain, width):
    """Fitted cells skip wrapping when they fit; whatever the width, the lines are Text's."""
    from rich.console import Console

    from batchtui.tui.widgets.fitted_table import _Fitted

    console = Console(width=80, file=io.StringIO())
    options = console.options.update_dimensions(width, 2)
    spans = [Span(1, 4, "bold green")] if len(plain) > 4 else []
    ours = console.render_lines(_Fitted(plain, spans=spans), options)
    theirs = console.render_lines(Text(plain, spans=spans), options)
    assert ours == theirs
