"""The real `batchtui` in a real pseudo-terminal: keys typed while it starts are not lost, and
quitting says which runs go on in the background (and how to follow them)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .helpers import pid_alive

pytestmark = pytest.mark.slow


def _spawn(db_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    process = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    return process, leader


def _drain(leader: int, until: float, stop=lambda seen: False) -> bytes:
    """Read what the app writes (its terminal must not fill up) until `until` or `stop`."""
    seen = b""
    while time.monotonic() < until and not stop(seen):
        ready, _, _ = select.select([leader], [], [], 0.05)
        if ready:
            try:
                seen += os.read(leader, 65536)
            except OSError:  # the app closed its end
                break
    return seen


def test_keys_typed_while_the_app_starts_are_kept(db_path: Path) -> None:
    process, leader = _spawn(db_path)
    try:
        os.write(leader, b"e")  # at once: the app has not even imported Textual yet
        service = BatchService(Repository(db_path))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _drain(leader, time.monotonic() + 0.1)
            if db_path.exists() and any(s.name == "Space Facts" for s in service.summaries()):
                break
        assert [s.name for s in service.summaries()] == ["Space Facts"]
        os.write(leader, b"q")
        _drain(leader, time.monotonic() + 10, stop=lambda seen: process.poll() is not None)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)


def test_quitting_says_which_runs_go_on_and_how_to_follow_them(
    db_path: Path, make_script, tmp_path: Path
) -> None:
    script = make_script("slow.py", "import sys, time\ntime.sleep(20)\n")
    service = BatchService(Repository(db_path))
    batch = service.create(
        "Long run", generator="command", command=f"{script} {{output}}", output_ext="txt"
    )
    service.add_items(batch.id, ["one"])
    service.lock(batch.id)
    started = service.start_detached(batch.id)
    try:
        process, leader = _spawn(db_path)
        try:
            _drain(leader, time.monotonic() + 30, stop=lambda seen: b"Long run" in seen)
            os.write(leader, b"q")
            out = _drain(leader, time.monotonic() + 15, stop=lambda seen: b"attach" in seen)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
            os.close(leader)
        text = out.decode("utf-8", "replace")
        assert "1 run goes on in the background" in text
        assert f"batchtui attach {batch.id}" in text
        assert service.get(batch.id).status is BatchStatus.PROCESSING  # quitting stopped nothing
        assert pid_alive(started.pid)
    finally:
        service.cancel(batch.id)
