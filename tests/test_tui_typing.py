"""Typing in the item editor as a person does, in the real app in a pty at 80x24: words typed
where the hint invites typing become items (they never run single-key commands), `dd` can be
undone, and a paste of three lines adds three items, once each, with or without bracketed
paste (without it, a paste arrives as keys, its line ends as CR, all in one read).

Before: after `n` → name → enter the item table had the focus, so `quantum` quit the app and
`quantum physics for kids` ended in a traceback (`i` opened the import dialog, `q` quit under
it); `dd` deleted two items with no question and no way back; an unbracketed paste glued its
lines into one item."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .terminal import ESC, Terminal, bracketed
from .tui_support import batch, item, store

pytestmark = pytest.mark.slow


def contents(db_path: Path, name: str) -> list[str]:
    return [i.content for i in BatchService(Repository(db_path)).get(name).items]


def open_new_batch(term: Terminal, name: str) -> None:
    """`n`, a name, enter: the editor of the new batch, as a new user opens it."""
    term.wait_for("No batches yet")
    term.send(b"n")
    term.wait_for("New batch")
    term.send(f"{name}\r".encode())
    term.wait_for("0/10 items")


def test_words_typed_in_a_new_batch_become_an_item(db_path: Path) -> None:
    with Terminal.batchtui(db_path) as term:
        open_new_batch(term, "Physics")
        term.send(b"quantum physics for kids\r")  # one write, as typed fast or over SSH
        screen = term.wait_for("1/10 items")
        assert "quantum physics for kids" in screen
        assert term.process.poll() is None, "the app is still running"
        term.send(b"dd")  # more words: typed into the box, never commands
        term.wait_for("dd")
        assert "Traceback" not in term.text()
        assert contents(db_path, "Physics") == ["quantum physics for kids"]
        term.send(ESC)  # out of the box (what it holds stays), to the table
        term.wait_for("a Add")  # the footer offers the table's keys again
        term.send(ESC)  # out of the batch
        term.wait_for("Physics", settle=0.2)
        term.send(b"q")
        assert term.wait_exit() == 0
    assert b"Traceback" not in term.raw


def test_dd_in_the_table_is_undone_with_u(db_path: Path) -> None:
    store(
        db_path,
        batch(1, "Keep", BatchStatus.DRAFT, [item(1, "alpha"), item(2, "beta"), item(3, "gamma")]),
    )
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Keep")
        term.send(b"\r")
        term.wait_for("3/10 items")
        term.send(b"dd")  # one write: two deletes
        screen = term.wait_for(lambda s: "1/10 items" in s and "u: undo" in s)
        assert "deleted 1 item · u: undo" in screen
        term.send(b"uu")  # one write: both back
        screen = term.wait_for("3/10 items")
        assert "Traceback" not in screen
    assert contents(db_path, "Keep") == ["alpha", "beta", "gamma"]


@pytest.mark.parametrize(
    "paste",
    [
        pytest.param(b"one\rtwo\r\nthree\n", id="unbracketed"),
        pytest.param(bracketed("one\rtwo\r\nthree\n"), id="bracketed"),
    ],
)
def test_a_paste_of_three_lines_adds_three_items_once_each(db_path: Path, paste: bytes) -> None:
    with Terminal.batchtui(db_path) as term:
        open_new_batch(term, "Pasted")
        term.send(paste)  # one write
        term.wait_for("3/10 items", settle=0.5)
        assert "Traceback" not in term.text()
    assert contents(db_path, "Pasted") == ["one", "two", "three"]
