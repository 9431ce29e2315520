"""The batch list in the real app, in a pty at 80x24: two rows marked with `space` in one
write (as a burst over SSH arrives) and deleted together after one confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .terminal import Terminal
from .tui_support import batch, item, ran, store

pytestmark = pytest.mark.slow


def test_two_rows_marked_in_one_write_are_deleted_after_one_question(db_path: Path) -> None:
    store(
        db_path,
        batch(1, "Bravo", BatchStatus.COMPLETE, [ran(1, "x", ItemStatus.SUCCEEDED)], age=300),
        batch(2, "Alpha", BatchStatus.DRAFT, [item(1, "x")], age=200),
        batch(3, "Keeper", BatchStatus.DRAFT, [item(1, "x")], age=100),
    )
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Keeper")
        term.send(b"  ")  # one write: mark Bravo, move down, mark Alpha, move down
        screen = term.wait_for("2 marked")
        assert "* Bravo" in screen and "* Alpha" in screen and "* Keeper" not in screen
        term.send(b"x")  # on Keeper's row: the marked ones are deleted, not Keeper
        screen = term.wait_for("Delete 2 batches?")
        assert "· Bravo (COMPLETE" in screen and "· Alpha (DRAFT" in screen
        term.send(b"y")
        term.wait_for(lambda s: "Bravo" not in s.split("\n")[2] and "2 marked" not in s)
        names = [s.name for s in BatchService(Repository(db_path)).summaries()]
        assert names == ["Keeper"]
        term.send(b"q")
        assert term.wait_exit() == 0
