"""The farm's worker side, with real `dask scheduler` and `dask worker` processes: a worker
killed on a box that stays up, setsid'd grandchildren, private folders, big outputs pulled back
and `{scratch}` across attempts. The rule: no attempt batchtui has given up on writes into the
output folder, and nothing batchtui leaves behind outlives the run that made it.

Each worker gets a temp folder of its own (TMPDIR), so a test sees exactly what the worker left
there. "No shared folder" is a worker in a mount namespace of its own where the batch's output
folder is an empty tmpfs (needs root, as in test_cluster_netns.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from batchtui.core.models import BatchConfig
from batchtui.core.states import BatchStatus, ItemStatus
from batchtui.engine.liveness import BATCH_ENV, ITEM_ENV
from batchtui.service import BatchService

from .farm import Farm, descendants, tagged

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")

CAN_HIDE = os.geteuid() == 0 and shutil.which("unshare") is not None
needs_hiding = pytest.mark.skipif(
    not CAN_HIDE, reason="needs root and `unshare` to hide the output folder from a worker"
)


def wait_until(check: Callable[[], bool], limit: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"not within {limit}s: {what}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class Boxes:
    """A farm whose workers each have a temp folder of their own (and, with `hide`, no view
    of the batch's output folder)."""

    def __init__(self, root: Path, out_dir: Path) -> None:
        self.root = root
        self.out_dir = out_dir
        self.farm = Farm(root / "farm-logs")
        self.farm.start_scheduler()

    def add(self, name: str, *, hide: bool = False, nthreads: int = 2) -> Path:
        tmp = self.root / f"tmp-{name}"
        tmp.mkdir()
        prefix = ["env", f"TMPDIR={tmp}"]
        if hide:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            script = f'mount -t tmpfs none "{self.out_dir}" && exec "$0" "$@"'
            prefix += ["unshare", "-m", "--propagation", "private", "sh", "-c", script]
        self.farm.add_worker(name, nthreads=nthreads, prefix=prefix)
        return tmp

    def left_in(self, tmp: Path) -> list[str]:
        """What batchtui left in a worker's temp folder (Dask's own scratch space aside)."""
        return sorted(p.name for p in tmp.iterdir() if p.name.startswith("batchtui"))


@pytest.fixture
def boxes(tmp_path: Path, out_dir: Path) -> Iterator[Boxes]:
    made = Boxes(tmp_path, out_dir)
    try:
        yield made
    finally:
        made.farm.stop()


def make_batch(
    service: BatchService, command: str, items: int = 1, concurrency: int = 1, **config: object
) -> str:
    batch = service.create(
        "worker side",
        BatchConfig(generator="command", command=command, output_ext="txt", **config),
        concurrency=concurrency,
    )
    service.add_items(batch.id, [f"topic {n}" for n in range(1, items + 1)])
    service.lock(batch.id)
    return batch.id


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def leftovers(service: BatchService, batch_id: str) -> list[str]:
    """Files in the batch's output folder that are neither a finished output nor its own
    bookkeeping: a `.part` or a placement's own-named output."""
    item = service.get(batch_id).items[0]
    folder = Path(item.output_path or "").parent
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("hide", [False, pytest.param(True, marks=needs_hiding)])
def test_a_worker_killed_mid_item_leaves_no_process_and_the_item_runs_once(
    boxes: Boxes, service: BatchService, tmp_path: Path, hide: bool
) -> None:
    """The worker dies (-9, nanny and all) on a box that stays up while an item's command
    runs: its attempt's processes lived on to the end, the item succeeded twice and a `.part`
    (an own-named output) stayed in the output folder; with no shared folder, its private
    folder stayed in the box's temp folder for ever."""
    tmps = {"w1": boxes.add("w1", hide=hide), "w2": boxes.add("w2", hide=hide)}
    boxes.farm.wait_for_workers(2)
    runs = tmp_path / "runs"
    command = f'sh -c "echo started; sleep 8; echo {{index}} >> {runs}; echo ok > {{output}}"'
    batch_id = make_batch(service, command)
    seen: dict[str, object] = {}

    async def kill_its_worker() -> None:
        item_id = service.get(batch_id).items[0].id
        while not seen:
            await anyio.sleep(0.05)
            for name in ("w1", "w2"):
                below = descendants(boxes.farm.procs[name].pid)
                if set(tagged(ITEM_ENV, item_id)) & set(below):
                    seen.update(name=name, pids=below)
        boxes.farm.kill(str(seen["name"]))
        pids = list(seen["pids"])  # type: ignore[call-overload]
        await anyio.to_thread.run_sync(
            lambda: wait_until(
                lambda: not any(alive(pid) for pid in pids), 4, "the attempt's processes end"
            )
        )
        seen["left"] = boxes.left_in(tmps[str(seen["name"])])

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_its_worker)
            with anyio.fail_after(90):
                await service.start(batch_id, cluster=boxes.farm.address)

    anyio.run(main)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, [(i.status, i.error) for i in batch.items]
    assert runs.read_text().split() == ["1"]  # succeeded exactly once
    assert leftovers(service, batch_id) == []
    assert seen["left"] == []  # the killed worker's box: nothing of ours in its temp folder
    assert tagged(BATCH_ENV, batch_id) == []


