"""Faults a hard week on a render box brings (issue 13): nothing lost, nothing orphaned, nothing
stuck, and one line instead of a traceback. Real processes and real files, as in
test_survival.py and test_bad_input.py."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from batchtui.service import BatchService
from batchtui.store import Repository

from .conftest import file_bytes


def one_line_error(result, fragment: str, code: int = 2) -> None:
    assert result.code == code, result
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchtui: error: "), result.err
    assert fragment in lines[0], lines[0]


# ------------------------------------------------------------------ data loss: the database


def test_a_database_path_that_is_a_symlink_writes_through_to_its_target(tmp_path, fake_generator):
    real = tmp_path / "data" / "real.json"
    real.parent.mkdir()
    link = tmp_path / "db.json"
    link.symlink_to(real)
    via_link = BatchService(Repository(link))
    made = via_link.create("Linked", generator="fake", output_ext="txt")
    via_link.add_items(made.id, ["one", "two"])
    assert link.is_symlink() and os.readlink(link) == str(real), "the link was replaced"
    direct = BatchService(Repository(real))
    assert [i.content for i in direct.get(made.id).items] == ["one", "two"]
    direct.rename(made.id, "Renamed directly")
    assert via_link.get(made.id).name == "Renamed directly"
    # one lock for both names: a batch held through the target is busy through the link
    repo = Repository(real)
    with repo.transaction() as tx:
        tx.get(made.id)
        with pytest.raises(Exception, match="locked by another"):
            BatchService(Repository(link, lock_timeout=0.05)).rename(made.id, "x")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_database_path_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path, run_cli, db_path, kind
):
    db_path.parent.mkdir(exist_ok=True)
    if kind == "fifo":
        os.mkfifo(db_path)
    else:
        db_path.symlink_to("/dev/zero")
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(run_cli("list")), daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, "list blocked on the database path"
    one_line_error(outcome[0], "not a regular file")


def test_a_lock_path_that_is_a_folder_is_one_line(run_cli, db_path, fake_generator):
    BatchService(Repository(db_path)).create("Held", generator="fake")
    lock = Path(str(db_path) + ".lock")
    lock.unlink(missing_ok=True)
    lock.mkdir()
    before = file_bytes(db_path)
    result = run_cli("create", "Another", "--generator", "fake")
    one_line_error(result, "cannot lock")
    assert file_bytes(db_path) == before
