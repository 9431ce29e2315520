"""Live progress, watched in the TUI while a real runner process works: every row says what the
store says (status, try, progress) to the end, a cancelled run says so, the failed-only filter
keeps a retry of those items in view, the end of a run is announced, and one chosen item can be
run again on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from batchtui.core.models import Batch, BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.flows import runs
from batchtui.tui.screens.dialogs import ConfirmScreen
from batchtui.tui.screens.progress import ProgressScreen

from .helpers import wait_until
from .tui_support import make_app

pytestmark = pytest.mark.anyio

# Items named "fail…" fail on their first run; every run waits for its gate file if the
# gate folder has a file named "hold" (so a test can look at a run in the middle).
SCRIPT = """\
import sys, time
from pathlib import Path
text, out, gates = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
while (gates / "hold").exists() and not (gates / text.replace(" ", "_")).exists():
    time.sleep(0.02)
print("50%", flush=True)
tries = gates / (text.replace(" ", "_") + ".tries")
runs = int(tries.read_text()) + 1 if tries.exists() else 1
tries.write_text(str(runs))
if text.startswith("fail") and runs == 1:
    print("error: first try of " + text, file=sys.stderr)
    sys.exit(3)
out.write_text(text)
"""


def _made(db_path: Path, make_script, tmp_path: Path, contents: list[str]) -> tuple[str, Path]:
    script = make_script("gated.py", SCRIPT)
    gates = tmp_path / "gates"
    gates.mkdir()
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch = service.create(
        "Live",
        generator="command",
        command=f"{script} {{content}} {{output}} {gates}",
        output_ext="txt",
        output_dir=str(tmp_path / "out"),
        concurrency=2,
    )
    service.add_items(batch.id, contents)
    service.lock(batch.id)
    return batch.id, gates


def _rows_say_what_the_store_says(screen: ProgressScreen, stored: Batch) -> None:
    """Every row shown (a filter may hide some) has the stored status and try count."""
    table = screen.query_one("#run-items")
    shown = [item for item in stored.items if item.id in table.rows]
    assert len(shown) == table.row_count
    for item in shown:
        row = table.source_row(item.id)
        status, _, tries = (cell.plain for cell in row[:3])
        assert item.status.value in status, (item.position, status, item.status)
        assert tries == str(item.attempts), (item.position, tries, item.attempts)


@asynccontextmanager
async def watching(db_path: Path, batch_id: str) -> AsyncIterator[tuple]:
    """The app at 80x24, the batch started from it and its live screen up: (service, app,
    pilot, screen)."""
    service = BatchService(Repository(db_path), flush_interval=0.02)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        runs.start_background(app, batch_id, cluster="local")
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        yield service, app, pilot, app.screen


async def _shows(screen: ProgressScreen, status: BatchStatus, limit: float = 30) -> None:
    """Wait until the screen shows the batch in `status`."""
    await wait_until(
        lambda: screen.current is not None and screen.current.status is status, limit=limit
    )


async def _shows_running(screen: ProgressScreen, count: int) -> None:
    """Wait until the screen shows `count` items RUNNING."""
    await wait_until(
        lambda: (
            screen.current is not None
            and sum(i.status is ItemStatus.RUNNING for i in screen.current.items) == count
        ),
        limit=20,
    )


async def test_rows_follow_a_run_started_here_to_its_end(db_path, make_script, tmp_path):
    batch_id, _ = _made(db_path, make_script, tmp_path, ["one", "fail two", "three", "four"])
    async with watching(db_path, batch_id) as (service, app, pilot, screen):
        assert isinstance(screen, ProgressScreen)
        await _shows(screen, BatchStatus.PARTIAL)
        await pilot.pause(0.1)
        stored = service.get(batch_id)
        _rows_say_what_the_store_says(screen, stored)
        assert "(4/4 finished)" in str(screen.query_one("#run-counts").render())
        # The end is announced (whatever screen is up).
        await wait_until(lambda: any("PARTIAL" in (n.title or "") for n in app._notifications))


@pytest.mark.slow
async def test_a_cancelled_run_says_cancelled_and_counts_what_never_started(
    db_path, make_script, tmp_path
):
    batch_id, gates = _made(db_path, make_script, tmp_path, ["a", "b", "c", "d", "e"])
    (gates / "hold").touch()
    async with watching(db_path, batch_id) as (service, app, pilot, screen):
        await _shows_running(screen, 2)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(
            lambda: (
                screen.current is not None and screen.current.status is not BatchStatus.PROCESSING
            ),
            limit=20,
        )
        await pilot.pause(0.1)
        stored = service.get(batch_id)
        assert stored.status is BatchStatus.FAILED
        _rows_say_what_the_store_says(screen, stored)
        assert "FAILED (cancelled)" in str(screen.query_one("#run-head").render())
        counts = str(screen.query_one("#run-counts").render())
        assert "(2/5 finished, 3 never started)" in counts


@pytest.mark.slow
async def test_failed_only_keeps_a_retry_of_those_items_in_view(db_path, make_script, tmp_path):
    batch_id, gates = _made(db_path, make_script, tmp_path, ["fail a", "b", "fail c"])
    async with watching(db_path, batch_id) as (service, app, pilot, screen):
        await _shows(screen, BatchStatus.PARTIAL)
        await pilot.press("f")
        table = screen.query_one("#run-items")
        assert table.row_count == 2
        (gates / "hold").touch()  # the retry's items wait at their gates: look mid-run
        runs.start_background(app, batch_id, retry=True, cluster="local")
        await _shows_running(screen, 2)
        await pilot.pause(0.1)
        assert table.row_count == 2  # the two being retried, not an empty table
        (gates / "fail_a").touch()
        (gates / "fail_c").touch()
        await _shows(screen, BatchStatus.COMPLETE)
        await pilot.pause(0.1)
        assert table.row_count == 2
        _rows_say_what_the_store_says(screen, service.get(batch_id))
        await pilot.press("f")  # all items again
        await pilot.pause()
        assert table.row_count == 3
        # Nothing failed any more: the filter says so instead of showing an empty table alone.
        await pilot.press("f")
        await pilot.pause()
        assert table.row_count == 0
        assert "none yet; f shows all" in str(screen.query_one("#run-timing").render())


@pytest.mark.slow
async def test_one_chosen_item_runs_again_on_purpose(db_path, make_script, tmp_path):
    batch_id, _ = _made(db_path, make_script, tmp_path, ["one", "two"])
    async with watching(db_path, batch_id) as (service, app, pilot, screen):
        await _shows(screen, BatchStatus.COMPLETE)
        await pilot.press("j")  # item 2
        await pilot.press("y")  # its output path, to the clipboard (OSC 52)
        assert app.clipboard == service.get(batch_id).items[1].output_path
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(lambda: service.get(batch_id).items[1].attempts == 2, limit=30)
        await wait_until(lambda: service.get(batch_id).status is BatchStatus.COMPLETE, limit=30)
        stored = service.get(batch_id)
        assert [item.attempts for item in stored.items] == [1, 2]
        await wait_until(lambda: screen.current.items[1].attempts == 2)
        await pilot.pause(0.1)
        _rows_say_what_the_store_says(screen, stored)
