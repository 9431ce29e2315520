"""A command batch typed into the real app from scratch, in a pty at 80x24, keys in bursts:
the generator chosen in the form, a command line that writes a text file, an item, lock,
start — COMPLETE on its first run (before, every item failed "not a valid video": the output
type stayed mp4 and the form had no field for it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .terminal import Terminal

pytestmark = pytest.mark.slow

TAB, ENTER, ESC, HOME = b"\t", b"\r", b"\x1b", b"\x1b[H"


def _value_colour(term: Terminal, label: str) -> str:
    """The background of the value shown after `label` in the form (a focused one differs)."""
    term.pump(0)
    for row, line in enumerate(term.text().split("\n")):
        at = line.find(f"{label}  ")
        if at >= 0:
            column = at + 14  # the label's column is 13 wide, then the value
            return str(term.screen.buffer[row][column].bg)
    return ""


def test_a_command_batch_typed_in_the_form_completes(db_path: Path, tmp_path: Path) -> None:
    script = tmp_path / "write.py"
    script.write_text("import sys\nopen(sys.argv[2], 'w').write(sys.argv[1])\n")
    with Terminal.batchtui(db_path, cwd=tmp_path) as term:
        term.wait_for("create a batch")
        term.send(b"n")
        term.wait_for("Name")
        term.send(b"Notes" + ENTER)
        term.wait_for("Basics", settle=0.3)
        # Tab through the editor until the generator's list has the focus (drawn apart from
        # the lists above and below it), then open it.
        for _ in range(20):
            generator = _value_colour(term, "Generator")
            if generator not in (_value_colour(term, "Platform"), _value_colour(term, "Style")):
                break
            term.send(TAB)
            term.pump(0.3)
        else:
            raise AssertionError(f"tab never reached the generator:\n{term.text()}")
        term.send(ENTER)
        term.wait_for("titlecard", settle=0.2)
        term.send(HOME + ENTER)  # the list, by name: command first (then mux, …, titlecard)
        # The command's own default output type, and the working folder in sight.
        screen = term.wait_for("Ext          txt", settle=0.3)
        assert f"Workdir      {str(tmp_path)[:20]}" in screen
        term.send(TAB)
        term.pump(0.2)
        term.send(f"{sys.executable} {script} {{content}} {{output}}".encode() + ENTER)
        term.wait_for("saved Command", settle=0.2)
        term.send(ESC)  # out of the form, to the item table
        term.pump(0.3)
        term.send(b"a")
        term.pump(0.3)
        term.send(b"hello world" + ENTER)
        term.wait_for("1/10 items", settle=0.2)
        term.send(ESC)
        term.pump(0.3)
        term.send(b"l")
        term.wait_for("LOCKED", settle=0.2)
        term.send(b"s")
        term.wait_for("Start", settle=0.3)
        term.send(ENTER)
        screen = term.wait_for(lambda s: "COMPLETE" in s or "FAILED" in s, timeout=60)
        ended = BatchService(Repository(db_path)).get("Notes")
        assert ended.status is BatchStatus.COMPLETE, [item.error for item in ended.items]
