"""Reading a log in the real app, in a pty at 80x24: `w` wraps the long lines of the log pane,
`/` searches (the keys typed after it go into the search box, in one write), `n`/`N` go to the
next/previous match, each shown with the match on screen."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus

from .terminal import Terminal
from .tui_support import batch, ran, store

pytestmark = pytest.mark.slow

TAIL = "the end of a long line: ERROR disk full"


def logged(db_path: Path, tmp_path: Path) -> None:
    """A failed item whose log has long lines; every tenth names the error."""
    log = tmp_path / "01-item.log"
    lines = []
    for n in range(1, 61):
        words = "word " * 20 if n % 10 else "word " * 14 + f"{TAIL} at frame {n}"
        lines.append(f"line {n}: {words}\n")
    log.write_text("".join(lines))
    failed = ran(1, "Why is space dark?", ItemStatus.FAILED, error="exit code 1: disk full")
    failed.log_path = str(log)
    store(db_path, batch(1, "Logged", BatchStatus.FAILED, [failed]))


def test_w_wraps_the_long_lines_of_the_log_pane(db_path: Path, tmp_path: Path) -> None:
    logged(db_path, tmp_path)
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Logged")
        term.send(b"\r")
        screen = term.wait_for("line 60:", settle=0.3)
        assert "at frame 60" not in screen  # cut at the pane's edge
        term.send(b"w")
        term.wait_for("at frame 60", settle=0.2)  # its end, on the next row
        term.send(b"w")
        term.wait_for(lambda s: "at frame 60" not in s)


def current_match(term: Terminal) -> str:
    """The screen row that shows the current match (drawn in reverse video), '' if none."""
    term.text()
    for y in range(term.lines):
        row = term.screen.buffer[y]
        shown = "".join(row[x].data for x in range(term.columns) if row[x].reverse)
        if "disk full" in shown:
            return "".join(row[x].data for x in range(term.columns)).rstrip()
    return ""


def test_slash_searches_and_n_and_shift_n_go_through_the_matches(
    db_path: Path, tmp_path: Path
) -> None:
    logged(db_path, tmp_path)
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Logged")
        term.send(b"\r")
        term.wait_for("line 60:", settle=0.3)
        term.send(b"L")
        term.wait_for("log of item 1", settle=0.3)
        term.send(b"g")
        term.wait_for("line 1:", settle=0.2)
        term.send(b"/disk full\r")  # a search typed in one write, as a burst arrives
        term.wait_for("6 matches")
        frame = re.compile(r"at frame (\d+)$")

        def current() -> int | None:
            found = frame.search(current_match(term))
            return int(found.group(1)) if found else None

        def at(expected: int) -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if current() == expected:
                    return
                term.pump(0.05)
            raise AssertionError(f"the current match is not frame {expected}:\n{term.text()}")

        def step(frame_number: int, by: int) -> int:
            return (frame_number - 10 + 10 * by) % 60 + 10  # frames 10…60, wrapping around

        deadline = time.monotonic() + 10
        while (first := current()) is None and time.monotonic() < deadline:
            term.pump(0.05)
        assert first in (10, 20, 30, 40, 50, 60), term.text()  # one of the six is current
        term.send(b"n")
        at(step(first, 1))
        term.send(b"nn")
        at(step(first, 3))
        term.send(b"N")
        at(step(first, 2))
        term.send(b"NNNN")  # back round the start: wraps around
        at(step(first, -2))
        term.send(b"\x1b")
        term.wait_for("Logged")


def test_slash_on_the_progress_screen_searches_the_full_log_typed_in_one_write(
    db_path: Path, tmp_path: Path
) -> None:
    logged(db_path, tmp_path)
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Logged")
        term.send(b"\r")
        term.wait_for("line 60:", settle=0.3)
        term.send(b"/frame 30")  # in one write: f (failed only), r (retry) are typed, not run
        term.wait_for("frame 30")
        term.send(b"\r")
        screen = term.wait_for("1 match", settle=0.2)
        assert "log of item 1" in screen and "frame 30" in current_match_text(term), screen
        term.send(b"\x1b")
        screen = term.wait_for("Logged", settle=0.2)
        assert "showing failed only" not in screen and "Retry " not in screen.split("\n")[1]


def current_match_text(term: Terminal) -> str:
    """What the current match (in reverse video) shows."""
    term.text()
    for y in range(term.lines):
        row = term.screen.buffer[y]
        shown = "".join(row[x].data for x in range(term.columns) if row[x].reverse)
        if "frame" in shown:
            return shown
    return ""


def test_p_opens_the_log_file_in_the_pager_and_comes_back(db_path: Path, tmp_path: Path) -> None:
    logged(db_path, tmp_path)
    seen = tmp_path / "pager-saw.txt"
    pager = tmp_path / "my pager"
    pager.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{seen}'\n")
    pager.chmod(0o755)
    # PAGER with an argument, as `less -R` is: split into words, never run by a shell.
    env = {"PAGER": f"'{pager}' --flag"}
    with Terminal.batchtui(db_path, env=env) as term:
        term.wait_for("Logged")
        term.send(b"\r")
        term.wait_for("line 60:", settle=0.3)
        term.send(b"L")
        term.wait_for("log of item 1", settle=0.3)
        term.send(b"p")
        deadline = time.monotonic() + 20
        # (the pager's shell creates the file, then writes it: wait for both lines)
        while time.monotonic() < deadline and not (
            seen.exists() and seen.read_text().count("\n") == 2
        ):
            term.pump(0.05)
        assert seen.read_text().splitlines() == ["--flag", str(tmp_path / "01-item.log")]
        term.wait_for("line 60:")  # the app is back
        term.send(b"\x1b")
        term.wait_for("Logged")


def test_p_without_a_pager_says_so(db_path: Path, tmp_path: Path) -> None:
    logged(db_path, tmp_path)
    with Terminal.batchtui(db_path, env={"PAGER": "no-such-pager-here"}) as term:
        term.wait_for("Logged")
        term.send(b"\r")
        term.wait_for("line 60:", settle=0.3)
        term.send(b"L")
        term.wait_for("log of item 1", settle=0.3)
        term.send(b"p")
        term.wait_for("no pager")
