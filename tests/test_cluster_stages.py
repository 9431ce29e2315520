"""Pipeline stages on a real render farm: a `dask scheduler`, a CPU worker and a worker that
declares `--resources gpu=1`; each stage attempt is one Dask task, a stage with `pool = "gpu"`
runs only where that resource is, the others anywhere. And where a pool no host names is
refused: at the start of a run on this host, not at lock, and never for a farm run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from batchtui.core.states import BatchStatus, ItemStatus, Phase, phase
from batchtui.service import BatchService

from .farm import Farm

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    """w-cpu (two threads) and w-gpu (two threads, one gpu), each saying its name to the
    items it runs (FARM_WORKER in their environment: a keeper's child inherits its worker's)."""
    farm = Farm(tmp_path / "farm-logs")
    try:
        farm.start_scheduler()
        farm.add_worker("w-cpu", prefix=["env", "FARM_WORKER=w-cpu"])
        farm.add_worker(
            "w-gpu", prefix=["env", "FARM_WORKER=w-gpu"], extra=["--resources", "gpu=1"]
        )
        farm.wait_for_workers(2)
        yield farm
    finally:
        farm.stop()


def stage(name: str, stamps: Path, pool: str | None, seconds: float) -> dict:
    """A stage whose command notes its stage, its item and the worker that ran it, and writes
    its input's text followed by `NAME:ITEM@WORKER`."""
    script = (
        f'echo "$0 $1 $FARM_WORKER" >> {stamps}; sleep {seconds}; '
        'cat "$3" > "$2" 2>/dev/null; echo "$0:$1@$FARM_WORKER" >> "$2"'
    )
    made = {"name": name, "command": f"sh -c '{script}' {name} {{index}} {{output}} {{in}}"}
    if name == "script":
        made["command"] = f"sh -c '{script}' {name} {{index}} {{output}} /dev/null"
    if pool:
        made["pool"] = pool
    return made


