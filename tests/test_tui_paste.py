"""Pasting items in the editor: terminals send a paste's line ends as CR (tmux, xterm, VTE,
iTerm); every line becomes an item, whether the item box or the table has focus."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.widgets.item_input import ItemInput

from .tui_support import make_app

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("newline", ["\r", "\n", "\r\n"])
async def test_a_multi_line_paste_into_the_item_box_adds_every_line(
    db_path: Path, newline: str
) -> None:
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch = service.create("Paste")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(batch.id)
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        await pilot.press("a")
        box = app.screen.query_one("#item-input", ItemInput)
        assert app.focused is box
        box.post_message(events.Paste(newline.join(["Why cats purr", "", "Why cats nap"])))
        await pilot.pause()
    assert [i.content for i in service.get(batch.id).items] == ["Why cats purr", "Why cats nap"]


async def test_a_paste_while_the_table_has_focus_adds_items_too(db_path: Path) -> None:
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch = service.create("Paste")
    service.add_items(batch.id, ["first"])
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(batch.id)
        await pilot.pause()
        table = app.screen.query_one("#items")
        table.focus()
        await pilot.pause()
        table.post_message(events.Paste("second\rthird\r"))
        await pilot.pause()
    assert [i.content for i in service.get(batch.id).items] == ["first", "second", "third"]


async def test_a_paste_into_a_locked_batch_says_why_nothing_was_added(db_path: Path) -> None:
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch = service.create("Locked")
    service.add_items(batch.id, ["only"])
    service.lock(batch.id)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(batch.id)
        await pilot.pause()
        table = app.screen.query_one("#items")
        table.focus()
        table.post_message(events.Paste("more\rstill more"))
        await pilot.pause()
        notes = [n.message for n in app._notifications]
    assert any("only be added to a DRAFT batch" in note for note in notes)
    assert [i.content for i in service.get(batch.id).items] == ["only"]
