"""`Q` on the batch list: the host's queue, read off the event loop and refreshed; escape (and
a second escape) go back to the list, never further."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.queue import QueueScreen

from .helpers import wait_until
from .tui_support import NOW, batch, item, make_app, store

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("own_slots")]


async def test_q_shows_the_hosts_queue_and_escape_comes_back(db_path, monkeypatch):
    monkeypatch.setenv("BATCHTUI_SLOTS", "2")
    store(db_path, batch(1, "Idle", BatchStatus.DRAFT, [item(1, "x")]))
    app = make_app(BatchService(Repository(db_path), clock=lambda: NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("Q")
        await wait_until(lambda: isinstance(app.screen, QueueScreen))
        limit = app.screen.query_one("#queue-limit", Static)
        await wait_until(lambda: "2 slots, 2 free" in str(limit.render()))
        assert app.screen.query_one("#queue-running", DataTable).row_count == 0
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, BatchListScreen)  # the second escape did not go further
