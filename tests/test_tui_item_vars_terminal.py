"""The vars dialog in the real app, in a pty at 80x24, keys in one write (as a burst over
SSH arrives): backspaces, a tab to the key box and its enters act in the order typed, the
enter after the save never closes the editor below, a bad line is said and kept, and pastes
(bracketed or not) land as text, saving nothing until asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.service import BatchService
from batchtui.store import Repository

from .terminal import Terminal, bracketed
from .test_tui_item_vars import series

pytestmark = pytest.mark.slow

BACKSPACE = b"\x7f"
TAB = b"\t"
CTRL_S = b"\x13"


def first(db_path: Path):
    return BatchService(Repository(db_path)).get("b00001000000").items[0]


def open_dialog(term: Terminal) -> None:
    term.wait_for("Series")
    term.send(b"\r")  # the list's enter: the editor
    term.wait_for("v Vars")
    term.send(b"v")
    term.wait_for("variables and key")


def test_a_burst_edits_in_order_and_its_enters_save_once(db_path: Path) -> None:
    series(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        # seed=7 erased and replaced, tab to the key, the key replaced, enter three times.
        term.send(BACKSPACE * 6 + b"mood=calm" + TAB + BACKSPACE * 4 + b"intro" + b"\r\r\r")
        # The editor's whole frame (its config pane too), not the batch list under it: waited
        # for whole, since a frame can be read half drawn on a busy machine.
        term.wait_for(lambda s: "variables and key" not in s and "intro" in s and "Config" in s)
        saved = first(db_path)
        assert saved.vars == {"voice": "alto", "mood": "calm"} and saved.key == "intro"
        assert "Traceback" not in term.text()


def test_a_bad_line_is_said_and_kept_and_nothing_is_saved(db_path: Path) -> None:
    series(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        term.send(b"\rbad line\r")  # enter after it: refused, the text stays
        screen = term.wait_for("is not NAME=VALUE")
        term.send(b"more")  # typed on at the end of that line (no line was added)
        screen = term.wait_for("bad linemore")
        assert "variables and key" in screen
        term.send(CTRL_S)
        term.wait_for("line 3:")
        assert first(db_path).vars == {"voice": "alto", "seed": 7}


def test_pastes_land_as_text_and_save_on_ctrl_s(db_path: Path) -> None:
    series(db_path)
    with Terminal.batchtui(db_path) as term:
        open_dialog(term)
        term.send(bracketed("\nmood=calm d\nq=$(rm -rf ~)\n"))
        term.wait_for("q=$(rm -rf ~)")
        term.send(b"lang=en\r\nv=x y")  # a paste without brackets: keys, CR LF line ends
        screen = term.wait_for("v=x y")
        assert "variables and key" in screen and "lang=en" in screen
        assert first(db_path).vars == {"voice": "alto", "seed": 7}  # nothing saved yet
        term.send(CTRL_S)
        term.wait_for(lambda s: "variables and key" not in s)
        assert first(db_path).vars == {
            "voice": "alto",
            "seed": 7,
            "mood": "calm d",
            "q": "$(rm -rf ~)",
            "lang": "en",
            "v": "x y",
        }
        assert len(BatchService(Repository(db_path)).get("b00001000000").items) == 3
