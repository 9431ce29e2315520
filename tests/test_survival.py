"""Runs that survive: real processes killed, hung up and raced against each other."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .helpers import force_status, pid_alive


def batchtui(db_path: Path, *args: str, **popen) -> subprocess.Popen:
    """Start the real command as a child process (no terminal)."""
    return subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_for(condition, limit: float = 60.0, step: float = 0.05) -> None:
    """Poll until `condition()` holds (a real process is doing the work); fail after `limit`."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(step)


def counting_batch(service: BatchService, make_script, tmp_path: Path, n: int, **config) -> str:
    """n command items that record every run, take a moment, and write their output."""
    runs = tmp_path / "runs"
    runs.mkdir(exist_ok=True)
    pids = tmp_path / "pids"
    pids.mkdir(exist_ok=True)
    script = make_script(
        "work.py",
        f"""
        import os, subprocess, sys, time
        index, out = sys.argv[1], sys.argv[2]
        with open(os.path.join({str(runs)!r}, index), "a") as handle:
            handle.write("run\\n")
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        with open(os.path.join({str(pids)!r}, index + "-" + str(os.getpid())), "w") as handle:
            handle.write(f"{{os.getpid()}} {{helper.pid}}")
        time.sleep(float(os.environ.get("WORK_SECONDS", "0.4")))
        helper.kill()
        open(out, "w").write("done " + index)
        """,
    )
    config.setdefault("concurrency", 3)
    batch = service.create(
        "Survivor",
        generator="command",
        command=f"{script} {{index}} {{output}}",
        output_ext="txt",
        max_items=max(10, n),
        **config,
    )
    service.add_items(batch.id, [f"topic {i}" for i in range(1, n + 1)])
    service.lock(batch.id)
    return batch.id


def run_counts(tmp_path: Path) -> dict[int, int]:
    return {int(p.name): len(p.read_text().splitlines()) for p in (tmp_path / "runs").iterdir()}


def recorded_pids(tmp_path: Path) -> list[int]:
    return [int(pid) for f in (tmp_path / "pids").iterdir() for pid in f.read_text().split()]


@pytest.mark.slow
def test_sigkilled_runner_leaves_a_loadable_database_and_retry_finishes(
    db_path, make_script, tmp_path
):
    service = BatchService(Repository(db_path))
    ref = counting_batch(service, make_script, tmp_path, 20)
    runner = batchtui(db_path, "start", ref)

    def succeeded() -> int:
        batch = Repository(db_path).get(ref)
        return sum(1 for it in batch.items if it.status is ItemStatus.SUCCEEDED)

    wait_for(lambda: succeeded() >= 6)
    runner.send_signal(signal.SIGKILL)
    runner.wait()

    # The database loads, and what succeeded is still SUCCEEDED with its output.
    at_kill = Repository(db_path).get(ref)
    done_before = {it.id for it in at_kill.items if it.status is ItemStatus.SUCCEEDED}
    assert len(done_before) >= 6
    in_flight = {it.id for it in at_kill.items if it.status is ItemStatus.RUNNING}
    assert in_flight, "the kill happened mid-run"

    # The next batchtui process notices the dead runner: never stuck in PROCESSING.
    shown = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "show", ref, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    recovered = json.loads(shown.stdout)
    assert recovered["status"] == "PARTIAL"
    statuses = {it["id"]: it["status"] for it in recovered["items"]}
    assert "RUNNING" not in statuses.values()
    assert {i for i in in_flight if statuses[i] == "INTERRUPTED"} == in_flight
    for item in recovered["items"]:
        if item["id"] in done_before:
            assert item["status"] == "SUCCEEDED"
            assert Path(item["output_path"]).read_text().startswith("done ")
    # The dead runner's children (and theirs) were stopped, not left running.
    for pid in recorded_pids(tmp_path):
        wait_for(lambda pid=pid: not pid_alive(pid), limit=10)

    counts_before = run_counts(tmp_path)
    retried = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "retry", ref],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert retried.returncode == 0, retried.stdout + retried.stderr
    final = Repository(db_path).get(ref)
    assert final.status is BatchStatus.COMPLETE
    counts_after = run_counts(tmp_path)
    positions = {it.id: it.position for it in final.items}
    for item_id in done_before:  # succeeded before the kill: never run again
        assert counts_after[positions[item_id]] == counts_before[positions[item_id]] == 1
    for item in final.items:
        assert Path(item.output_path).read_text() == f"done {item.position}"


