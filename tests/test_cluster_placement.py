"""Where items go on a real render farm (`dask scheduler` and `dask worker` processes started
here): boxes that see the output folder read-only, boxes without the coordinator's working
folder, workers with and without a `render` resource, a farm whose workers all go away, and
schedulers of another Dask version."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from batchtui.core.models import BatchConfig
from batchtui.core.states import BatchStatus, ItemStatus
from batchtui.service import BatchService

from .farm import Farm

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return probe.returncode == 0


needs_unshare = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare -m` (a mount namespace) to give a worker its view"
)


def in_namespace(script: str) -> list[str]:
    """A worker's command prefix: run it in a mount namespace of its own after `script`
    (shell mount commands) has changed what it sees."""
    return ["unshare", "-m", "sh", "-c", f'{script} && exec "$@"', "sh"]


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    farm = Farm(tmp_path / "farm-logs")
    try:
        farm.start_scheduler()
        yield farm
    finally:
        farm.stop()


def make_batch(
    service: BatchService,
    command: str,
    count: int,
    *,
    concurrency: int = 2,
    output_dir: Path,
    workdir: Path | None = None,
    timeout: float | None = None,
) -> str:
    extra: dict[str, object] = {"output_dir": str(output_dir)}
    if workdir is not None:
        extra["workdir"] = str(workdir)
    if timeout is not None:
        extra["timeout"] = timeout
    config = BatchConfig(generator="command", command=command, output_ext="txt", **extra)
    batch = service.create("farm placement", config, concurrency=concurrency)
    service.add_items(batch.id, [f"topic {n}" for n in range(1, count + 1)])
    service.lock(batch.id)
    return batch.id


def run(service: BatchService, batch_id: str, address: str, limit: float = 90) -> None:
    async def main() -> None:
        with anyio.fail_after(limit):
            await service.start(batch_id, cluster=address)

    anyio.run(main)


def errors(batch_id: str, service: BatchService) -> list[tuple[str, str | None]]:
    return [(i.status.value, i.error) for i in service.get(batch_id).items]


@needs_unshare
def test_a_box_that_sees_the_output_folder_read_only_sends_outputs_back(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    """The probe file is readable there, so the box was taken as sharing the folder, and
    every item failed writing into it."""
    out = tmp_path / "out"
    out.mkdir()
    read_only = f"mount --bind {out} {out} && mount -o remount,bind,ro {out}"
    farm.add_worker("ro", prefix=in_namespace(read_only))
    farm.wait_for_workers(1)
    batch_id = make_batch(service, "sh -c 'echo made {index} > {output}'", 3, output_dir=out)
    run(service, batch_id, farm.address)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, errors(batch_id, service)
    for item in batch.items:
        assert item.worker == "ro"
        assert Path(item.output_path or "").read_text().strip() == f"made {item.position}"


@needs_unshare
def test_a_box_without_the_coordinators_working_folder_runs_in_a_private_one(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    """It shares the output folder but not `workdir`: every item failed, even though the
    outputs could be written in place."""
    out = tmp_path / "out"
    out.mkdir()
    hidden = tmp_path / "coordinator"
    workdir = hidden / "work"
    workdir.mkdir(parents=True)
    farm.add_worker("nowork", prefix=in_namespace(f"mount -t tmpfs none {hidden}"))
    farm.wait_for_workers(1)
    batch_id = make_batch(
        service, "sh -c 'pwd; echo made {index} > {output}'", 2, output_dir=out, workdir=workdir
    )
    run(service, batch_id, farm.address)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, errors(batch_id, service)
    for item in batch.items:
        assert item.worker == "nowork"
        assert Path(item.output_path or "").read_text().strip() == f"made {item.position}"
        log = Path(item.log_path or "").read_text()
        assert f"the working folder {workdir} is not on this worker" in log
    # The private working folders are gone from the box's temp folder.
    assert not list(Path("/tmp").glob("batchtui-work-*"))
    assert all(i.status is ItemStatus.SUCCEEDED for i in batch.items)
