"""One way to follow a batch (`service.follow`, `service.follow_list`), and every client using
it noticing a runner killed while it watches: the API under a real `batchtui serve`, `attach`,
and the TUI — each on its own, with no other command run (issue 25)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import aclosing
from pathlib import Path

import anyio
import pytest

from batchtui.core.models import BatchStatus, ItemStatus, RunnerInfo
from batchtui.service import BatchService
from batchtui.store import Repository

from .helpers import force_status, pid_alive, wait_until
from .test_api import serve
from .test_survival import batchtui, counting_batch, recorded_pids, wait_for
from .tui_support import make_app

NOTICED = 10.0
"""Seconds every client has to notice a killed runner (the issue's bound)."""


def sleeper() -> subprocess.Popen:
    """A process standing in for a runner (alive until killed)."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def owned_by(db_path: Path, batch_id: str, process: subprocess.Popen, *, running: int) -> None:
    """Record `process` as the batch's runner and its first `running` items as RUNNING."""
    with Repository(db_path).transaction() as tx:
        stored = tx.get(batch_id)
        stored.runner = RunnerInfo(
            pid=process.pid, host=socket.gethostname(),
            started_at=stored.started_at, heartbeat=stored.started_at,
        )  # fmt: skip
        for item in stored.items[:running]:
            force_status(item, ItemStatus.RUNNING)
        tx.save(stored)


def begun(service: BatchService, name: str = "Followed", items: int = 2) -> str:
    made = service.create(name, generator="fake", output_ext="txt")
    service.add_items(made.id, [f"item {i}" for i in range(1, items + 1)])
    service.lock(made.id)
    return service.begin(made.id).id


# ------------------------------------------------------------------ the interface


@pytest.mark.anyio
async def test_follow_yields_each_change_once_and_ends_when_a_dead_runners_run_is_ended(
    db_path, fake_generator
):
    service = BatchService(Repository(db_path))
    batch_id = begun(service)
    runner = sleeper()
    try:
        owned_by(db_path, batch_id, runner, running=1)
        seen = []
        with anyio.fail_after(NOTICED):
            async with aclosing(service.follow(batch_id, poll=0.01)) as snapshots:
                async for snapshot in snapshots:
                    seen.append(snapshot)
                    if len(seen) == 1:
                        assert snapshot.batch.status is BatchStatus.PROCESSING
                        assert not snapshot.ended and not snapshot.runner_lost
                        runner.kill()
                        runner.wait()
    finally:
        if runner.poll() is None:
            runner.kill()
    assert len(seen) == 2, "nothing changed in between: no snapshot in between"
    last = seen[-1]
    assert last.ended and last.runner_lost
    assert last.batch.status is BatchStatus.FAILED
    assert [item.status for item in last.batch.items] == [
        ItemStatus.INTERRUPTED,
        ItemStatus.CANCELLED,
    ]


@pytest.mark.anyio
async def test_follow_of_an_ended_batch_gives_it_once_and_a_deleted_one_ends_the_follow(
    db_path, fake_generator
):
    service = BatchService(Repository(db_path), flush_interval=0.02)
    made = service.create("Done", generator="fake", output_ext="txt")
    service.add_items(made.id, ["a"])
    service.lock(made.id)
    await service.start(made.id)
    async with aclosing(service.follow(made.id)) as snapshots:
        seen = [snapshot async for snapshot in snapshots]
    assert [(s.batch.status, s.ended, s.runner_lost) for s in seen] == [
        (BatchStatus.COMPLETE, True, False)
    ]

    draft = service.create("Draft")
    seen = []
    with anyio.fail_after(NOTICED):
        async with aclosing(service.follow(draft.id, poll=0.01)) as snapshots:
            async for snapshot in snapshots:
                seen.append(snapshot)
                if len(seen) == 1:
                    service.rename(draft.id, "Renamed")
                elif len(seen) == 2:
                    service.delete(draft.id)
    assert [s.batch.name for s in seen] == ["Draft", "Renamed", "Renamed"]
    assert [s.deleted for s in seen] == [False, False, True]


@pytest.mark.anyio
async def test_follow_sends_the_same_snapshot_as_a_keepalive_when_nothing_changes(db_path):
    service = BatchService(Repository(db_path))
    made = service.create("Quiet")
    seen = []
    with anyio.fail_after(NOTICED):
        follow = service.follow(made.id, poll=0.01, keepalive=0.05)
        async with aclosing(follow) as snapshots:
            async for snapshot in snapshots:
                seen.append(snapshot)
                if len(seen) == 3:
                    break
    assert [s.quiet for s in seen] == [False, True, True]
    assert all(s.batch is seen[0].batch for s in seen)


@pytest.mark.anyio
async def test_follow_list_yields_the_summaries_on_each_change(db_path):
    service = BatchService(Repository(db_path))
    service.create("First")
    seen = []
    with anyio.fail_after(NOTICED):
        async with aclosing(service.follow_list(poll=0.01)) as changes:
            async for summaries in changes:
                seen.append([s.name for s in summaries])
                if len(seen) == 1:
                    service.create("Second")
                else:
                    break
    assert seen == [["First"], ["First", "Second"]]


def test_runners_are_checked_at_most_once_a_second_whoever_asks(db_path, monkeypatch):
    service = BatchService(Repository(db_path))
    calls = []
    monkeypatch.setattr(service, "recover_orphans", lambda: calls.append(1) or [])
    follow = service._follow  # made on first use, with the patched recovery
    follow._recover = service.recover_orphans
    follow.check_runners(now=100.0)
    follow.check_runners(now=100.5)
    follow.check_runners(now=101.0)
    assert len(calls) == 2


# ------------------------------------------------- every client notices a killed runner


def stuck_batch(service: BatchService, make_script, tmp_path: Path) -> str:
    """Two command items that start, record their pids (and a helper's), and then take a
    minute: a run that goes nowhere unless someone notices its runner died."""
    return counting_batch(service, make_script, tmp_path, 2, concurrency=2)


def stop_leftovers(tmp_path: Path) -> None:
    """Kill what the items started, should a failed test leave it running (our own pids)."""
    for pid in recorded_pids(tmp_path) if (tmp_path / "pids").is_dir() else []:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def running_items(db_path: Path, batch_id: str) -> int:
    batch = Repository(db_path).get(batch_id)
    return sum(1 for item in batch.items if item.status is ItemStatus.RUNNING)


def kill_runner_when_items_run(db_path: Path, batch_id: str, tmp_path: Path) -> list[int]:
    """Wait until both items run (their processes started), SIGKILL the runner; the items'
    processes."""
    wait_for(lambda: running_items(db_path, batch_id) == 2)
    wait_for(lambda: len(list((tmp_path / "pids").iterdir())) == 2)
    runner = Repository(db_path).get(batch_id).runner
    assert runner is not None and runner.pid != os.getpid()
    os.kill(runner.pid, signal.SIGKILL)
    return recorded_pids(tmp_path)


@pytest.mark.slow
def test_a_runner_killed_under_serve_ends_progress_and_events_within_seconds(
    db_path, make_script, tmp_path
):
    service = BatchService(Repository(db_path))
    batch_id = stuck_batch(service, make_script, tmp_path)
    server = serve(db_path, env={"WORK_SECONDS": "60"})
    events: list[str] = []
    ended = threading.Event()
    try:
        with server.client() as client:
            assert client.post(f"/v1/batch/{batch_id}/start").status_code == 202

            def stream() -> None:
                with client.stream("GET", f"/v1/batch/{batch_id}/events", timeout=60) as got:
                    for line in got.iter_lines():
                        if line.startswith("event:") or line.startswith("data:"):
                            events.append(line)
                ended.set()

            reader = threading.Thread(target=stream, daemon=True)
            reader.start()
            pids = kill_runner_when_items_run(db_path, batch_id, tmp_path)
            killed = time.monotonic()
            settled = None
            while time.monotonic() - killed < NOTICED:
                progress = client.get(f"/v1/batch/{batch_id}/progress").json()
                if progress["status"] != "PROCESSING" and not progress["counts"]["RUNNING"]:
                    settled = progress
                    break
                time.sleep(0.05)
            assert settled is not None, f"progress still says {progress}"
            assert settled["status"] == "FAILED" and settled["counts"]["INTERRUPTED"] == 2
            assert ended.wait(max(0.0, killed + NOTICED - time.monotonic())), "no end"
            reader.join(timeout=5)
    finally:
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=10)
        stop_leftovers(tmp_path)
    assert events[-2:] == ["event: end", 'data: {"status":"FAILED"}'], events[-4:]
    wait_for(lambda: not any(pid_alive(pid) for pid in pids), limit=NOTICED)


