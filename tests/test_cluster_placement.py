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
from batchtui.core.states import BatchStatus, ItemStatus, Phase, phase
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


# ------------------------------------------------------------------------- slots: render, threads


def together(stamps: Path, count: int) -> str:
    """An item's command that says how many items ran at once: it waits (up to 10 s) for
    `count` items to have started, then writes how many did."""
    return (
        f"sh -c 'touch {stamps}/{{index}}; n=0; "
        f'while [ "$(ls {stamps} | wc -l)" -lt {count} ] && [ $n -lt 100 ]; '
        f"do sleep 0.1; n=$((n+1)); done; ls {stamps} | wc -l > {{output}}'"
    )


def test_a_worker_runs_as_many_items_as_its_render_says_whatever_its_threads(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    """`--nthreads 1 --resources render=3` ran one item at a time, silently."""
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    farm.add_worker("box", nthreads=1, extra=["--resources", "render=3"])
    farm.wait_for_workers(1)
    batch_id = make_batch(
        service, together(stamps, 3), 3, concurrency=3, output_dir=tmp_path / "out"
    )
    run(service, batch_id, farm.address)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, errors(batch_id, service)
    assert [Path(i.output_path or "").read_text().strip() for i in batch.items] == ["3"] * 3


def test_workers_with_and_without_render_are_all_used(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    """Once one worker declared `render`, a worker without it was never used."""
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    farm.add_worker("gpu", nthreads=1, extra=["--resources", "render=1"])
    farm.add_worker("cpu", nthreads=2)
    farm.wait_for_workers(2)
    batch_id = make_batch(
        service, together(stamps, 3), 3, concurrency=3, output_dir=tmp_path / "out"
    )
    run(service, batch_id, farm.address)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, errors(batch_id, service)
    assert [Path(i.output_path or "").read_text().strip() for i in batch.items] == ["3"] * 3
    assert sorted(i.worker or "" for i in batch.items) == ["cpu", "cpu", "gpu"]


# ------------------------------------------------------------------ a farm with no worker left


def _lose_every_worker(farm: Farm, service: BatchService, batch_id: str, then: object) -> dict:
    """Run the batch; once both items run on w1, w1 dies (the farm's only worker); record
    what the items look like while they wait, then call `then()` (a worker joins, or not)."""
    seen: dict = {}

    async def lose_it() -> None:
        while True:
            await anyio.sleep(0.05)
            items = service.get(batch_id).items
            if all(i.worker == "w1" for i in items):
                break
        farm.kill("w1")
        while True:  # the coordinator notices: the items wait, on no box
            await anyio.sleep(0.05)
            items = service.get(batch_id).items
            if all(i.waiting for i in items):
                break
        seen["while waiting"] = [(i.status, phase(i), i.worker, i.waiting) for i in items]
        then()  # type: ignore[operator]

    async def main() -> None:
        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                tg.start_soon(lose_it)
                await service.start(batch_id, cluster=farm.address)

    anyio.run(main)
    return seen


def test_items_whose_farm_lost_every_worker_wait_then_end_as_host_lost(
    farm: Farm, service: BatchService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They showed RUNNING on the dead box, with nothing in their logs, for ever."""
    from batchtui.engine import dask_executor

    monkeypatch.setattr(dask_executor, "NO_WORKER_WAIT", 3.0, raising=False)
    farm.add_worker("w1")
    farm.wait_for_workers(1)
    batch_id = make_batch(
        service, "sh -c 'sleep 30; echo x > {output}'", 2, output_dir=tmp_path / "out"
    )
    seen = _lose_every_worker(farm, service, batch_id, lambda: None)
    for status, shown, worker, waiting in seen["while waiting"]:
        assert status is ItemStatus.RUNNING and shown is Phase.WAITING and worker is None
        assert "no worker left on the farm" in waiting
    batch = service.get(batch_id)
    for item in batch.items:
        assert item.status is ItemStatus.FAILED
        assert (item.error or "").startswith("host lost: no worker was left on the farm"), item
        log = Path(item.log_path or "").read_text()
        assert "worker w1 (" in log and "was lost and no worker is left on the farm" in log


def test_a_worker_that_joins_in_time_takes_up_the_waiting_items(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    farm.add_worker("w1")
    farm.wait_for_workers(1)
    batch_id = make_batch(
        service, "sh -c 'sleep 2; echo x > {output}'", 2, output_dir=tmp_path / "out"
    )
    _lose_every_worker(farm, service, batch_id, lambda: farm.add_worker("w2"))
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, errors(batch_id, service)
    for item in batch.items:
        assert item.worker == "w2" and item.waiting is None and item.attempts == 1
        log = Path(item.log_path or "").read_text()
        assert "no worker is left on the farm" in log
        assert "the attempt runs again on worker w2" in log


def test_a_worker_of_another_version_joining_mid_run_gets_no_item(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    """The start-time check saw only the workers there then: one that joined later with
    other versions was given items (here it could run them; a real one fails them)."""
    other = tmp_path / "other-version"
    meta = other / "batchtui-9.9.dist-info"
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: batchtui\nVersion: 9.9\n")
    farm.add_worker("w1", nthreads=1)
    farm.wait_for_workers(1)
    batch_id = make_batch(
        service,
        "sh -c 'sleep 1.5; echo x > {output}'",
        3,
        concurrency=2,
        output_dir=tmp_path / "out",
    )

    async def main() -> None:
        async def odd_one_joins() -> None:
            while not any(i.worker == "w1" for i in service.get(batch_id).items):
                await anyio.sleep(0.05)
            farm.add_worker("odd", prefix=["env", f"PYTHONPATH={other}"])
            await anyio.to_thread.run_sync(farm.wait_for_workers, 2)

        with anyio.fail_after(90):
            async with anyio.create_task_group() as tg:
                tg.start_soon(odd_one_joins)
                await service.start(batch_id, cluster=farm.address)

    anyio.run(main)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, errors(batch_id, service)
    assert [i.worker for i in batch.items] == ["w1"] * 3
    # (A quiet item that succeeds leaves no log file: the attempts out then say it.)
    logs = "".join(
        Path(i.log_path).read_text()
        for i in batch.items
        if i.log_path and Path(i.log_path).exists()
    )
    assert "worker odd (" in logs
    assert "joined with batchtui 9.9, this host" in logs and "it gets no item" in logs


def test_a_started_item_waiting_for_a_worker_is_shown_waiting_on_no_box() -> None:
    """The fold: a RUNNING item told it waits (its worker lost) is in the WAITING phase, on no
    worker; its next placement puts it back to RUNNING there."""
    from datetime import UTC, datetime

    from batchtui.core import run as fold
    from batchtui.core.events import ItemPlaced, ItemStarted, ItemWaiting
    from batchtui.core.models import Batch, BatchItem

    batch = Batch(
        id="b1", name="b", config=BatchConfig(), items=[BatchItem(id="i1", position=1, content="x")]
    )
    item = batch.items[0]
    now = datetime.now(UTC)
    fold.apply(batch, ItemStarted(batch.id, item.id, 1, now, "/tmp/x.log", "dask", None))
    fold.apply(batch, ItemPlaced(batch.id, item.id, "w1", "box1"))
    assert phase(item) is Phase.RUNNING and item.worker == "w1"
    fold.apply(batch, ItemWaiting(batch.id, item.id, "no worker left on the farm"))
    assert item.status is ItemStatus.RUNNING and phase(item) is Phase.WAITING
    assert item.worker is None and item.host is None
    fold.apply(batch, ItemPlaced(batch.id, item.id, "w2", "box2"))
    assert phase(item) is Phase.RUNNING and item.waiting is None and item.worker == "w2"


# ------------------------------------------------------------ schedulers of another version

OLD_DASK = Path(__file__).resolve().parents[1] / ".venv-olddask" / "bin" / "dask"
"""An older Dask, as pyproject's `distributed>=2024.8` allows, in the checkout's own folder
(`.ci/run` makes it: `python3 -m venv .venv-olddask && .venv-olddask/bin/pip install
'distributed==2024.8.0'`)."""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    return subprocess.run(
        [sys.executable, "-m", "batchtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@pytest.mark.skipif(
    not OLD_DASK.exists(),
    reason="no older Dask here: python3 -m venv .venv-olddask && "
    ".venv-olddask/bin/pip install 'distributed==2024.8.0'",
)
def test_an_older_scheduler_is_one_line_in_the_cli_and_the_api(
    service: BatchService, db_path: Path, tmp_path: Path
) -> None:
    """An older `dask scheduler` gave an 80-line traceback in the CLI and a bare 500 in the
    API (and its TypeError crashed the TUI's start)."""
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    from .farm import free_port, wait_for_port
    from .helpers import batch_file

    port = free_port()
    log = open(tmp_path / "old-scheduler.log", "wb")  # noqa: SIM115 (closed below)
    old = subprocess.Popen(
        [str(OLD_DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port("127.0.0.1", port)
        address = f"tcp://127.0.0.1:{port}"
        batch_id = make_batch(service, "sh -c 'echo x > {output}'", 2, output_dir=tmp_path / "o")
        before = batch_file(db_path, batch_id).read_bytes()
        refused = cli("--db", str(db_path), "start", batch_id, "--cluster", address)
        assert refused.returncode == 1, refused
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert f"the Dask scheduler at {address} runs distributed 2024.8.0" in lines[0]
        assert batch_file(db_path, batch_id).read_bytes() == before
        with TestClient(create_app(service)) as http:
            answer = http.post(f"/v1/batch/{batch_id}/start", json={"cluster": address})
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["type"] == "cluster_unavailable"
        assert "runs distributed 2024.8.0" in error["message"]
        assert batch_file(db_path, batch_id).read_bytes() == before
    finally:
        old.kill()
        old.wait(timeout=10)
        log.close()


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("garbled", "did not answer as a Dask scheduler does"),
        ({"packages": ["x"]}, "did not answer as a Dask scheduler does"),
        ({"packages": {"dask": "2024.8.0"}}, "runs dask 2024.8.0, this host"),
    ],
)
def test_a_scheduler_answering_the_version_handshake_oddly_is_one_line(
    answer: object, said: str
) -> None:
    """A listener that speaks Dask's protocol but answers the handshake with another version
    or nonsense (a fake scheduler: distributed's own server with one handler)."""
    from distributed.core import Server
    from distributed.versions import get_versions

    from batchtui.core.errors import ClusterError
    from batchtui.engine.cluster import preflight

    if isinstance(answer, dict) and isinstance(answer.get("packages"), dict):
        answer = {"packages": {**get_versions()["packages"], **answer["packages"]}}

    def versions(packages: object = None) -> object:
        return answer

    async def main() -> None:
        server = Server({"versions": versions})
        await server.listen("tcp://127.0.0.1:0")
        try:
            with pytest.raises(ClusterError) as refused, anyio.fail_after(30):
                await anyio.to_thread.run_sync(preflight, server.address)
        finally:
            await server.close()
        message = str(refused.value)
        assert "\n" not in message and said in message, message

    anyio.run(main)


class _GarbledClient:
    """A connected client whose scheduler's answers make no sense."""

    def __init__(self, identity: object) -> None:
        answer = identity

        class Scheduler:
            async def identity(self) -> object:
                return answer

        self.scheduler = Scheduler()

    async def get_versions(self, packages: list[str]) -> dict:
        return {"client": {"packages": {}}, "workers": {"tcp://x:1": "nonsense"}}


@pytest.mark.parametrize(
    "identity",
    ["nonsense", {"workers": ["a"]}, {"workers": {"tcp://x:1": {"nthreads": "many"}}}],
)
def test_a_garbled_identity_is_one_line(identity: object) -> None:
    from batchtui.core.errors import ClusterError
    from batchtui.engine.cluster import check

    with pytest.raises(ClusterError, match="did not answer as a Dask scheduler does"):
        anyio.run(check, _GarbledClient(identity), "tcp://farm:8786")  # type: ignore[arg-type]
