"""j/k/g/G/Home/End move the row cursor in every table (batch list, item editor, progress)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.service import BatchService
from batchtui.store import Repository

from .tui_support import make_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def walk(pilot, table) -> list[int]:
    rows = []
    for key in ("G", "k", "g", "j", "end", "home"):
        await pilot.press(key)
        await pilot.pause()
        rows.append(table.cursor_row)
    return rows


async def test_row_keys_in_every_table(db_path: Path) -> None:
    service = BatchService(Repository(db_path), flush_interval=0.02)
    for name in ("one", "two", "three", "four"):
        service.create(name)
    batch = service.get("four")
    service.add_items(batch.id, ["a", "b", "c"])
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        batches = app.screen.query_one("#batches")
        assert await walk(pilot, batches) == [3, 2, 0, 1, 3, 0]

        app.open_batch(batch.id)
        await pilot.pause()
        items = app.screen.query_one("#items")
        items.focus()
        assert await walk(pilot, items) == [2, 1, 0, 1, 2, 0]

        app.pop_screen()
        app.open_progress(batch.id)
        await pilot.pause()
        rows = app.screen.query_one("#run-items")
        rows.focus()
        assert await walk(pilot, rows) == [2, 1, 0, 1, 2, 0]
