"""Plain tables: aligned, cut with '…' to the width, wide characters counted as two cells."""

from __future__ import annotations

import io

from rich.cells import cell_len

from batchtui.cli.plain_table import PIPE_WIDTH, write_table


def table(rows: list[tuple[str, ...]], **kw) -> list[str]:
    out = io.StringIO()
    write_table(out, ("#", "TEXT", "N"), rows, flexible=1, right=frozenset({2}), **kw)
    return out.getvalue().splitlines()


def test_columns_line_up_and_long_cells_are_cut_to_the_cap():
    lines = table([("1", "short", "7"), ("2", "x" * 100, "12")], cap=20)
    assert lines[0] == "#  TEXT                   N"
    assert lines[1] == "1  short                  7"
    assert lines[2] == "2  " + "x" * 19 + "…  12"


def test_wide_characters_take_two_cells_and_are_never_cut_in_half():
    lines = table([("1", "🚀" * 30, "1"), ("2", "日本語のテキスト" * 4, "2")], cap=21)
    widths = {cell_len(line) for line in lines[1:]}
    assert widths == {cell_len(lines[0])}, lines  # every row ends at the same column
    assert lines[1].split("  ")[1].endswith("…")
    assert "\ufffd" not in "".join(lines)


def test_a_row_wider_than_the_pipe_width_gives_up_room_from_the_flexible_column():
    lines = table([("1", "word " * 100, "3" * 30)], cap=300)
    assert max(cell_len(line) for line in lines) == PIPE_WIDTH
    assert lines[1].endswith("3" * 30)


def test_markup_and_control_characters_stay_inert_on_one_line():
    lines = table([("1", "[red]x[/red]\nnext\x1b[31m", "1")])
    assert len(lines) == 2 and "[red]x[/red]" in lines[1] and "\x1b" not in lines[1]