GRANDCHILD = """\
# A grandchild in a session of its own; it says its pid once it is there, and only then
# does the item go on (else the item's group could be killed before it left).
sh -c 'setsid sh -c "echo \\$\\$ > $1.t && mv $1.t $1 && exec sleep 300" &' _ "$3" >/dev/null 2>&1
while [ ! -s "$3" ]; do sleep 0.02; done
echo spawned
case "$1" in
  ok) echo done > "$2" ;;
  *) sleep 60 ;;
esac
"""


def test_a_killed_keeper_leaves_no_process_of_its_item(
    boxes: Boxes, service: BatchService, tmp_path: Path
) -> None:
    """The keeper itself killed (-9, as the OOM killer does) mid-item: its item's processes,
    a setsid'd grandchild among them, used to go to init and run on; the zygote (a subreaper)
    now takes them and kills them, and the attempt ends as a failure of its own."""
    import signal

    boxes.add("w1")
    boxes.farm.wait_for_workers(1)
    spawn = script(tmp_path, "spawn.sh", GRANDCHILD)
    marker = tmp_path / "grandchild.pid"
    batch_id = make_batch(service, f"sh {spawn} wait {{output}} {marker}")
    seen: dict[str, object] = {}

    def command_name(pid: int) -> str | None:
        """A process's name; None once it has ended (a worker's short-lived children end
        between the listing and the read)."""
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except FileNotFoundError:
            return None

    async def kill_the_keeper() -> None:
        item_id = service.get(batch_id).items[0].id
        while not marker.exists():
            await anyio.sleep(0.05)
        worker = boxes.farm.procs["w1"].pid
        keepers = [pid for pid in descendants(worker) if command_name(pid) == "batchtui-keeper"]
        assert len(keepers) == 1, keepers
        item = tagged(ITEM_ENV, item_id)
        assert item, "the item's processes run"
        os.kill(keepers[0], signal.SIGKILL)
        grandchild = int(marker.read_text())
        await anyio.to_thread.run_sync(
            lambda: wait_until(
                lambda: not any(alive(pid) for pid in [*item, grandchild]),
                8,
                "the killed keeper's processes end",
            )
        )
        seen["done"] = True

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_the_keeper)
            with anyio.fail_after(90):
                await service.start(batch_id, cluster=boxes.farm.address)

    anyio.run(main)
    assert seen.get("done")
    item = service.get(batch_id).items[0]
    assert item.status is ItemStatus.FAILED, item.status
    assert tagged(BATCH_ENV, batch_id) == []


@pytest.mark.parametrize("end", ["success", "cancel", "timeout"])
def test_a_setsid_grandchild_does_not_outlive_its_item_on_a_worker(
    boxes: Boxes, service: BatchService, tmp_path: Path, end: str
) -> None:
    boxes.add("w1")
    boxes.farm.wait_for_workers(1)
    spawn = script(tmp_path, "spawn.sh", GRANDCHILD)
    marker = tmp_path / "grandchild.pid"
    mode = "ok" if end == "success" else "wait"
    extra = {"timeout": 3.0} if end == "timeout" else {}
    command = f"sh {spawn} {mode} {{output}} {marker}"
    batch_id = make_batch(service, command, **extra)  # type: ignore[arg-type]

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            if end == "cancel":

                async def cancel_once_spawned() -> None:
                    while not marker.exists():
                        await anyio.sleep(0.05)
                    service.cancel(batch_id)

                tg.start_soon(cancel_once_spawned)
            with anyio.fail_after(60):
                await service.start(batch_id, cluster=boxes.farm.address)

    anyio.run(main)
    item = service.get(batch_id).items[0]
    expected = {
        "success": ItemStatus.SUCCEEDED,
        "cancel": ItemStatus.CANCELLED,
        "timeout": ItemStatus.FAILED,
    }
    assert item.status is expected[end], item.error
    grandchild = int(marker.read_text())
    assert not alive(grandchild)
    assert tagged(BATCH_ENV, batch_id) == []


