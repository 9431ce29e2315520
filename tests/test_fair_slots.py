"""The host's slots served fairly: in the order items asked across batches and runners, higher
priority first; each slot an identity (`{slot}`, `BATCHTUI_SLOT`, per-slot environment); a
waiter that died never holds up the line."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from batchtui.core.errors import ValidationError
from batchtui.core.models import BatchStatus
from batchtui.core.settings import load_host_settings
from batchtui.engine.slots import HostSlots, ordinal, ticket_name
from batchtui.service import BatchService

pytestmark = pytest.mark.usefixtures("own_slots")  # (conftest: this test's own slot folder)


def until(condition, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def gated_stamp(make_script, tmp_path: Path):
    """A command that appends its item's content to `starts.txt` as it starts; the item 'A 0'
    then waits until the test creates `gate`."""
    gate = tmp_path / "gate"
    starts = tmp_path / "starts.txt"
    script = make_script(
        "gated.py",
        f"""
        import os, sys, time
        fd = os.open({str(starts)!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, (sys.argv[1] + "\\n").encode())
        os.close(fd)
        while sys.argv[1] == "A 0" and not os.path.exists({str(gate)!r}):
            time.sleep(0.01)
        open(sys.argv[2], "w").write("ok")
        """,
    )
    return script, gate, starts


def locked(service: BatchService, script: Path, name: str) -> str:
    batch = service.create(
        name, generator="command", command=f"{script} {{content}} {{output}}",
        output_ext="txt", concurrency=3,
    )  # fmt: skip
    service.add_items(batch.id, [f"{name} {n}" for n in range(5)])
    service.lock(batch.id)
    return batch.id


def started(db: Path, ref: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db), "start", ref, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "BATCHTUI_SLOTS": "1"},
    )  # fmt: skip


@dataclass
class LinedUp:
    """Two batches on one slot: A's item 0 holds it at the gate, A's items 1 and 2 and then B's
    0 to 2 wait in line; `runs` are A's and B's runners."""

    service: BatchService
    a: str
    b: str
    runs: list[subprocess.Popen]
    gate: Path
    starts: Path

    def open_gate(self) -> list[str]:
        """Let A's item 0 end; what each runner printed once both have ended."""
        self.gate.touch()
        return [run.communicate(timeout=60)[0] for run in self.runs]


@contextlib.contextmanager
def lined_up(db_path: Path, gated_stamp, *b_extra: str) -> Iterator[LinedUp]:
    """Line both batches up (B started with `b_extra`); afterwards the gate is open and no
    runner is left behind."""
    script, gate, starts = gated_stamp
    service = BatchService(db_path)
    a, b = locked(service, script, "A"), locked(service, script, "B")
    runs = [started(db_path, a)]
    try:
        until(lambda: starts.exists() and starts.read_text() == "A 0\n")
        until(lambda: sum(i.waiting is not None for i in service.get(a).items) == 2)
        runs.append(started(db_path, b, *b_extra))
        until(lambda: sum(i.waiting is not None for i in service.get(b).items) == 3)
        yield LinedUp(service, a, b, runs, gate, starts)
    finally:
        gate.touch()  # (an orphaned item of A may still wait at it)
        for run in runs:
            if run.poll() is None:
                run.kill()


def run_two(db_path: Path, gated_stamp, *b_extra: str) -> list[str]:
    """The order the items started in, once the gate opens on the two lined-up batches."""
    with lined_up(db_path, gated_stamp, *b_extra) as line:
        outputs = line.open_gate()
    assert [run.returncode for run in line.runs] == [0, 0], outputs
    service = line.service
    assert service.get(line.a).status is service.get(line.b).status is BatchStatus.COMPLETE
    return line.starts.read_text().splitlines()


@pytest.mark.slow
def test_two_batches_on_one_slot_start_their_items_in_the_order_they_asked(db_path, gated_stamp):
    # A's 1 and 2 asked before B's three; A's 3 and 4 asked only as A's 0 and 1 ended, and
    # B's 3 and 4 as B's 0 and 1 did. (Before: the holder took its slot straight back, and
    # A ran 0 3 4 1 2 while B waited.)
    assert run_two(db_path, gated_stamp) == [
        "A 0", "A 1", "A 2", "B 0", "B 1", "B 2", "A 3", "A 4", "B 3", "B 4",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_batch_of_higher_priority_is_served_first_after_the_running_item(db_path, gated_stamp):
    assert run_two(db_path, gated_stamp, "--priority", "5") == [
        "A 0", "B 0", "B 1", "B 2", "B 3", "B 4", "A 1", "A 2", "A 3", "A 4",
    ]  # fmt: skip


def slot_checker(tmp_path: Path) -> tuple[Path, Path]:
    """A shell script (one cheap process per item) that takes its slot's folder as a lock: a
    slot used by two items at once fails the second; it also checks the slot's environment."""
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "slot-check.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'm="{marks}"\n'
        'mkdir "$m/busy-$1" || { echo "slot $1 is in use" >&2; exit 3; }\n'
        '[ "$BATCHTUI_SLOT" = "$1" ] || { echo "BATCHTUI_SLOT=$BATCHTUI_SLOT" >&2; exit 4; }\n'
        ': > "$m/slot-$1-gpu-$CUDA_VISIBLE_DEVICES"\n'
        'echo ok > "$2"\n'
        'rmdir "$m/busy-$1"\n'
    )
    script.chmod(0o755)
    return script, marks


def run_slot_checks(db_path: Path, tmp_path: Path, run_cli, *, items: int, concurrency: int):
    """Run `items` items of the slot checker; the marks they left (slot and GPU seen)."""
    script, marks = slot_checker(tmp_path)
    service = BatchService(db_path)
    batch = service.create(
        "Slots", generator="command", command=f"{script} {{slot}} {{output}}",
        output_ext="txt", concurrency=concurrency, max_items=items,
    )  # fmt: skip
    service.add_items(batch.id, [f"item {n}" for n in range(items)])
    service.lock(batch.id)
    ran = run_cli("start", batch.id, "--json")
    assert ran.code == 0, ran.err
    ended = service.get(batch.id)
    assert ended.status is BatchStatus.COMPLETE, [i.error for i in ended.items if i.error][:3]
    return {p.name for p in marks.iterdir()}


@pytest.mark.slow
def test_each_slot_is_one_item_at_a_time_with_its_own_gpu(db_path, tmp_path, run_cli):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(
        '[slots]\ndefault = 2\n[slots.env]\nCUDA_VISIBLE_DEVICES = ["0", "1"]\n'
    )
    marks = run_slot_checks(db_path, tmp_path, run_cli, items=1000, concurrency=4)
    # Both slots were used, each always with its own GPU; never one slot twice at once.
    assert marks == {"slot-0-gpu-0", "slot-1-gpu-1"}


@pytest.mark.slow
def test_without_a_host_limit_the_slot_is_the_items_worker(db_path, tmp_path, run_cli):
    marks = run_slot_checks(db_path, tmp_path, run_cli, items=200, concurrency=3)
    assert "slot-0-gpu-" in marks <= {"slot-0-gpu-", "slot-1-gpu-", "slot-2-gpu-"}


def test_a_ticket_whose_owner_died_is_removed_and_holds_up_nobody(own_slots):
    slots = HostSlots(1, own_slots)
    slots.check()
    dead = slots.queue / ticket_name(1000, 1, "gone.1.0")  # first in line, and nobody's
    dead.touch()
    assert slots.waiting() == [] and not dead.exists()
    assert slots.try_acquire() == 0
    slots.close()


@pytest.mark.anyio
async def test_a_waiter_says_its_place_in_line_and_gets_the_slot_when_it_is_given_back(
    own_slots,
):
    import anyio

    holder, waiter = HostSlots(1, own_slots), HostSlots(1, own_slots)
    assert holder.try_acquire() == 0
    places: list[int] = []
    got: list[int] = []

    async def wait() -> None:
        async with waiter.hold(places.append, batch_id="b") as slot:
            got.append(slot)

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        with anyio.fail_after(10):
            while not places:
                await anyio.sleep(0.01)
        assert places == [1] and got == [] and len(waiter.waiting()) == 1
        holder.release(0)
    assert got == [0] and waiter.waiting() == []  # its ticket went with it
    holder.close()
    waiter.close()


def test_priority_changes_reorder_the_tickets_of_that_batch(own_slots):
    slots = HostSlots(1, own_slots)
    slots.check()
    first = ticket_name(0, 1, "aaa.1.0")
    later = ticket_name(0, 2, "bbb.1.1")
    fds = []
    for name in (first, later):  # held, as their owners hold them
        import fcntl

        fd = os.open(slots.queue / name, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        fds.append(fd)
    try:
        assert [n.split("-", 2)[2] for n in slots.waiting()] == ["aaa.1.0.ticket", "bbb.1.1.ticket"]
        assert slots.reprioritise("bbb", 3) == 1
        assert [n.split("-", 2)[2] for n in slots.waiting()] == ["bbb.1.1.ticket", "aaa.1.0.ticket"]
    finally:
        for fd in fds:
            os.close(fd)


def test_per_slot_environment_and_pools_are_read_from_the_settings(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(
        '[slots]\ndefault = 4\ngpu = 2\n[slots.env]\nCUDA_VISIBLE_DEVICES = ["0", "1"]\n'
    )
    host = load_host_settings()
    assert (host.slots, host.pools) == (4, {"gpu": 2})
    assert [host.env_for(n)["CUDA_VISIBLE_DEVICES"] for n in range(4)] == ["0", "1", "0", "1"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[slots]\ndefault = 2\n[slots.env]\nCUDA = "0,1"\nBAD-NAME = ["x"]\n', "BAD-NAME"),
        ("[slots]\ndefault = 2\n[slots.env]\nCUDA = []\n", "one per slot"),
        ("[slots]\ndefault = 2\nGPU = 2\n", "not a pool name"),
        ("[slots]\ngpu = 0\n", "from 1 to"),
    ],
)
def test_bad_slot_tables_are_refused_in_one_line(tmp_path, text, says):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(text)
    with pytest.raises(ValidationError, match=says) as refused:
        load_host_settings()
    assert "\n" not in str(refused.value)


def test_places_in_line_read_as_people_say_them():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
    ]  # fmt: skip


def test_priority_is_set_kept_and_refused_out_of_range(db_path, run_cli):
    service = BatchService(db_path)
    batch = service.create("Prio")
    ran = run_cli("priority", batch.id, "7", "--json")
    assert ran.code == 0, ran.err
    assert service.get(batch.id).priority == 7
    refused = run_cli("priority", batch.id, "5000")
    assert refused.code == 2 and refused.err.count("\n") == 1 and "-1000 to 1000" in refused.err
    assert run_cli("priority", batch.id, "high").code == 2
    assert service.get(batch.id).priority == 7  # unchanged by the refusals


def test_the_api_sets_the_priority_and_refuses_a_bad_one(db_path):
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    service = BatchService(db_path)
    batch = service.create("Api")
    with TestClient(create_app(service)) as client:
        answer = client.put(f"/v1/batch/{batch.id}/priority", json={"value": -3})
        assert answer.status_code == 200 and answer.json()["priority"] == -3
        too_high = client.put(f"/v1/batch/{batch.id}/priority", json={"value": 1001})
        assert too_high.status_code == 422
    assert service.get(batch.id).priority == -3


@pytest.mark.slow
def test_queue_shows_what_runs_in_which_slot_and_who_waits_in_order(
    db_path, tmp_path, gated_stamp, run_cli
):
    """One view of the box (`batchtui queue`, `GET /v1/queue`): the slot, its GPU, the line."""
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(
        '[slots]\ndefault = 1\n[slots.env]\nCUDA_VISIBLE_DEVICES = ["7"]\n'
    )
    with lined_up(db_path, gated_stamp, "--priority", "2") as line:
        shown = run_cli("queue", "--json")
        assert shown.code == 0, shown.err
        import json

        queue = json.loads(shown.out)
        assert (queue["slots"], queue["free"]) == (1, 0)
        assert [(r["slot"], r["env"], r["batch"], r["item"]) for r in queue["running"]] == [
            (0, {"CUDA_VISIBLE_DEVICES": "7"}, "A", "1")
        ]
        order = [(w["position"], w["batch"], w["item"], w["priority"]) for w in queue["waiting"]]
        assert order == [(1, "B", "1", 2), (2, "B", "2", 2), (3, "B", "3", 2),
                        (4, "A", "2", 0), (5, "A", "3", 0)]  # fmt: skip
        with TestClient(create_app(line.service)) as client:
            answer = client.get("/v1/queue")
        assert answer.status_code == 200
        assert [w["item"] for w in answer.json()["waiting"]] == ["1", "2", "3", "2", "3"]
        human = run_cli("queue")
        assert "1 slot, 0 free" in human.out and "CUDA_VISIBLE_DEVICES=7" in human.out
        assert human.out.index("WAITING FOR A SLOT") < human.out.index("BATCHES HERE")
        line.open_gate()
    empty = json.loads(run_cli("queue", "--json").out)
    assert (empty["free"], empty["running"], empty["waiting"]) == (1, [], [])


@pytest.mark.slow
def test_a_priority_changed_while_items_wait_moves_them_at_once(
    db_path, gated_stamp, run_cli, monkeypatch
):
    import json

    with lined_up(db_path, gated_stamp) as line:
        monkeypatch.setenv("BATCHTUI_SLOTS", "1")  # the runners' limit, for this process too
        assert run_cli("priority", line.b, "4").code == 0
        waiting = json.loads(run_cli("queue", "--json").out)["waiting"]
        assert [(w["batch"], w["priority"]) for w in waiting] == [("B", 4)] * 3 + [("A", 0)] * 2
        line.open_gate()
    assert line.starts.read_text().splitlines()[:4] == ["A 0", "B 0", "B 1", "B 2"]


def test_priority_steps_count_from_the_stored_value_and_stay_in_range(db_path):
    service = BatchService(db_path)
    batch = service.create("Steps")
    service.set_priority(batch.id, 999)
    assert service.set_priority(batch.id, 1, relative=True).priority == 1000
    with pytest.raises(ValidationError, match="stays a whole number from -1000 to 1000"):
        service.set_priority(batch.id, 1, relative=True)
    assert service.set_priority(batch.id, -1000, relative=True).priority is None  # 0: unset


@pytest.mark.slow
def test_a_runner_killed_while_holding_the_slot_and_with_items_in_line_holds_up_nobody(
    db_path, gated_stamp
):
    """kill -9 of the runner that holds the only slot and has items waiting: its slot comes
    back with it (the kernel drops the lock), its tickets are swept, the other batch runs."""
    import signal

    with lined_up(db_path, gated_stamp) as line:
        line.runs[0].send_signal(signal.SIGKILL)
        line.runs[0].wait(timeout=10)
        out = line.runs[1].communicate(timeout=60)[0]
    assert line.runs[1].returncode == 0, out
    assert line.service.get(line.b).status is BatchStatus.COMPLETE
    starts = line.starts.read_text().splitlines()
    assert [started for started in starts if started.startswith("B")] == [
        f"B {n}" for n in range(5)
    ]


def test_files_in_the_queue_that_are_not_tickets_are_not_in_line(own_slots):
    slots = HostSlots(1, own_slots)
    slots.check()
    for name in ("x.ticket", "0000-1-evil.ticket", "notes.txt", "0000-" + "9" * 20 + "-a/b"):
        with contextlib.suppress(OSError):
            (slots.queue / name).touch()
    assert slots.waiting() == [] and slots.try_acquire() == 0
    assert slots.reprioritise("x", 5) == 0
    slots.close()
