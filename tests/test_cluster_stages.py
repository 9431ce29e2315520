"""Pipeline stages on a real render farm: a `dask scheduler`, a CPU worker and a worker that
declares `--resources gpu=1`; each stage attempt is one Dask task, a stage with `pool = "gpu"`
runs only where that resource is, the others anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchtui.core.states import BatchStatus, ItemStatus
from batchtui.service import BatchService

from .farm import Farm

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    """w-cpu (two threads) and w-gpu (two threads, one gpu), each saying its name to the
    items it runs (FARM_WORKER in their environment)."""
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
    """A stage whose command notes its stage, its item and the worker that ran it."""
    script = (
        f'echo "$0 $1 $FARM_WORKER" >> {stamps}; sleep {seconds}; '
        'cat "$3" > "$2" 2>/dev/null; echo "$0:$1" >> "$2"'
    )
    made = {"name": name, "command": f"sh -c '{script}' {name} {{index}} {{output}} {{in}}"}
    if name == "script":
        made["command"] = f"sh -c '{script}' {name} {{index}} {{output}} /dev/null"
    if pool:
        made["pool"] = pool
    return made


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
    done = subprocess.run(
        [sys.executable, "-m", "batchtui", "start", batch.id, "--cluster", farm.address],
        capture_output=True, text=True, timeout=180, env=os.environ.copy(),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(
        subprocess.run(
            [sys.executable, "-m", "batchtui", "show", batch.id, "--json"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout
    )  # fmt: skip
    assert shown["status"] == BatchStatus.COMPLETE.value
    ran = [line.split() for line in stamps.read_text().splitlines()]
    by_stage: dict[str, set[str]] = {}
    for name, _item, worker in ran:
        by_stage.setdefault(name, set()).add(worker)
    assert by_stage["render"] == {"w-gpu"}  # only where the gpu is
    assert by_stage["script"] | by_stage["mux"] == {"w-cpu", "w-gpu"}  # the rest anywhere
    assert sorted(item for name, item, _ in ran if name == "render") == ["1", "2", "3", "4"]
    for item in shown["items"]:
        assert item["status"] == ItemStatus.SUCCEEDED.value
        made = Path(item["output_path"]).read_text().split()
        n = item["position"]
        assert made == [f"script:{n}", f"render:{n}", f"mux:{n}"]
        assert set(item["stages"]) == {"script", "render", "mux"}


def test_a_pool_no_worker_offers_is_waited_for_and_said(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    import time

    stamps = tmp_path / "stamps.txt"
    batch = service.create(
        "no tpu", generator="command", command="true {output}",
        stages=[stage("script", stamps, None, 0), stage("render", stamps, "tpu", 0)],
        output_dir=str(tmp_path / "out"),
    )  # fmt: skip
    service.add_items(batch.id, ["one"])
    service.lock(batch.id)
    runner = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "start", batch.id, "--cluster", farm.address],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "no worker offers tpu" not in (service.get(batch.id).items[0].waiting or ""):
            assert time.monotonic() < deadline, service.get(batch.id).items[0]
            time.sleep(0.1)
        item = service.get(batch.id).items[0]
        assert item.stage == "render" and item.waiting.startswith("render: no worker offers tpu")
    finally:
        subprocess.run([sys.executable, "-m", "batchtui", "cancel", batch.id], timeout=60)
        runner.communicate(timeout=60)
    assert service.get(batch.id).items[0].status is ItemStatus.CANCELLED
