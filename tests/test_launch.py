"""`batchtui` with no command: the launcher opens the UI, whose first frame needs no models."""

from __future__ import annotations

import subprocess
import sys

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.engine.liveness import process_token
from batchtui.launch import tui_database
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.app import BatchtuiApp

from .helpers import force_status
from .test_service import dead_pid

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (True, None)),
        (["tui"], (True, None)),
        (["--db", "x.json"], (True, "x.json")),
        (["--db=x.json", "tui"], (True, "x.json")),
        (["tui", "--db", "x.json"], (True, "x.json")),
        (["list"], (False, None)),
        (["--db", "x.json", "list"], (False, "x.json")),
        (["--db"], (False, None)),  # argparse explains what is missing
        (["--help"], (False, None)),
        (["--db", "a", "--db", "b"], (False, "a")),
    ],
)
def test_only_a_bare_ui_request_skips_the_cli(argv, expected):
    assert tui_database(argv) == expected


def test_the_ui_path_loads_no_models_before_its_first_frame():
    code = (
        "import sys, batchtui.launch, batchtui.cli.reporting, batchtui.service, batchtui.tui.app;"
        "from batchtui.tui.screens import batch_list;"
        "import batchtui.service.reads;"  # what the first frame reads summaries with
        "print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'batchtui.core.models',"
        " 'batchtui.service.editing', 'batchtui.service.runs', 'batchtui.service.validation',"
        " 'batchtui.engine', 'batchtui.runners', 'batchtui.cli.main', 'filelock'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_launcher_refuses_an_unusable_database_in_one_line(tmp_path):
    db = tmp_path / "db.json"
    db.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "is empty" in result.stderr
    assert db.read_text() == ""


async def test_first_frame_from_the_store_then_dead_runs_are_recovered(db_path, fake_generator):
    service = BatchService(Repository(db_path))
    batch = service.create("Orphan", generator="fake", output_ext="txt")
    service.add_items(batch.id, ["a"])
    service.lock(batch.id)
    service.begin(batch.id)
    with Repository(service.database_path).transaction() as tx:  # as if its runner had been killed
        stored = tx.get(batch.id)
        pid = dead_pid()
        stored.runner.pid, stored.runner.token = pid, process_token(pid)
        force_status(stored.items[0], ItemStatus.RUNNING)
        tx.save(stored)
    app = BatchtuiApp(BatchService(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert "_runs" in app.service.__dict__, "recovery runs once the first frame is drawn"
        assert Repository(db_path).get(batch.id).status is BatchStatus.FAILED
        table = app.screen.query_one("#batches")
        assert "FAILED" in table.get_row(batch.id)[1].plain
