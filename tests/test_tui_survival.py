"""Runs started in the TUI belong to runner processes: killing the TUI (SIGKILL, or SIGHUP when
the SSH connection drops) never stops them, a new TUI shows them live, and a database another
process holds locked neither freezes the UI nor kills the run."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.flows import batches, runs
from batchtui.tui.screens.progress import ProgressScreen

from .helpers import pid_alive, wait_until
from .tui_support import make_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def gated_batch(service: BatchService, make_script, tmp_path: Path, count: int = 3) -> str:
    """A LOCKED batch whose items record their pid, then wait for `tmp_path/go` to exist."""
    pids = tmp_path / "pids"
    pids.mkdir(exist_ok=True)
    script = make_script(
        "gated.py",
        f"""
        import os, sys, time
        open(os.path.join({str(pids)!r}, str(os.getpid())), "w").close()
        while not os.path.exists({str(tmp_path / "go")!r}):
            time.sleep(0.02)
        open(sys.argv[1], "w").write("done")
        """,
    )
    batch = service.create(
        "Survivor",
        generator="command",
        command=f"{script} {{output}}",
        output_ext="txt",
        concurrency=count,
    )
    service.add_items(batch.id, [f"topic {n}" for n in range(count)])
    service.lock(batch.id)
    return batch.id


def drain(fd: int) -> None:
    """Read what the TUI drew so its terminal never blocks on a full buffer."""
    while select.select([fd], [], [], 0)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def start_in_a_terminal(db_path: Path, wanted: Path, count: int) -> tuple[subprocess.Popen, int]:
    """`batchtui` on a real terminal; keys `s`, `s` (start, confirm) until `count` items run."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    tui = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path)],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    deadline = time.monotonic() + 30
    while len(list(wanted.iterdir())) < count:
        assert time.monotonic() < deadline, "the run never started"
        for key in (b"s", b"s"):
            os.write(master, key)
            for _ in range(10):  # the dialog opens
                drain(master)
                if len(list(wanted.iterdir())) >= count:
                    break
                select.select([master], [], [], 0.05)
    return tui, master


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGHUP], ids=["SIGKILL", "SIGHUP"])
async def test_killing_the_tui_never_stops_its_run(db_path, make_script, tmp_path, how):
    service = BatchService(Repository(db_path))
    batch_id = gated_batch(service, make_script, tmp_path)
    tui, master = start_in_a_terminal(db_path, tmp_path / "pids", 3)
    try:
        runner = service.get(batch_id).runner
        assert runner is not None and runner.detached and runner.pid != tui.pid
        if how is signal.SIGHUP:
            os.close(master)  # the SSH connection drops: the terminal is gone ...
            master = -1
        tui.send_signal(how)  # ... and the session is hung up, or the TUI is killed
        tui.wait(timeout=20)
    finally:
        if tui.poll() is None:
            tui.kill()
        if master >= 0:
            os.close(master)
    assert tui.returncode != 0 and pid_alive(runner.pid)
    assert service.get(batch_id).status is BatchStatus.PROCESSING

    # A new TUI shows the run live, to its end.
    app = make_app(BatchService(Repository(db_path)), poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(batch_id)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        # The items' processes run; the runner records them within its flush interval.
        await wait_until(
            lambda: [i.status for i in screen.current.items] == [ItemStatus.RUNNING] * 3,
            limit=30,
        )
        (tmp_path / "go").touch()
        await wait_until(lambda: screen.current.status is BatchStatus.COMPLETE, limit=30)
        await pilot.pause(0.1)
        assert "COMPLETE" in str(screen.query_one("#next-step").render())
    ended = service.get(batch_id)
    assert [i.status for i in ended.items] == [ItemStatus.SUCCEEDED] * 3
    assert all(Path(i.output_path).read_text() == "done" for i in ended.items)


HOLD_LOCK = """
import sys, time
from filelock import FileLock
locks = [FileLock(path) for path in sys.argv[1:]]
for lock in locks:
    lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


async def test_a_held_database_lock_neither_freezes_the_tui_nor_kills_the_run(
    db_path, make_script, tmp_path, monkeypatch
):
    # The runner waits at most 0.3 s per try for the lock, so holding it for many tries
    # outlasts its timeout several times over.
    monkeypatch.setenv("BATCHTUI_LOCK_TIMEOUT", "0.3")
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch_id = gated_batch(service, make_script, tmp_path, count=2)
    other = service.create("Other")
    service.add_items(other.id, ["x"])
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        assert runs.start_background(app, batch_id)
        screen = app.screen
        await wait_until(lambda: len(list((tmp_path / "pids").iterdir())) == 2, limit=30)
        await wait_until(
            lambda: (
                screen.current is not None
                and [i.status for i in screen.current.items] == [ItemStatus.RUNNING] * 2
            ),
            limit=10,
        )
        # Another process holds the index and the other batch (what a user acts on here).
        other_lock = db_path.parent / "batchtui.batches" / ".locks" / f"{other.id}.lock"
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, f"{db_path}.lock", str(other_lock)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "held"
            (tmp_path / "go").touch()  # the items finish while the lock is held
            # A change from the UI is refused after a moment, in one line; the UI goes on.
            assert batches.lock(app, other.id) is None
            await pilot.pause()
            notes = [n.message for n in app._notifications]
            assert any("locked by another batchtui process" in note for note in notes), notes
            await pilot.press("f")  # keys still work
            await pilot.pause()
            assert screen.filter == "failed"
            assert service.get(batch_id).status is BatchStatus.PROCESSING  # not written yet
        finally:
            holder.stdin.close()
            holder.wait(timeout=10)
        await wait_until(lambda: screen.current.status is BatchStatus.COMPLETE, limit=30)
    ended = service.get(batch_id)
    assert [i.status for i in ended.items] == [ItemStatus.SUCCEEDED] * 2
