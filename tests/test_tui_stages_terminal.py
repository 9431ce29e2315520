"""The stages dialog in the real app, in a pty at 80x24, keys in one write (a burst over SSH):
enters are new lines, ctrl+s right behind them saves once, and the editor below stays; a
paste (bracketed or not) lands as text; escape leaves the stages as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.service import BatchService
from batchtui.store import Repository

from .terminal import Terminal, bracketed
from .test_tui_stages import draft

pytestmark = pytest.mark.slow

CTRL_S = b"\x13"
ESCAPE = b"\x1b"


def stages_of(db_path: Path, batch_id: str) -> list[str]:
    stages = BatchService(Repository(db_path)).get(batch_id).config.stages or []
    return [stage.name for stage in stages]


def open_dialog(term: Terminal) -> None:
    term.wait_for("Piped")
    term.send(b"\r")  # the list's enter: the editor
    term.wait_for("Config")
    term.send(b"S")
    term.wait_for("Stages of")


def test_enters_then_ctrl_s_in_one_write_save_once_and_keep_the_editor(db_path: Path) -> None:
    batch_id = draft(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        term.send(b"\r\r" + CTRL_S + b"\r")  # a trailing enter: the editor's, not a pop
        term.wait_for(lambda s: "Stages of" not in s and "script → voice" in s)
        assert stages_of(db_path, batch_id) == ["script", "voice", "card", "mux"]
        assert "Config" in term.text() and "Traceback" not in term.text()


def test_a_paste_lands_as_text_both_ways_and_escape_saves_nothing(db_path: Path) -> None:
    batch_id = draft(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        term.send(bracketed('\n[[stages]]\nname = "extra"\ncommand = "x {output}"\n'))
        term.wait_for('name = "extra"')
        term.send(b"\n# a note\nyn")  # unbracketed: LF line ends, y and n typed
        term.wait_for("yn# A narrated")  # y and n typed where the cursor was
        term.send(ESCAPE)
        term.wait_for(lambda s: "Stages of" not in s and "none: one step" in s)
        assert stages_of(db_path, batch_id) == []
