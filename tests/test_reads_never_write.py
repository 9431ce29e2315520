"""Looking is not doing: the checks a person runs by reading (the editor's lock pre-check on
opening a draft, `config --output`, `lock`'s own checks) leave the disk as it was; only a run
makes the output folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.service import BatchService
from batchtui.store import Repository

from .tui_support import make_app


def _draft(db_path: Path, output: Path) -> str:
    service = BatchService(Repository(db_path))
    batch = service.create("Draft", output_dir=str(output))
    service.add_items(batch.id, ["one"])
    return batch.id


def test_config_output_names_a_folder_without_making_it(run_cli, db_path, tmp_path) -> None:
    batch_id = _draft(db_path, tmp_path / "first")
    wanted = tmp_path / "not" / "yet"
    done = run_cli("config", batch_id, "--output", str(wanted))
    assert done.code == 0, done.err
    assert not (tmp_path / "not").exists()
    shown = run_cli("config", batch_id)
    assert str(wanted) in shown.out and not (tmp_path / "not").exists()


@pytest.mark.anyio
async def test_opening_a_draft_in_the_tui_makes_no_folder(db_path, tmp_path) -> None:
    output = tmp_path / "outputs" / "here"
    batch_id = _draft(db_path, output)
    app = make_app(BatchService(Repository(db_path)))
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(batch_id)
        await pilot.pause()
        await pilot.pause()
    assert not (tmp_path / "outputs").exists()
