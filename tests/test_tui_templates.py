"""Templates in the TUI: save a batch as one (T), pick one in the new-batch dialog (n)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select

from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.new_batch import NewBatchScreen

from .tui_support import make_app, type_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_save_a_batch_as_a_template_then_make_a_batch_from_it(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHTUI_TEMPLATES", str(tmp_path / "templates"))
    service = BatchService(Repository(db_path), flush_interval=0.02)
    source = service.create("Ocean facts", platform="tiktok", duration=8)
    service.add_items(source.id, ["Why is the sea salty?", "How deep is it?"])
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, BatchListScreen)
        await pilot.press("T")
        await type_text(pilot, "ocean")
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "templates" / "ocean.toml").is_file()

        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NewBatchScreen)
        choice = dialog.query_one("#template", Select)
        choice.value = "ocean"  # the choice a user makes with tab, enter, down, enter
        dialog.query_one("#name", Input).focus()
        await type_text(pilot, "More oceans")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
    made = service.get("More oceans")
    assert [i.content for i in made.items] == ["Why is the sea salty?", "How deep is it?"]
    assert (made.config.platform, made.config.duration) == ("tiktok", 8.0)
