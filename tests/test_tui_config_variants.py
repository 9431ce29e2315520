"""The config form's Variants box (issue 28): a number from 1 to 100 is saved and said in
the Running group's title; 0, 101 and a word are refused in one clear line, nothing saved."""

from __future__ import annotations

import pytest
from textual.widgets import Collapsible, Input

from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen

from .tui_support import make_app, type_text

pytestmark = pytest.mark.anyio


async def _set(pilot, editor: ItemEditorScreen, field: str, text: str) -> None:
    box = editor.query_one(f"#f-{field}", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def test_variants_save_show_in_the_group_title_and_bad_ones_are_refused(db_path):
    service = BatchService(Repository(db_path))
    batch_id = service.create("Form").id
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(batch_id)
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, ItemEditorScreen)
        await _set(pilot, editor, "variants", "3")
        assert service.get(batch_id).config.variants == 3
        group = editor.query_one("#group-running", Collapsible)
        for _ in range(100):  # the title follows the saved batch (a loaded machine: later)
            if "3 variants" in str(group.title):
                break
            await pilot.pause(0.05)
        assert "3 variants" in str(group.title)
        for bad in ("0", "101", "x"):
            await _set(pilot, editor, "variants", bad)
            assert service.get(batch_id).config.variants == 3, bad
            panel = str(editor.query_one("#problems").render())
            assert panel.startswith("Not saved:"), (bad, panel)
            assert "ariants" in panel and len(panel.splitlines()) == 2, (bad, panel)
