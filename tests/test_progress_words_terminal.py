"""The progress screen's words in the real app, in a pty at 80x24: no pace before anything of
this run ended, items waiting to retry counted as retrying (◔ is for a host slot), the canary
phase and each retry's countdown said, and an overall bar that never runs backwards as items
fail."""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchtui.core.models import Batch, BatchStatus, ItemStatus, RunnerInfo

from .terminal import Terminal
from .tui_support import config, item, store

pytestmark = pytest.mark.slow


def running_batch(items: list, now: datetime, **fields) -> Batch:
    """A PROCESSING batch begun a minute ago, owned by a live process (the test's parent)."""
    made = Batch(
        id="b00001000000",
        name="Live Words",
        status=BatchStatus.PROCESSING,
        config=config(**fields),
        items=items,
    )
    made.config_hash = made.config.fingerprint()
    made.locked_at = made.started_at = now - timedelta(seconds=60)
    made.runner = RunnerInfo(
        pid=os.getppid(), host=socket.gethostname(), started_at=now, heartbeat=now
    )
    return made


def canary_waiting_to_retry(now: datetime) -> Batch:
    """Item 1, the canary, failed once and waits 45 s for its retry 1/3; item 2 succeeded in an
    earlier run; item 3 waits its turn. Nothing of this run has ended."""
    began = now - timedelta(seconds=60)
    return running_batch(
        [
            item(
                1,
                "Why is space dark?",
                attempts=1,
                started_at=now - timedelta(seconds=30),
                finished_at=now - timedelta(seconds=20),
                error="exit code 3: boom",
                retry_at=now + timedelta(seconds=45),
                retries_used=1,
                waiting="retry 1/3 at 12:00:00",
            ),
            item(
                2,
                "What are black holes?",
                ItemStatus.SUCCEEDED,
                attempts=1,
                started_at=began - timedelta(seconds=300),
                finished_at=began - timedelta(seconds=200),
                progress=1.0,
                output_path="/render/out/02-black-holes.mp4",
            ),
            item(3, "How stars die"),
        ],
        now,
        canary=True,
        retries=3,
    )


WORDS = {
    # nothing of this run has ended: no pace yet (the old screen made one up)
    "no pace": lambda screen: "items/min" not in screen,
    "retrying": lambda screen: "↻ 1 retrying" in screen,
    # ◔ is for a host slot only; no item waits for one here
    "no host-slot wait": lambda screen: "◔" not in screen and "waiting" not in screen,
    "canary": lambda screen: (
        "canary: one at a time until item 1 succeeds, then 3 at once" in screen
    ),
    "countdown": lambda screen: re.search(r"retry 1/3 in [34]\d s", screen) is not None,
}


@pytest.mark.parametrize("word", list(WORDS))
def test_a_canary_waiting_to_retry_is_said_as_it_is(db_path: Path, word: str) -> None:
    now = datetime.now(UTC)
    store(db_path, canary_waiting_to_retry(now))
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Live Words")
        term.send(b"\r")
        screen = term.wait_for("How stars die", settle=0.3)
        assert WORDS[word](screen), screen


def overall_percent(screen: str) -> int:
    """The percent at the end of the overall bar (the first line that ends in one)."""
    for line in screen.splitlines():
        found = re.search(r"\s(\d+)%$", line)
        if found:
            return int(found.group(1))
    raise AssertionError(f"no overall bar:\n{screen}")


def test_the_overall_bar_never_runs_backwards_as_an_item_fails(db_path: Path) -> None:
    now = datetime.now(UTC)
    started = now - timedelta(seconds=30)

    def state(first: ItemStatus) -> Batch:
        ended = first is not ItemStatus.RUNNING
        return running_batch(
            [
                item(
                    1,
                    "Why is space dark?",
                    first,
                    attempts=1,
                    started_at=started,
                    finished_at=now if ended else None,
                    progress=0.8,
                    error="exit code 1" if ended else None,
                ),
                item(2, "How stars die", ItemStatus.RUNNING, attempts=1, started_at=started),
            ],
            now,
        )

    store(db_path, state(ItemStatus.RUNNING))
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Live Words")
        term.send(b"\r")
        before = overall_percent(term.wait_for("How stars die", settle=0.3))
        assert before == 40  # 0.8 of one item of two
        store(db_path, state(ItemStatus.FAILED))
        screen = term.wait_for("1 failed", settle=0.3)
        assert overall_percent(screen) >= before  # the failed item counts as done: 50%
        assert overall_percent(screen) == 50


def test_the_selected_rows_error_is_shown_whole_at_80_columns(db_path: Path) -> None:
    now = datetime.now(UTC)
    error = "exit code 1: ffmpeg could not open the encoder for stream #0:0 (no font: Impact)"
    failed = item(
        1,
        "Why is space dark?",
        ItemStatus.FAILED,
        attempts=1,
        started_at=now - timedelta(seconds=30),
        finished_at=now - timedelta(seconds=20),
        error=error,
    )
    store(db_path, running_batch([failed, item(2, "How stars die")], now))
    with Terminal.batchtui(db_path) as term:
        term.wait_for("Live Words")
        term.send(b"\r")
        screen = term.wait_for("How stars die", settle=0.3)
        joined = " ".join(line.strip() for line in screen.splitlines())
        assert "item 1: " + error in joined  # the cell is cut; the line under the table is not
