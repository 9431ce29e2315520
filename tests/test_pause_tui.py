"""Pause in the terminal UI: the PAUSED mark on the list and the progress screen (snapshots),
and `p` in the real app in a pty, against a real runner: two quick presses pause and resume,
and the screen always ends up showing what the run does."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService

from .terminal import Terminal
from .tui_support import every_status, make_app, make_service, mid_run, opening, store

pytestmark = pytest.mark.slow

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def utc():
    """Times on screen are local times: make 'local' UTC for these tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


def paused_run(mode: str = "drain"):
    running = mid_run()
    running.paused = running.holding = mode
    return running


def test_progress_of_a_paused_run(snap_compare, db_path):
    running = paused_run()
    store(db_path, running)
    app = make_app(make_service(db_path))
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(running.id, progress=True))


def test_list_with_a_frozen_run(snap_compare, db_path):
    batches = every_status()
    for batch in batches:
        if batch.status is BatchStatus.PROCESSING:
            batch.paused = batch.holding = "now"
    store(db_path, *batches)
    assert snap_compare(make_app(make_service(db_path)), terminal_size=SIZE)


def until(condition, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def run_state(screen: str) -> tuple[str, str]:
    """What the progress screen says of the run: its head line (status, pause mark) and its
    next-step line (the notifications on the right are left out: they tell of a key press)."""
    lines = [line.split("▌")[0].strip() for line in screen.splitlines()]
    head = next(line for line in lines if "PROCESSING" in line or "COMPLETE" in line)
    step = next(line for line in lines if line.startswith(("Running", "⏸ PAUSED", "✔")))
    return head, step


def test_p_twice_quickly_pauses_and_resumes_and_the_screen_says_so(db_path, tmp_path, own_slots):
    release = tmp_path / "release"
    script = tmp_path / "gated.sh"
    script.write_text(
        f'#!/bin/sh\nwhile [ ! -e "{release}" ]; do sleep 0.02; done\necho ok > "$2"\n'
    )
    script.chmod(0o755)
    service = BatchService(db_path)
    made = service.create(
        "Pausable", generator="command", command=f"{script} {{content}} {{output}}",
        output_ext="txt", concurrency=1,
    )  # fmt: skip
    service.add_items(made.id, ["one", "two", "three"])
    service.lock(made.id)
    runner = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", made.id],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    env = {"BATCHTUI_SLOTS_DIR": str(own_slots), "BATCHTUI_CONFIG_DIR": os.environ[
        "BATCHTUI_CONFIG_DIR"]}  # fmt: skip
    try:
        until(lambda: service.get(made.id).status is BatchStatus.PROCESSING)
        with Terminal.batchtui(db_path, env=env) as term:
            term.wait_for("PROCESSING")
            term.send(b"\r")  # open it: its live progress
            term.wait_for("p Pause")
            term.send(b"pp")  # one read: pause, then resume
            until(lambda: (b := service.get(made.id)).paused is None and b.holding is None)
            head, step = run_state(term.wait_for("Running · c cancel", settle=0.5))
            assert "PAUSED" not in head and step.startswith("Running"), (head, step)
            term.send(b"p")
            head, _ = run_state(term.wait_for("⏸ PAUSED: no new item starts; running ones finish"))
            assert head.startswith("▶ PROCESSING ⏸ PAUSED"), head
            until(lambda: service.get(made.id).holding == "drain")
            term.send(b"P")  # a drain becomes a freeze
            term.wait_for("PAUSED (frozen)")
            until(lambda: service.get(made.id).holding == "now")
            term.send(b"p")  # and goes on
            head, step = run_state(term.wait_for("Running · c cancel", settle=0.5))
            assert "PAUSED" not in head and step.startswith("Running"), (head, step)
            release.touch()
            term.wait_for("COMPLETE")
        assert runner.wait(timeout=30) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
