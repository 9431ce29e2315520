"""The log pane: it starts at the end of the log (where the error is), follows new lines, and
a note shown while nothing is logged gives way to the first real line."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from batchtui.tui.widgets.log_tail import LogTail

pytestmark = pytest.mark.anyio


class TailApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogTail(id="log")


async def test_a_long_log_opens_at_its_end_and_follows(tmp_path: Path) -> None:
    log = tmp_path / "item.log"
    log.write_text("".join(f"line {n}\n" for n in range(1, 201)))
    app = TailApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))
        await pilot.pause()
        await pilot.pause()
        assert pane.lines[-1] == "line 200"
        assert pane.max_scroll_y > 0 and pane.scroll_y == pane.max_scroll_y
        with log.open("a") as handle:
            handle.write("the error at the end\n")
        pane.poll()
        await pilot.pause()
        assert pane.lines[-1] == "the error at the end"
        assert pane.scroll_y == pane.max_scroll_y


async def test_the_nothing_logged_note_gives_way_to_real_lines(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    app = TailApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogTail)
        pane.follow(str(log))
        await pilot.pause()
        assert list(pane.lines) == ["(nothing logged yet)"]
        log.write_text("first real line\n")
        pane.poll()
        await pilot.pause()
        assert list(pane.lines) == ["first real line"]