def test_finished_output_of_an_interrupted_item_is_adopted(service, fake_generator):
    batch = service.create("Adopt", generator="fake")
    service.add_items(batch.id, ["one", "two"])
    service.lock(batch.id)
    done = anyio.run(service.start, batch.id)
    assert done.status is BatchStatus.COMPLETE
    # As if the runner died after item 1's output was complete but before it was recorded.
    with Repository(service.database_path).transaction() as tx:
        stored = tx.get(batch.id)
        force_status(stored.items[0], ItemStatus.INTERRUPTED)
        stored.items[0].output_path = None
        force_status(stored, BatchStatus.PARTIAL)
        tx.save(stored)
    fake_generator.calls.clear()
    again = anyio.run(service.retry, batch.id)
    assert fake_generator.calls == [], "the finished output was adopted, not rendered again"
    assert again.status is BatchStatus.COMPLETE
    assert again.items[0].output_path == done.items[0].output_path
    assert "adopted" in Path(again.items[0].log_path).read_text()


def test_adoption_trusts_only_whole_manifest_lines(service, fake_generator):
    """A crash can tear the manifest's last line: the lines before it still count, and an
    output the manifest does not vouch for is rendered again rather than adopted."""
    batch = service.create("Torn", generator="fake")
    service.add_items(batch.id, ["one", "two"])
    service.lock(batch.id)
    done = anyio.run(service.start, batch.id)
    folder = Path(done.items[0].output_path).parent
    manifest = folder / "manifest.jsonl"
    run, first, second = manifest.read_text().splitlines()
    assert json.loads(second)["item_id"] == done.items[1].id
    manifest.write_text(f"{run}\n{first}\n{second[: len(second) // 2]}")  # torn mid-line
    with Repository(service.database_path).transaction() as tx:  # both finished, neither recorded
        stored = tx.get(batch.id)
        for item in stored.items:
            force_status(item, ItemStatus.INTERRUPTED)
            item.output_path = None
        force_status(stored, BatchStatus.PARTIAL)
        tx.save(stored)
    fake_generator.calls.clear()
    again = anyio.run(service.retry, batch.id)
    assert again.status is BatchStatus.COMPLETE
    assert fake_generator.calls == ["two"], "item 1 adopted; item 2's line was torn"
    whole = []
    for line in manifest.read_text().splitlines():
        with contextlib.suppress(ValueError):
            whole.append(json.loads(line))
    assert [x["kind"] for x in whole] == ["run", "output", "run", "output"]
    assert whole[-1]["item_id"] == done.items[1].id and whole[-1]["attempts"] == 2


WRITER = """
import sys
from batchtui.service import BatchService
from batchtui.store import Repository
service = BatchService(Repository(sys.argv[1]))
batch = service.create("Writer", max_items=100000)
print("ready", flush=True)
n = 0
while True:
    n += 1
    service.add_items(batch.id, [f"item {n} " + "x" * 200] * 5)
    if n % 7 == 0:
        service.create(f"extra {n}")
"""


@pytest.mark.slow
def test_random_sigkills_never_leave_an_unreadable_database(db_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261125)
    for _ in range(30):  # (each a writer killed at a random moment; 30 keep the suite in CI's time)
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.06))  # pick a random moment, mid-write or not
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        batches = Repository(db_path).all()  # must load, every time
        assert batches and all(b.name for b in batches)
    leftovers = list(db_path.parent.glob(".*.tmp"))
    assert len(leftovers) <= 1, "temp files of killed writers are cleaned up by the next write"