@needs_hiding
@pytest.mark.parametrize("end", ["success", "cancel"])
def test_no_private_folder_is_left_on_a_worker(
    boxes: Boxes, service: BatchService, end: str
) -> None:
    tmp = boxes.add("w1", hide=True)
    boxes.farm.wait_for_workers(1)
    wait = "sleep 60; " if end == "cancel" else ""
    command = f'sh -c "{wait}echo {{index}} > {{output}}"'
    batch_id = make_batch(service, command, items=3, concurrency=2)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            if end == "cancel":

                async def cancel_when_running() -> None:
                    while len(tagged(BATCH_ENV, batch_id)) < 4:  # two sh, two sleep
                        await anyio.sleep(0.05)
                    service.cancel(batch_id)

                tg.start_soon(cancel_when_running)
            with anyio.fail_after(60):
                await service.start(batch_id, cluster=boxes.farm.address)

    anyio.run(main)
    batch = service.get(batch_id)
    if end == "success":
        assert batch.status is BatchStatus.COMPLETE, [i.error for i in batch.items]
    assert boxes.left_in(tmp) == []


BIG = 240 * 1024 * 1024 + 12345  # not a whole number of chunks


@needs_hiding
def test_a_big_output_comes_back_byte_identical(
    boxes: Boxes, service: BatchService, tmp_path: Path
) -> None:
    """With no shared folder the output is pulled back in chunks (it was the task's result,
    held whole in memory by the worker, the scheduler and twice by the runner)."""
    tmp = boxes.add("w1", hide=True)
    boxes.farm.wait_for_workers(1)
    sums = tmp_path / "sums"
    sums.mkdir()
    make = script(
        tmp_path,
        "big.sh",
        f'head -c {BIG} /dev/urandom > "$1"\nsha256sum "$1" | cut -d" " -f1 > "$2/made"\n',
    )
    batch_id = make_batch(service, f"sh {make} {{output}} {sums}")

    async def run() -> object:
        with anyio.fail_after(120):
            return await service.start(batch_id, cluster=boxes.farm.address)

    ended = anyio.run(run)
    assert ended.status is BatchStatus.COMPLETE, [i.error for i in ended.items]
    output = Path(ended.items[0].output_path or "")
    digest = hashlib.sha256()
    with output.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    assert output.stat().st_size == BIG
    assert digest.hexdigest() == (sums / "made").read_text().strip()
    assert leftovers(service, batch_id) == []
    assert boxes.left_in(tmp) == []


SCRATCH = """\
if [ -f "$1/checkpoint" ]; then
  echo "resumed from $(cat "$1/checkpoint")"
  echo done > "$2"
else
  echo half > "$1/checkpoint"
  echo "no checkpoint yet" >&2
  exit 3
fi
"""


@needs_hiding
def test_scratch_survives_a_failed_attempt_on_the_same_worker_and_goes_with_the_run(
    boxes: Boxes, service: BatchService, tmp_path: Path
) -> None:
    tmp = boxes.add("w1", hide=True)
    boxes.farm.wait_for_workers(1)
    resume = script(tmp_path, "resume.sh", SCRATCH)
    batch_id = make_batch(service, f"sh {resume} {{scratch}} {{output}}", retries=1, backoff=0.1)
    ended = anyio.run(lambda: service.start(batch_id, cluster=boxes.farm.address))
    item = ended.items[0]
    assert item.status is ItemStatus.SUCCEEDED, item.error
    assert "resumed from half" in Path(item.log_path or "").read_text()
    assert boxes.left_in(tmp) == []
