"""One set of "did not succeed": the progress screen's "f: the N others", the rows its failed-only
filter shows, the items `r` retries and what `batchtui failed` lists are the same items, with a
skipped item among them (they once disagreed: "the 3 others" over 5 rows)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.tui.screens.progress import ProgressScreen
from batchtui.tui.screens.start_choice import StartScreen

from .tui_support import batch, item, make_app, make_service, ran, store

pytestmark = pytest.mark.anyio


def _ended_with_every_status(tmp_path: Path):
    """A PARTIAL batch with an item in every status an ended run leaves."""
    return batch(
        1,
        "Every end",
        BatchStatus.PARTIAL,
        [
            ran(1, "ok", ItemStatus.SUCCEEDED),
            ran(2, "broke", ItemStatus.FAILED, error="exit code 1"),
            item(3, "never ran", ItemStatus.CANCELLED, error="never started: the run ended first"),
            ran(4, "cut off", ItemStatus.INTERRUPTED, error="its runner stopped"),
            item(5, "skipped one", ItemStatus.SKIPPED, error="skipped: 1 item failed"),
            item(6, "skipped two", ItemStatus.SKIPPED, error="skipped: 1 item failed"),
            ran(7, "ok too", ItemStatus.SUCCEEDED),
        ],
        generator="fake",
        output_ext="txt",
        output_dir=str(tmp_path / "out"),
        workdir=str(tmp_path),
    )


async def test_the_others_are_what_f_shows_and_r_retries(db_path, tmp_path, fake_generator):
    ended = _ended_with_every_status(tmp_path)
    store(db_path, ended)
    others = {it.id for it in ended.items if it.status is not ItemStatus.SUCCEEDED}
    assert len(others) == 5
    service = make_service(db_path)
    app = make_app(service)
    async with app.run_test(size=(120, 30)) as pilot:
        app.open_progress(ended.id)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        hint = str(screen.query_one("#next-step", Static).render())
        assert "f: the 5 others" in hint, hint

        await pilot.press("f")
        await pilot.pause()
        table = screen.query_one("#run-items")
        assert set(table.rows) == others

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        title = str(app.screen.query_one(".dialog-title", Static).render())
        assert "5 items" in title, title
        await pilot.press("escape")
        await pilot.pause()

    assert {it.id for it in service.failed(ended.id)} == others
    begun = service.begin(ended.id, retry=True)
    assert {it.id for it in begun.items if it.status is ItemStatus.PENDING} == others
