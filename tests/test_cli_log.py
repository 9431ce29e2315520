"""`batchtui log ID ITEM`: an item's log, every attempt's or one's, as text or JSON; bad input
refused in one line with exit 2; `--follow` prints lines as they come and ends with the item."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchtui.core.models import Batch, BatchStatus, ItemStatus, RunnerInfo

from .conftest import CliResult
from .tui_support import config, item, store

RunCli = Callable[..., CliResult]

FIRST = "=== attempt 1 of item 1 at 2026-11-25T11:58:00+00:00 ===\nboom: disk full\n"
SECOND = "=== attempt 2 of item 1 at 2026-11-25T11:59:00+00:00 ===\nrendered 120 frames\n"


def ended_batch(log: Path) -> Batch:
    """Item 1 failed once then succeeded (both attempts in one log); item 2 never ran."""
    log.write_text(FIRST + SECOND)
    now = datetime.now(UTC)
    return Batch(
        id="b00001000000",
        name="Logged",
        status=BatchStatus.COMPLETE,
        config=config(),
        items=[
            item(
                1,
                "Why is space dark?",
                ItemStatus.SUCCEEDED,
                attempts=2,
                started_at=now - timedelta(seconds=30),
                finished_at=now - timedelta(seconds=10),
                log_path=str(log),
                progress=1.0,
            ),
            item(2, "How stars die", ItemStatus.SKIPPED),
        ],
        config_hash="x",
        started_at=now - timedelta(seconds=60),
        finished_at=now,
    )


@pytest.fixture
def logged(db_path: Path, tmp_path: Path) -> Path:
    log = tmp_path / "01-why-is-space-dark.log"
    store(db_path, ended_batch(log))
    return log


def test_prints_every_attempt(logged: Path, run_cli: RunCli) -> None:
    result = run_cli("log", "Logged", "1")
    assert (result.code, result.out) == (0, FIRST + SECOND)


def test_prints_one_attempt(logged: Path, run_cli: RunCli) -> None:
    assert run_cli("log", "Logged", "1", "--attempt", "1").out == FIRST
    assert run_cli("log", "Logged", "1", "--attempt", "2").out == SECOND


def test_names_the_item_by_its_id(logged: Path, run_cli: RunCli) -> None:
    assert run_cli("log", "Logged", "item00000001").out == FIRST + SECOND


def test_json(logged: Path, run_cli: RunCli) -> None:
    data = json.loads(run_cli("log", "Logged", "1", "--attempt", "2", "--json").out)
    assert data["text"] == SECOND and data["attempt"] == 2 and data["attempts"] == 2
    assert data["path"] == str(logged) and data["status"] == "SUCCEEDED"


def test_an_item_that_never_ran_says_so(logged: Path, run_cli: RunCli) -> None:
    result = run_cli("log", "Logged", "2")
    assert (result.code, result.out) == (0, "")
    assert "item 2 has not run yet" in result.err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("9",), "has no item '9'"),
        (("nope",), "has no item 'nope'"),
        (("1", "--attempt", "3"), "item 1 has 2 attempts: --attempt takes 1 to 2"),
        (("1", "--attempt", "0"), "--attempt takes 1 to 2"),
        (("2", "--attempt", "1"), "item 2 has not run yet"),
        (("1", "--attempt", "x"), "--attempt"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    logged: Path, run_cli: RunCli, args: tuple[str, ...], says: str
) -> None:
    result = run_cli("log", "Logged", *args)
    assert result.code == 2, result
    assert says in result.err and result.out == ""
    assert result.err.startswith("batchtui") and result.err.count("\n") == 1, result.err


@pytest.mark.slow
def test_follow_prints_new_lines_and_ends_when_the_item_ends(db_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "01-item.log"
    log.write_text("=== attempt 1 of item 1 at 2026-11-25T11:58:00+00:00 ===\nframe 1\n")
    now = datetime.now(UTC)

    def state(first: ItemStatus) -> Batch:
        done = first is ItemStatus.SUCCEEDED
        return Batch(
            id="b00001000000",
            name="Followed",
            status=BatchStatus.PROCESSING,
            config=config(),
            items=[
                item(
                    1,
                    "x",
                    first,
                    attempts=1,
                    started_at=now,
                    finished_at=now if done else None,
                    log_path=str(log),
                ),
                item(2, "y", ItemStatus.RUNNING, attempts=1, started_at=now),
            ],
            config_hash="x",
            started_at=now,
            # Owned by this live process: the follower's liveness check leaves the run be.
            runner=RunnerInfo(
                pid=os.getpid(), host=socket.gethostname(), started_at=now, heartbeat=now
            ),
        )

    store(db_path, state(ItemStatus.RUNNING))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHTUI_")}
    follower = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "log", "Followed", "1", "-f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert follower.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in follower.stdout], daemon=True)
    reader.start()

    def next_line() -> str:
        return lines.get(timeout=20)  # a bounded wait on the follower's output

    try:
        assert next_line().startswith("=== attempt 1")
        assert next_line() == "frame 1\n"
        with log.open("a") as file:
            file.write("frame 2\n")
        assert next_line() == "frame 2\n"  # printed while the item runs
        assert follower.poll() is None
        with log.open("a") as file:
            file.write("done")  # no line end: printed once the item ended
        store(db_path, state(ItemStatus.SUCCEEDED))  # item 2 still runs: the batch goes on
        assert follower.wait(timeout=20) == 0
        reader.join(timeout=5)
        assert next_line() == "done"
        assert follower.stderr is not None and follower.stderr.read() == ""
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
