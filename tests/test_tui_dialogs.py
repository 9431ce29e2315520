"""The new-batch dialog: enter creates from any field; limits read as people say them."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select

from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.new_batch import NewBatchScreen, _limit

from .tui_support import make_app, type_text

pytestmark = pytest.mark.anyio


@pytest.mark.slow
async def test_enter_on_the_platform_list_creates_and_an_open_list_picks(db_path: Path) -> None:
    service = BatchService(Repository(db_path), flush_interval=0.02)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await type_text(pilot, "Reels")
        await pilot.press("tab")  # the platform list has focus
        dialog = app.screen
        assert isinstance(dialog, NewBatchScreen)
        platform = dialog.query_one("#platform", Select)
        assert app.focused is platform
        await pilot.press("space")  # open the list …
        await pilot.pause()
        assert platform.expanded
        await pilot.press("down", "enter")  # … enter picks the next platform, list closes
        await pilot.pause()
        assert not platform.expanded and isinstance(app.screen, NewBatchScreen)
        picked = platform.value
        await pilot.press("enter")  # on the closed list: create
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
    made = service.get("Reels")
    assert made.config.platform == picked != "youtube_shorts"


def test_limits_read_as_people_say_them() -> None:
    assert [_limit(s) for s in (60, 180, 600, 43200, 90.5)] == [
        "1 min",
        "3 min",
        "10 min",
        "12 h",
        "90.5 s",
    ]
