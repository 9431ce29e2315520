"""The command palette: the footer's words find their commands, only actions the selected batch
allows are offered, and there is one Quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .helpers import force_status
from .tui_support import make_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def partial_batch(service: BatchService) -> str:
    batch = service.create("Half done")
    service.add_items(batch.id, ["one", "two"])

    def change(b):
        force_status(b, BatchStatus.PARTIAL)
        force_status(b.items[0], ItemStatus.SUCCEEDED)
        force_status(b.items[1], ItemStatus.FAILED)
        return b

    with service._runs.ctx.repo.transaction() as tx:  # a batch as a run left it
        tx.save(change(tx.get(batch.id)))
    return batch.id


async def test_palette_titles_match_the_footer_and_respect_the_batch(db_path: Path) -> None:
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch_id = partial_batch(service)
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("Retry") for t in titles), titles
        assert not any(t.startswith("Cancel") for t in titles)  # not on a PARTIAL batch
        assert sum(t.lower().startswith("quit") for t in titles) == 1
        app.open_progress(batch_id)
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for word in ("Retry", "Detail", "Failed"):
            assert any(t.startswith(word) for t in titles), (word, titles, app.screen)
        assert not any(t.startswith("Cancel") for t in titles)
        assert not any("concurrency" in t.lower() for t in titles)  # not once it ended
        locked = service.create("Ready")
        service.add_items(locked.id, ["x"])
        service.lock(locked.id)
        app.pop_screen()
        app.open_progress(locked.id)
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert any(t.startswith("More: Concurrency +1") for t in titles), titles