ADDER = """
import sys
from batchtui.service import BatchService
from batchtui.store import Repository
service = BatchService(Repository(sys.argv[1]))
for i in range(50):
    service.add_items(sys.argv[2], [f"process {sys.argv[3]} item {i}"])
"""


@pytest.mark.slow
def test_eight_processes_adding_fifty_items_each_lose_nothing(db_path, service):
    batch = service.create("Crowd", max_items=1000)
    adders = [
        subprocess.Popen([sys.executable, "-c", ADDER, str(db_path), batch.id, str(n)])
        for n in range(8)
    ]
    assert [adder.wait(timeout=120) for adder in adders] == [0] * 8
    items = service.get(batch.id).items
    assert len(items) == 400
    assert len({item.content for item in items}) == 400
    assert [item.position for item in items] == list(range(1, 401))


@pytest.mark.slow
def test_detached_run_survives_its_terminal_and_can_be_attached(db_path, make_script, tmp_path):
    service = BatchService(Repository(db_path))
    ref = counting_batch(service, make_script, tmp_path, 6, concurrency=2)
    # A "terminal": a shell in its own session that starts the run, then waits.
    shell = subprocess.Popen(
        [
            "bash",
            "-c",
            f"{sys.executable} -m batchtui --db {db_path} start {ref} --detach; sleep 60",
        ],
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert "in the background" in shell.stdout.readline()
    wait_for(lambda: Repository(db_path).get(ref).runner is not None)
    runner = Repository(db_path).get(ref).runner
    assert runner.detached and runner.pid != shell.pid
    assert os.getsid(runner.pid) != os.getsid(shell.pid), "the runner has its own session"
    os.killpg(shell.pid, signal.SIGHUP)  # the terminal closes: its session is hung up
    shell.wait()

    attached = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "attach", ref],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert attached.returncode == 0, attached.stdout + attached.stderr
    assert "COMPLETE: 6/6 succeeded" in attached.stdout
    assert Repository(db_path).get(ref).status is BatchStatus.COMPLETE
    # The runner says its last line after the final write that attach saw: on a loaded
    # machine, a moment later.
    wait_for(lambda: "COMPLETE: 6/6 succeeded" in Path(runner.log_path).read_text(), limit=30)


def test_a_second_start_says_who_owns_the_batch(db_path, make_script, tmp_path):
    service = BatchService(Repository(db_path))
    ref = counting_batch(service, make_script, tmp_path, 3, concurrency=1)
    first = batchtui(db_path, "start", ref, env={**os.environ, "WORK_SECONDS": "5"})
    wait_for(lambda: Repository(db_path).get(ref).status is BatchStatus.PROCESSING)
    second = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", ref],
        capture_output=True,
        text=True,
    )
    assert second.returncode == 2
    assert f"is already being processed by pid {first.pid}" in second.stderr
    assert f"batchtui attach {ref}" in second.stderr
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 128 + signal.SIGTERM


def test_sighup_to_an_attached_run_leaves_no_orphans_and_nothing_running(
    db_path, make_script, tmp_path
):
    service = BatchService(Repository(db_path))
    ref = counting_batch(service, make_script, tmp_path, 5, concurrency=2)
    runner = batchtui(db_path, "start", ref, env={**os.environ, "WORK_SECONDS": "30"})
    wait_for(lambda: len(list((tmp_path / "pids").iterdir())) == 2)
    runner.send_signal(signal.SIGHUP)
    out, err = runner.communicate(timeout=30)
    assert runner.returncode == 128 + signal.SIGHUP, out + err
    for pid in recorded_pids(tmp_path):
        assert not pid_alive(pid), f"process {pid} outlived the run"
    batch = Repository(db_path).get(ref)
    assert batch.status is BatchStatus.FAILED
    statuses = [item.status for item in batch.items]
    assert ItemStatus.RUNNING not in statuses
    assert statuses.count(ItemStatus.INTERRUPTED) == 2
    assert batch.items[0].error == "stopped by SIGHUP while running"
