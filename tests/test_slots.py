"""The host-wide slot limit: across batches and runner processes, never more than N items run
at once; a dead holder's slot comes back by itself; bad settings are refused in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from batchtui.core.errors import ValidationError
from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.core.settings import load_host_settings
from batchtui.engine.slots import HostSlots
from batchtui.service import BatchService

from .conftest import file_bytes

pytestmark = pytest.mark.usefixtures("own_slots")  # (conftest: this test's own slot folder)


@pytest.fixture
def stamp_script(make_script) -> Path:
    """A command that appends 'start T' and 'end T' lines to a file around a 0.3 s sleep."""
    return make_script(
        "stamp.py",
        """
        import os, sys, time
        def stamp(kind):
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(fd, f"{kind} {time.time():.6f}\\n".encode())
            os.close(fd)
        stamp("start")
        time.sleep(0.3)
        stamp("end")
        open(sys.argv[2], "w").write("ok")
        """,
    )


def stamping_batch(service: BatchService, script: Path, name: str, stamps: Path) -> str:
    batch = service.create(
        name,
        generator="command",
        command=f"{script} {stamps} {{output}}",
        output_ext="txt",
        concurrency=3,
    )
    service.add_items(batch.id, [f"{name} {n}" for n in range(6)])
    service.lock(batch.id)
    return batch.id


def most_at_once(stamps: Path) -> int:
    """The largest number of items whose [start, end] spans overlap, from their stamp lines."""
    moments = []
    for line in stamps.read_text().splitlines():
        kind, at = line.split()
        moments.append((float(at), 1 if kind == "start" else -1))
    # At equal times an end comes before a start: touching spans do not overlap.
    moments.sort(key=lambda m: (m[0], m[1]))
    running = peak = 0
    for _, step in moments:
        running += step
        peak = max(peak, running)
    return peak


@pytest.mark.slow
def test_two_runners_never_exceed_the_host_slots(db_path, tmp_path, stamp_script):
    stamps = tmp_path / "stamps.txt"
    service = BatchService(db_path)
    first = stamping_batch(service, stamp_script, "First", stamps)
    second = stamping_batch(service, stamp_script, "Second", stamps)
    env = {**os.environ, "BATCHTUI_SLOTS": "2"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", ref],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        for ref in (first, second)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert len(stamps.read_text().splitlines()) == 24  # 12 items, a start and an end each
    assert most_at_once(stamps) == 2  # each batch allows 3, the host 2
    # Items that had their batch's turn but no slot said so while they waited.
    assert any(
        "WAITING" in line and "host slot" in line for out in outputs for line in out.splitlines()
    )
    for ref in (first, second):
        batch = service.get(ref)
        assert batch.status is BatchStatus.COMPLETE
        assert all(item.waiting is None for item in batch.items)


@pytest.mark.slow
def test_without_a_limit_each_batch_runs_its_concurrency(db_path, tmp_path, stamp_script):
    stamps = tmp_path / "stamps.txt"
    service = BatchService(db_path)
    ref = stamping_batch(service, stamp_script, "Alone", stamps)
    run = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", ref],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert most_at_once(stamps) == 3
    assert "WAITING" not in run.stdout


def test_a_killed_holder_gives_its_slot_back(own_slots):
    slots = HostSlots(1, own_slots)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from batchtui.engine.slots import HostSlots;"
            "fd = HostSlots(1, Path(sys.argv[1])).try_acquire(); print(fd is not None, flush=True);"
            "time.sleep(60)",
            str(own_slots),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "True"
        assert slots.try_acquire() is None  # held by the other process
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert slots.try_acquire() == 0  # the kernel released it with the process
        slots.close()
    finally:
        if holder.poll() is None:
            holder.kill()


def test_slots_in_one_process_are_exclusive_too(own_slots):
    slots = HostSlots(2, own_slots)
    first, second = slots.try_acquire(), slots.try_acquire()
    assert (first, second) == (0, 1)  # numbered, lowest free first
    assert slots.try_acquire() is None
    slots.release(first)
    assert slots.try_acquire() == 0
    assert HostSlots(2, own_slots).try_acquire() is None  # another run of this process too
    slots.close()  # gives back what it held
    assert HostSlots(2, own_slots).try_acquire() == 0


def test_settings_file_sets_the_limit_and_the_environment_overrides_it(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text('slots = 1\nslots_dir = "/srv/slots"\n')
    monkeypatch.delenv("BATCHTUI_SLOTS_DIR")
    settings = load_host_settings()
    assert settings.slots == 1 and settings.slots_dir == Path("/srv/slots")
    monkeypatch.setenv("BATCHTUI_SLOTS", "4")
    assert load_host_settings().slots == 4


@pytest.mark.parametrize(
    ("env", "file", "says"),
    [
        ("zero", None, "BATCHTUI_SLOTS: slots must be a whole number from 1 to 1024, not 'zero'"),
        ("0", None, "not '0'"),
        (None, "slots = -2\n", "slots must be a whole number from 1 to 1024, not -2"),
        (None, "slots = [\n", "is not valid TOML"),
    ],
)
def test_bad_slot_settings_refuse_a_start_in_one_line_and_change_nothing(
    run_cli, db_path, tmp_path, monkeypatch, env, file, says
):
    ref = run_cli("create", "Slots", "--generator", "command", "--command", "true {output}")
    batch_id = ref.out.split("(")[1].split(")")[0]
    assert run_cli("add", batch_id, "x").code == 0
    assert run_cli("lock", batch_id).code == 0
    if env is not None:
        monkeypatch.setenv("BATCHTUI_SLOTS", env)
    if file is not None:
        (tmp_path / "config").mkdir(exist_ok=True)
        (tmp_path / "config" / "settings.toml").write_text(file)
    before = file_bytes(db_path)
    result = run_cli("start", batch_id)
    assert result.code == 2
    assert result.err.count("\n") == 1 and says in result.err
    assert file_bytes(db_path) == before


def test_validation_error_type_for_bad_settings(monkeypatch):
    monkeypatch.setenv("BATCHTUI_SLOTS", "1.5")
    with pytest.raises(ValidationError, match=r"not '1\.5'"):
        load_host_settings()


def test_waiting_items_are_recorded_while_they_wait(
    db_path, tmp_path, make_script, own_slots, monkeypatch
):
    """An item that has its batch's turn but no host slot is PENDING with a reason, in the
    store (so the TUI and attach show it), and starts once a slot frees."""
    import anyio

    from .helpers import wait_until

    script = make_script("touch.py", "import sys\nopen(sys.argv[1], 'w').write('ok')\n")
    service = BatchService(db_path, flush_interval=0.02)
    batch = service.create(
        "Wait", generator="command", command=f"{script} {{output}}", output_ext="txt"
    )
    service.add_items(batch.id, ["a"])
    service.lock(batch.id)
    holder = HostSlots(1, own_slots)
    slot = holder.try_acquire()  # someone else holds the only slot
    assert slot is not None
    monkeypatch.setenv("BATCHTUI_SLOTS", "1")

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(service.start, batch.id)
            await wait_until(lambda: service.get(batch.id).items[0].waiting is not None)
            item = service.get(batch.id).items[0]
            assert item.status is ItemStatus.PENDING
            assert "waiting for a host slot, 1st in line" in item.waiting
            holder.release(slot)

    anyio.run(main)
    ended = service.get(batch.id)
    assert ended.status is BatchStatus.COMPLETE and ended.items[0].waiting is None


def test_show_says_which_items_wait_for_a_slot(run_cli, db_path):
    from .tui_support import SLOT_WAIT, store, waiting_for_slots

    batch = waiting_for_slots()
    store(db_path, batch)
    result = run_cli("show", batch.id)
    assert result.code == 0
    line = next(line for line in result.out.splitlines() if "Is the Moon" in line)
    assert "◔ WAITING" in line and SLOT_WAIT[:30] in line
    data = run_cli("show", batch.id, "--json")
    assert '"waiting": "waiting for a host slot' in data.out


def test_cancel_stops_the_running_item_and_the_one_waiting_for_a_slot(
    db_path, make_script, own_slots, monkeypatch
):
    """Each item is reported once: the running one 'while running', the one that waited for a
    slot 'before it started'; no slot stays held."""
    import anyio

    from .helpers import wait_until

    script = make_script("slow.py", "import sys, time\ntime.sleep(60)\n")
    service = BatchService(db_path, flush_interval=0.02)
    batch = service.create(
        "Cancel",
        generator="command",
        command=f"{script} {{output}}",
        output_ext="txt",
        concurrency=2,
    )
    service.add_items(batch.id, ["runs", "waits"])
    service.lock(batch.id)
    monkeypatch.setenv("BATCHTUI_SLOTS", "1")
    events = []

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(service.start, batch.id, lambda event, _: events.append(event))

            def both_placed() -> bool:
                items = service.get(batch.id).items
                return items[0].status is ItemStatus.RUNNING and items[1].waiting is not None

            await wait_until(both_placed)
            service.cancel(batch.id)

    anyio.run(main)
    ended = service.get(batch.id)
    assert [(i.status, i.error) for i in ended.items] == [
        (ItemStatus.CANCELLED, "cancelled while running"),
        (ItemStatus.CANCELLED, "cancelled before it started"),
    ]
    finished = [e.item_id for e in events if type(e).__name__ == "ItemFinished"]
    assert sorted(finished) == sorted(i.id for i in ended.items)  # once each
    assert HostSlots(1, own_slots).try_acquire() == 0  # the slot came back