@pytest.mark.slow
def test_attach_says_the_runner_stopped_when_it_is_killed(db_path, make_script, tmp_path):
    service = BatchService(Repository(db_path))
    batch_id = stuck_batch(service, make_script, tmp_path)
    env = {**os.environ, "WORK_SECONDS": "60"}
    started = batchtui(db_path, "start", batch_id, "--detach", "--json", env=env)
    out, err = started.communicate(timeout=60)
    assert started.returncode == 0, out + err
    assert json.loads(out)["runner_pid"]
    attached = batchtui(db_path, "attach", batch_id)
    try:
        pids = kill_runner_when_items_run(db_path, batch_id, tmp_path)
        out, err = attached.communicate(timeout=NOTICED)
    finally:
        if attached.poll() is None:
            attached.kill()
        stop_leftovers(tmp_path)
    assert attached.returncode == 1, out + err
    assert "stopped (killed, crashed or rebooted)" in out, out + err
    assert "FAILED: 0/2 succeeded" in out
    wait_for(lambda: not any(pid_alive(pid) for pid in pids), limit=NOTICED)


@pytest.mark.anyio
@pytest.mark.slow
async def test_the_tui_progress_screen_shows_a_killed_runners_batch_ended(
    db_path, make_script, tmp_path, monkeypatch
):
    monkeypatch.setenv("WORK_SECONDS", "60")
    service = BatchService(Repository(db_path))
    batch_id = stuck_batch(service, make_script, tmp_path)
    service.start_detached(batch_id)
    app = make_app(service)
    try:
        await follow_in_the_tui(app, db_path, batch_id, tmp_path)
    finally:
        stop_leftovers(tmp_path)


async def follow_in_the_tui(app, db_path: Path, batch_id: str, tmp_path: Path) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_progress(batch_id)
        await pilot.pause()
        screen = app.screen
        await wait_until(lambda: running_items(db_path, batch_id) == 2, limit=60)
        await wait_until(lambda: len(list((tmp_path / "pids").iterdir())) == 2, limit=60)
        await wait_until(
            lambda: sum(i.status is ItemStatus.RUNNING for i in screen.current.items) == 2
        )
        pids = kill_runner_when_items_run(db_path, batch_id, tmp_path)
        await wait_until(lambda: screen.current.status is not BatchStatus.PROCESSING, limit=NOTICED)
        await pilot.pause()
        assert [item.status for item in screen.current.items] == [ItemStatus.INTERRUPTED] * 2
        head = str(screen.query_one("#run-head").render())
        assert "FAILED" in head and "PROCESSING" not in head
    wait_for(lambda: not any(pid_alive(pid) for pid in pids), limit=NOTICED)
