"""Process-wide state: set by the entry points only, never as a side effect of library code.

The subreaper and asyncio's child watcher change the whole process, so building an executor
or running a scheduler must leave them as they were; the processes that run items (`batchtui
start`, a detached runner) set them up at their entry point. Checks that need a pristine
process run one (`python -c`): the test process may have installed them already.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import anyio
import pytest

from batchtui.core import child_watcher, subreaper
from batchtui.core.children import Children
from batchtui.engine.strays import stop_strays
from batchtui.service import BatchService
from batchtui.store import Repository

LINUX = sys.platform.startswith("linux")


def fresh_python(code: str) -> str:
    """Run `code` in a new interpreter; what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.mark.skipif(not LINUX, reason="subreapers are Linux's")
def test_building_an_executor_does_not_make_the_process_a_subreaper():
    printed = fresh_python(
        """
        from batchtui.core import subreaper
        from batchtui.engine import LocalExecutor
        from batchtui.generators import get_generator
        LocalExecutor(get_generator("command"))
        print(subreaper.installed())
        """
    )
    assert printed == "False"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 watches children by pidfd")
def test_a_scheduler_run_leaves_asyncio_child_watcher_alone(tmp_path):
    printed = fresh_python(
        f"""
        import asyncio, anyio
        from batchtui.service import BatchService
        from batchtui.store import Repository
        service = BatchService(Repository({str(tmp_path / "db.json")!r}))
        made = service.create(
            "one", generator="command", command="touch {{output}}", output_ext="txt",
            validate_output="exists",
            output_dir={str(tmp_path / "out")!r},
        )
        service.add_items(made.id, ["x"])
        service.lock(made.id)
        ended = anyio.run(service.start, made.id)
        watcher = getattr(asyncio.get_event_loop_policy(), "_watcher", None)
        print(ended.status.value, type(watcher).__name__)
        """
    )
    assert printed == "COMPLETE NoneType"


def test_installing_is_idempotent_and_says_what_holds():
    first = subreaper.install()
    assert subreaper.install() == first == subreaper.installed() == LINUX
    assert child_watcher.install() == child_watcher.install() == child_watcher.installed()


async def _echo() -> bytes:
    done = await anyio.run_process([sys.executable, "-c", "print('hi')"])
    return done.stdout


def test_the_child_watcher_serves_every_loop_without_a_thread_per_child():
    """Installed before any loop exists, it serves each later `anyio.run`, on any thread,
    and waits for children with no thread of its own (3.11's default starts one per child)."""
    if not child_watcher.install():
        pytest.skip("no pidfds here")
    before = {thread.ident for thread in threading.enumerate()}
    assert anyio.run(_echo) == b"hi\n"
    assert anyio.run(_echo) == b"hi\n"
    results: list[bytes] = []
    worker = threading.Thread(target=lambda: results.append(anyio.run(_echo)))
    worker.start()
    worker.join(60)
    assert results == [b"hi\n"]
    waiters = [
        thread.name
        for thread in threading.enumerate()
        if thread.ident not in before and thread.name.startswith("waitpid-")
    ]
    assert waiters == []
    if sys.version_info < (3, 12):
        assert isinstance(asyncio.get_event_loop_policy()._watcher, child_watcher.PidfdWatcher)  # type: ignore[attr-defined]


ADOPTEE = """
import os, sys, time
# A grandchild in a session of its own whose parent exits at once: an orphan. It writes the
# pid of whoever adopted it; the item ends once it has.
report = sys.argv[2]
middle = os.fork()
if middle == 0:
    os.setsid()
    if os.fork() == 0:
        deadline = time.monotonic() + 30
        while os.path.exists(report + ".middle") is False and time.monotonic() < deadline:
            time.sleep(0.01)
        open(report + ".tmp", "w").write(str(os.getppid()))
        os.rename(report + ".tmp", report)
        time.sleep(60)
    os._exit(0)
os.waitpid(middle, 0)
open(report + ".middle", "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(report) and time.monotonic() < deadline:
    time.sleep(0.01)
open(sys.argv[1], "w").write("done")
"""


@pytest.mark.skipif(not LINUX, reason="subreapers are Linux's")
def test_batchtui_start_adopts_what_its_items_leave_and_stops_it(db_path, make_script, tmp_path):
    """The runner's entry point makes it a subreaper: an item's orphan becomes the runner's
    child (not init's), and is stopped when the item ends."""
    script = make_script("adoptee.py", ADOPTEE)
    report = tmp_path / "adopted-by"
    service = BatchService(Repository(db_path))
    made = service.create(
        "Orphans", generator="command", command=f"{script} {{output}} {report}",
        output_ext="txt", validate_output="exists",
    )  # fmt: skip
    service.add_items(made.id, ["one"])
    service.lock(made.id)
    runner = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", made.id],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, err
    assert int(report.read_text()) == runner.pid
    stored = Repository(db_path).get(made.id)
    assert stored is not None and stored.status.value == "COMPLETE"


def test_the_registry_keeps_a_started_runner_until_it_has_ended():
    registry = Children()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    registry.keep(child)
    assert child.pid in registry
    deadline = time.monotonic() + 30
    while child.pid in registry and time.monotonic() < deadline:
        time.sleep(0.01)
        registry.collect_ended()
    assert child.pid not in registry
    assert child.returncode == 0
    with pytest.raises(ChildProcessError):  # collected: no zombie left behind
        os.waitpid(child.pid, os.WNOHANG)


@pytest.mark.skipif(not LINUX, reason="subreapers are Linux's")
def test_the_sweep_never_collects_a_kept_child(monkeypatch):
    """A detached runner this process started, ended but not yet collected, is its starter's
    to collect (its exit code with it), not the stray sweep's."""
    subreaper.install()
    registry = Children()
    monkeypatch.setattr("batchtui.engine.strays.OWN", registry)
    child = subprocess.Popen([sys.executable, "-c", "exit(3)"], start_new_session=True)
    registry.keep(child)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stop_strays("some item", adopting=True)
    assert child.poll() == 3  # still ours to collect, with its real exit code
    registry.collect_ended()
    assert child.pid not in registry