def batchtui(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """One `batchtui` command (on the test's database), as a person types it."""
    return subprocess.run(
        [sys.executable, "-m", "batchtui", *args],
        capture_output=True, text=True, timeout=timeout, env=os.environ.copy(),
    )  # fmt: skip


def test_a_gpu_stage_runs_only_on_the_gpu_worker(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    stamps = tmp_path / "stamps.txt"
    stages = [
        stage("script", stamps, None, 0.2),
        stage("render", stamps, "gpu", 0.3),
        stage("mux", stamps, None, 0.2),
    ]
    batch = service.create(
        "farm pipeline", generator="command", command="true {output}", stages=stages,
        concurrency=4, output_dir=str(tmp_path / "out"),
    )  # fmt: skip
    service.add_items(batch.id, [f"topic {n}" for n in range(1, 5)])
    service.lock(batch.id)  # (no [slots] gpu on this host: a farm's pool is its workers')
    done = batchtui("start", batch.id, "--cluster", farm.address)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(batchtui("show", batch.id, "--json", timeout=60).stdout)
    assert shown["status"] == BatchStatus.COMPLETE.value
    ran = [line.split() for line in stamps.read_text().splitlines()]
    by_stage: dict[str, set[str]] = {}
    for name, _item, worker in ran:
        by_stage.setdefault(name, set()).add(worker)
    assert by_stage["render"] == {"w-gpu"}  # only where the gpu is
    assert by_stage["script"] | by_stage["mux"] == {"w-cpu", "w-gpu"}  # the rest anywhere
    for name in ("script", "render", "mux"):  # each stage of each item ran once
        assert sorted(item for s, item, _ in ran if s == name) == ["1", "2", "3", "4"]
    for item in shown["items"]:
        n = item["position"]
        assert item["status"] == ItemStatus.SUCCEEDED.value
        assert set(item["stages"]) == {"script", "render", "mux"}
        # Every stage's output is on the coordinator, holding what the stages before made.
        made = []
        for name in ("script", "render", "mux"):
            record = item["stages"][name]
            assert record["status"] == ItemStatus.SUCCEEDED.value and not record["cached"]
            lines = Path(record["output"]).read_text().split()
            assert [line.split("@")[0] for line in lines] == [*made, f"{name}:{n}"]
            made.append(f"{name}:{n}")
            worker = lines[-1].split("@")[1]
            assert worker == "w-gpu" if name == "render" else worker in {"w-cpu", "w-gpu"}
        final = Path(item["output_path"]).read_text().split()
        assert [line.split("@")[0] for line in final] == made
        # The item's worker is the one its last stage ran on (each stage's own is in its
        # output here: the item keeps no worker per stage).
        assert item["worker"] == final[-1].split("@")[1]


def _wait_for_pool(
    farm: Farm, service: BatchService, tmp_path: Path, then: object, pool: str = "tpu"
) -> tuple[str, list[tuple]]:
    """A 2-stage batch whose second stage's `pool` no worker offers, run on the farm; once
    its item waits at that stage, what it looks like is noted and `then()` is called."""
    stamps = tmp_path / "stamps.txt"
    batch = service.create(
        "no tpu", generator="command", command="true {output}",
        stages=[stage("script", stamps, None, 0), stage("render", stamps, pool, 0)],
        output_dir=str(tmp_path / "out"),
    )  # fmt: skip
    service.add_items(batch.id, ["one"])
    service.lock(batch.id)
    seen: list[tuple] = []

    async def watch() -> None:
        while not service.get(batch.id).items[0].waiting:
            if service.get(batch.id).status is not BatchStatus.PROCESSING:
                return  # it ended without waiting (and `seen` says so)
            await anyio.sleep(0.05)
        item = service.get(batch.id).items[0]
        seen.append((item.status, phase(item), item.stage, item.worker, item.waiting))
        then()  # type: ignore[operator]

    async def main() -> None:
        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                await service.start(batch.id, cluster=farm.address)

    anyio.run(main)
    return batch.id, seen


@pytest.mark.parametrize("pool", ["tpu", "threads"])  # (the name batchtui's own pool has)
def test_a_pool_no_worker_offers_is_waited_for_said_then_host_lost(
    farm: Farm, service: BatchService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: str
) -> None:
    from batchtui.engine import dask_executor

    monkeypatch.setattr(dask_executor, "NO_WORKER_WAIT", 3.0)
    batch_id, seen = _wait_for_pool(farm, service, tmp_path, lambda: None, pool)
    # It waits at its stage, on no worker, its clock stopped, saying what would take it.
    assert seen, f"it never waited: {service.get(batch_id).items[0]}"
    [(status, shown, at, worker, waiting)] = seen
    assert status is ItemStatus.RUNNING and shown is Phase.WAITING and at == "render"
    assert worker is None
    assert (
        waiting == f"render: no worker offers {pool}; start one with --resources {pool}=1 "
        "(waits up to 3 s)"
    )
    item = service.get(batch_id).items[0]
    assert item.status is ItemStatus.FAILED and item.stage == "render"
    assert (
        item.error
        == f"render: host lost: no worker offering {pool} on the farm at {farm.address} for 3 s"
    )
    assert item.stages["script"].status is ItemStatus.SUCCEEDED
    log = Path(item.log_path or "").read_text()
    assert (
        f"no worker on the farm at {farm.address} offers {pool} "
        f"(start one with --resources {pool}=1)" in log
    )
    assert [line.split()[0] for line in (tmp_path / "stamps.txt").read_text().splitlines()] == [
        "script"
    ]  # the render never ran


def test_a_worker_offering_the_pool_that_joins_in_time_takes_the_stage(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    def tpu_joins() -> None:
        farm.add_worker(
            "w-tpu", prefix=["env", "FARM_WORKER=w-tpu"], extra=["--resources", "tpu=1"]
        )

    batch_id, seen = _wait_for_pool(farm, service, tmp_path, tpu_joins)
    assert seen[0][1] is Phase.WAITING
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, batch.items[0].error
    item = batch.items[0]
    assert item.worker == "w-tpu" and item.waiting is None and item.stages["render"].attempts == 1
    ran = [line.split() for line in (tmp_path / "stamps.txt").read_text().splitlines()]
    assert [(name, worker) for name, _, worker in ran if name == "render"] == [("render", "w-tpu")]


# ------------------------------------------------------------ a pool this host does not name


def test_an_unnamed_pool_locks_and_a_run_here_is_refused_at_start_in_one_line(
    service: BatchService, tmp_path: Path, own_slots: Path
) -> None:
    """Lock takes any well-formed pool (a farm's pools are its workers' resources); a run on
    this host, started now or queued for later, is refused while settings.toml lacks it."""
    stamps = tmp_path / "stamps.txt"
    batch = service.create(
        "local gpu", generator="command", command="true {output}",
        stages=[stage("script", stamps, None, 0), stage("render", stamps, "gpu", 0)],
        output_dir=str(tmp_path / "out"),
    )  # fmt: skip
    service.add_items(batch.id, ["one"])
    assert service.lock(batch.id).status is BatchStatus.LOCKED
    for extra in ([], ["--in", "1h"]):
        done = batchtui("start", batch.id, *extra, timeout=60)
        if done.returncode == 0 and extra:  # queued after all: take it back (no waiter left)
            batchtui("cancel", batch.id, timeout=60)
        assert done.returncode == 2, (extra, done.stdout, done.stderr)
        said = done.stderr.strip()
        assert said.count("\n") == 0, said
        assert "stage 'render': pool 'gpu' is not one this host names" in said, said
        assert "[slots] gpu = N" in said and "--resources gpu=1" in said
        batch = service.get(batch.id)
        assert batch.status is BatchStatus.LOCKED and batch.deferred is None
    assert not stamps.exists()
    # Named in settings.toml, it runs here.
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "settings.toml").write_text("[slots]\ngpu = 1\n")
    done = batchtui("start", batch.id, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert service.get(batch.id).status is BatchStatus.COMPLETE
