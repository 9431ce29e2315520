"""The TUI on a real terminal that goes away: children stopped, items recorded, process gone."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .helpers import pid_alive


def test_sighup_to_the_tui_interrupts_its_run_and_exits(db_path, make_script, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    script = make_script(
        "hold.py",
        f"""
        import os, subprocess, sys, time
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        record = os.path.join({str(pids)!r}, str(os.getpid()))
        open(record, "w").write(f"{{os.getpid()}} {{helper.pid}}")
        time.sleep(60)
        """,
    )
    service = BatchService(Repository(db_path))
    batch = service.create(
        "Hangup",
        generator="command",
        command=f"{script} {{output}}",
        output_ext="txt",
        concurrency=2,
    )
    service.add_items(batch.id, ["a", "b", "c"])
    service.lock(batch.id)

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    tui = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path)],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    try:
        deadline = time.monotonic() + 30
        while len(list(pids.iterdir())) < 2:  # keep asking: "s", then "h" (run it here)
            assert time.monotonic() < deadline, "the run never started"
            os.write(master, b"s")
            time.sleep(0.5)
            os.write(master, b"h")
            time.sleep(0.5)
            _drain(master)
        os.close(master)  # the SSH connection drops: the terminal is gone ...
        master = None
        tui.send_signal(signal.SIGHUP)  # ... and the session is hung up
        assert tui.wait(timeout=20) == 128 + signal.SIGHUP
    finally:
        if tui.poll() is None:
            tui.kill()
        if master is not None:
            os.close(master)
    for record in pids.iterdir():
        for pid in map(int, record.read_text().split()):
            deadline = time.monotonic() + 10
            while pid_alive(pid):
                assert time.monotonic() < deadline, f"process {pid} outlived the TUI"
                time.sleep(0.05)
    ended = service.get(batch.id)
    assert ended.status is BatchStatus.FAILED
    statuses = [item.status for item in ended.items]
    assert statuses.count(ItemStatus.INTERRUPTED) == 2 and ItemStatus.RUNNING not in statuses


def _drain(fd: int) -> None:
    """Read what the TUI drew so its terminal never blocks on a full buffer."""
    import select

    while select.select([fd], [], [], 0)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return
