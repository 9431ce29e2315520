"""A render farm for real: a `dask scheduler` and two `dask worker` processes started here, items
run on them through `start --cluster`; workers killed, runs cancelled, the scheduler lost."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from batchtui.core.errors import ClusterError, ValidationError
from batchtui.core.models import BatchConfig
from batchtui.core.states import BatchStatus, ItemStatus
from batchtui.engine.cluster import cluster_address, preflight
from batchtui.engine.liveness import BATCH_ENV, ITEM_ENV
from batchtui.service import BatchService

from .farm import Farm, descendants, free_port, tagged
from .helpers import batch_file

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    """A scheduler and workers w1, w2 (two slots each)."""
    farm = Farm(tmp_path / "farm-logs")
    try:
        farm.start_scheduler()
        farm.add_worker("w1")
        farm.add_worker("w2")
        farm.wait_for_workers(2)
        yield farm
    finally:
        farm.stop()


def make_batch(service: BatchService, command: str, count: int, concurrency: int) -> str:
    config = BatchConfig(generator="command", command=command, output_ext="txt")
    batch = service.create("farm run", config, concurrency=concurrency)
    service.add_items(batch.id, [f"topic {n}" for n in range(1, count + 1)])
    service.lock(batch.id)
    return batch.id


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_six_items_run_on_both_workers_from_the_cli(farm: Farm, service: BatchService) -> None:
    batch_id = make_batch(
        service, 'sh -c "echo made {index}; sleep 0.4; echo {index} > {output}"', 6, concurrency=4
    )
    done = cli("start", batch_id, "--cluster", farm.address)
    assert done.returncode == 0, done.stderr
    shown = json.loads(cli("show", batch_id, "--json").stdout)
    assert shown["status"] == "COMPLETE"
    assert shown["runner"] is None
    workers = {item["worker"] for item in shown["items"]}
    assert workers == {"w1", "w2"}
    assert {item["host"] for item in shown["items"]} == {socket.gethostname()}
    for item in shown["items"]:
        output = Path(item["output_path"])
        assert output.read_text().strip() == str(item["position"])
        # The worker's lines reached the coordinator's log.
        assert f"made {item['position']}" in Path(item["log_path"]).read_text()
    manifest = output.parent / "manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    outputs = [r for r in records if r["kind"] == "output"]
    assert {r["worker"] for r in outputs} == {"w1", "w2"}
    # The probe file that tells shared storage apart is gone.
    assert not [p for p in output.parent.iterdir() if p.name.startswith(".batchtui-probe")]


def test_a_worker_killed_mid_item_reruns_it_on_the_other(
    farm: Farm, service: BatchService, tmp_path: Path
) -> None:
    stamps = tmp_path / "stamps"
    # Long enough that the item seen on w1 is still mid-item when the box goes down, even
    # when the store places it late (a loaded machine: with 1.5 s it had once already
    # written its stamp, and then ran again on w2).
    command = f'sh -c "sleep 4; echo {{index}} >> {stamps}; echo ok > {{output}}"'
    batch_id = make_batch(service, command, 6, concurrency=4)
    victim: dict[str, str] = {}

    async def box_goes_down() -> None:
        """Once an item runs on w1, w1's box dies: its processes freeze, then all die."""
        on_w1: list[str] = []
        while not on_w1:
            await anyio.sleep(0.05)
            batch = service.get(batch_id)
            on_w1 = [i.id for i in batch.items if i.worker == "w1" and tagged(ITEM_ENV, i.id)]
        victim["item"] = on_w1[0]
        # Every process on the box, frozen first, so none can end (fail or succeed) before
        # its worker is gone: all of w1's descendants, also an item it started a moment
        # ago that the database does not place on w1 yet.
        frozen = descendants(farm.procs["w1"].pid)
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        farm.kill("w1")
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(box_goes_down)
            await service.start(batch_id, cluster=farm.address)

    anyio.run(main)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE, [(i.status, i.error) for i in batch.items]
    lost = batch.item(victim["item"])
    assert lost.worker == "w2"
    assert lost.attempts == 1  # a lost host is not the item's failure
    assert "was lost; the attempt runs again on worker w2" in Path(lost.log_path or "").read_text()
    # Every item ran to success exactly once.
    assert sorted(int(n) for n in stamps.read_text().split()) == [1, 2, 3, 4, 5, 6]


def test_cancel_mid_run_leaves_no_process_on_any_worker(farm: Farm, service: BatchService) -> None:
    batch_id = make_batch(service, 'sh -c "sleep 60; echo late > {output}"', 6, concurrency=4)

    async def main() -> None:
        async with anyio.create_task_group() as tg:

            async def cancel_when_four_run() -> None:
                while len(tagged(BATCH_ENV, batch_id)) < 8:  # four `sh` and four `sleep`
                    await anyio.sleep(0.05)
                service.cancel(batch_id)

            tg.start_soon(cancel_when_four_run)
            with anyio.fail_after(60):
                await service.start(batch_id, cluster=farm.address)

    anyio.run(main)
    assert tagged(BATCH_ENV, batch_id) == []
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [i.status for i in batch.items] == [ItemStatus.CANCELLED] * 6
    assert sum(i.attempts for i in batch.items) == 4


def test_an_unreachable_scheduler_is_one_line_and_changes_nothing(
    service: BatchService, db_path: Path
) -> None:
    batch_id = make_batch(service, "sh -c 'echo x > {output}'", 2, concurrency=2)
    before = batch_file(db_path, batch_id).read_bytes()
    address = f"tcp://127.0.0.1:{free_port()}"
    refused = cli("start", batch_id, "--cluster", address)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot reach the Dask scheduler at {address}" in lines[0]
    assert batch_file(db_path, batch_id).read_bytes() == before
    # A malformed address is a usage error, said before any connection.
    bad = cli("start", batch_id, "--cluster", "not an address")
    assert bad.returncode == 2 and "is not a Dask scheduler address" in bad.stderr
    assert batch_file(db_path, batch_id).read_bytes() == before


class _Impostor:
    """A listener on a port that is not a Dask scheduler's: silent, an HTTP server (say, the
    dashboard) or an SSH server."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)  # never closed by us: a silent one stays silent
            if self.kind == "http":
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
            elif self.kind == "ssh":
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("kind", ["silent", "http", "ssh"])
def test_a_port_that_is_not_a_scheduler_is_one_line_in_bounded_time(
    service: BatchService, db_path: Path, kind: str
) -> None:
    """Every farm handshake has a deadline: a listener that accepts and never speaks hung
    `start --cluster` for ever; an HTTP or SSH port gave an 80-line traceback."""
    batch_id = make_batch(service, "sh -c 'echo x > {output}'", 2, concurrency=2)
    before = batch_file(db_path, batch_id).read_bytes()
    impostor = _Impostor(kind)
    try:
        refused = cli("start", batch_id, "--cluster", f"tcp://127.0.0.1:{impostor.port}")
    finally:
        impostor.close()
    assert refused.returncode == 1, refused
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{impostor.port}" in lines[0], lines
    assert "scheduler" in lines[0]
    assert batch_file(db_path, batch_id).read_bytes() == before


def test_a_tls_address_without_tls_settings_is_one_line(service: BatchService) -> None:
    batch_id = make_batch(service, "sh -c 'echo x > {output}'", 1, concurrency=1)
    impostor = _Impostor("http")
    try:
        refused = cli("start", batch_id, "--cluster", f"tls://127.0.0.1:{impostor.port}")
    finally:
        impostor.close()
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "TLS settings" in refused.stderr


def test_a_scheduler_without_workers_is_refused(tmp_path: Path) -> None:
    farm = Farm(tmp_path / "logs")
    try:
        farm.start_scheduler()
        with pytest.raises(ClusterError, match="has no workers: start one"):
            preflight(farm.address)
    finally:
        farm.stop()


def test_scheduler_lost_mid_run_interrupts_and_retry_resumes(
    farm: Farm, service: BatchService
) -> None:
    batch_id = make_batch(service, 'sh -c "sleep 2; echo ok > {output}"', 4, concurrency=2)

    async def main() -> None:
        async with anyio.create_task_group() as tg:

            async def lose_the_scheduler() -> None:
                while len(tagged(BATCH_ENV, batch_id)) < 4:
                    await anyio.sleep(0.05)
                farm.kill("scheduler")

            tg.start_soon(lose_the_scheduler)
            with anyio.fail_after(60):
                await service.start(batch_id, cluster=farm.address)

    anyio.run(main)
    batch = service.get(batch_id)
    statuses = [i.status for i in batch.items]
    assert statuses.count(ItemStatus.INTERRUPTED) == 2, [(i.status, i.error) for i in batch.items]
    assert statuses.count(ItemStatus.CANCELLED) == 2
    assert "Dask scheduler" in (batch.items[0].error or "") + (batch.items[1].error or "")
    # Workers close when they lose their scheduler, and take the items' processes with them.
    farm.stop()
    assert tagged(BATCH_ENV, batch_id) == []
    # The farm comes back on the same address: retry picks up the rest.
    farm.start_scheduler()
    farm.add_worker("w3")
    farm.wait_for_workers(1)
    ended = anyio.run(lambda: service.retry(batch_id, cluster=farm.address))
    assert ended.status is BatchStatus.COMPLETE
    assert {i.worker for i in ended.items} == {"w3"}


def test_where_a_batch_runs_is_a_run_choice_not_config(farm: Farm, service: BatchService) -> None:
    batch_id = make_batch(service, "sh -c 'echo x > {output}'", 2, concurrency=2)
    locked_hash = service.get(batch_id).config_hash
    ended = anyio.run(lambda: service.start(batch_id, cluster=farm.address))
    assert ended.status is BatchStatus.COMPLETE
    assert ended.config_hash == locked_hash == ended.config.fingerprint()


def test_cluster_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCHTUI_CLUSTER", raising=False)
    assert cluster_address(None) is None
    assert cluster_address("render-1") == "tcp://render-1:8786"
    assert cluster_address("10.0.0.5:9000") == "tcp://10.0.0.5:9000"
    assert cluster_address("tls://farm.example:8786") == "tls://farm.example:8786"
    monkeypatch.setenv("BATCHTUI_CLUSTER", "farm:8786")
    assert cluster_address(None) == "tcp://farm:8786"
    assert cluster_address("local") is None  # here, whatever the default
    for bad in ("tcp://", "farm:99999", "http://farm:8786", "a b"):
        with pytest.raises(ValidationError, match="not a Dask scheduler address"):
            cluster_address(bad)


class _Versions:
    """A stand-in for a Dask client whose one worker runs other versions."""

    def __init__(self, worker_packages: dict[str, str]) -> None:
        self.worker_packages = worker_packages

        class Scheduler:
            async def identity(self) -> dict:
                return {"workers": {"tcp://10.0.0.9:4000": {"name": "box9", "nthreads": 2}}}

        self.scheduler = Scheduler()

    async def get_versions(self, packages: list[str]) -> dict:
        import batchtui

        mine = {"python": "3.11.7", "batchtui": batchtui.__version__}
        mine.update({p: "1.0" for p in packages if p != "batchtui"})
        return {
            "client": {"packages": mine},
            "workers": {"tcp://10.0.0.9:4000": {"packages": {**mine, **self.worker_packages}}},
        }


@pytest.mark.parametrize(
    ("theirs", "said"),
    [
        ({"batchtui": None}, "worker box9 (tcp://10.0.0.9:4000) has batchtui MISSING"),
        ({"distributed": "0.9"}, "has distributed 0.9, this host 1.0"),
        ({"python": "3.12.1"}, "has python 3.12, this host 3.11"),
    ],
)
def test_versions_must_match_on_every_worker(theirs: dict, said: str) -> None:
    from batchtui.engine.cluster import check

    with pytest.raises(ClusterError, match=said.replace("(", r"\(").replace(")", r"\)")):
        anyio.run(check, _Versions(theirs), "tcp://farm:8786")  # type: ignore[arg-type]


def test_a_timed_out_item_is_stopped_on_its_worker(farm: Farm, service: BatchService) -> None:
    batch_id = make_batch(service, 'sh -c "sleep 60; echo late > {output}"', 2, concurrency=2)
    service.unlock(batch_id)
    service.update_config(batch_id, timeout=1.5)
    service.lock(batch_id)
    ended = anyio.run(lambda: service.start(batch_id, cluster=farm.address))
    assert [i.status for i in ended.items] == [ItemStatus.FAILED] * 2
    assert all("timed out after 1.5s" in (i.error or "") for i in ended.items)
    assert tagged(BATCH_ENV, batch_id) == []


def test_the_api_starts_on_a_cluster_or_refuses_in_one_line(
    farm: Farm, service: BatchService, db_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    batch_id = make_batch(service, "sh -c 'echo x > {output}'", 2, concurrency=2)
    before = batch_file(db_path, batch_id).read_bytes()
    with TestClient(create_app(service)) as http:
        bad = http.post(f"/v1/batch/{batch_id}/start", json={"cluster": "no such thing"})
        assert bad.status_code == 422 and "not a Dask scheduler address" in bad.text
        gone = f"tcp://127.0.0.1:{free_port()}"
        down = http.post(f"/v1/batch/{batch_id}/start", json={"cluster": gone})
        assert down.status_code == 503
        assert down.json()["error"]["type"] == "cluster_unavailable"
        assert batch_file(db_path, batch_id).read_bytes() == before
        started = http.post(f"/v1/batch/{batch_id}/start", json={"cluster": farm.address})
        assert started.status_code == 202
        assert started.json()["runner"]["cluster"] == farm.address
    limit = time.monotonic() + 60
    while service.get(batch_id).status is BatchStatus.PROCESSING:
        assert time.monotonic() < limit, "the detached run never ended"
        time.sleep(0.1)
    ended = service.get(batch_id)
    assert ended.status is BatchStatus.COMPLETE
    assert {i.worker for i in ended.items} <= {"w1", "w2"} and all(i.worker for i in ended.items)


def test_time_queued_on_a_busy_farm_is_not_the_items_time(
    farm: Farm, service: BatchService
) -> None:
    """Eight 2 s items with a 3.5 s limit on a farm of four slots, all eight asked to run at
    once: the last four wait for a slot, and that wait must not count against their limit
    (they failed "timed out after 3.5s" having run 2 s)."""
    batch_id = make_batch(service, "sh -c 'sleep 2; echo done > {output}'", 8, concurrency=8)
    service.unlock(batch_id)  # made locked with the default limit
    service.update_config(batch_id, timeout=3.5)
    service.lock(batch_id)
    done = cli("start", batch_id, "--cluster", farm.address)
    assert done.returncode == 0, done.stderr
    shown = json.loads(cli("show", batch_id, "--json").stdout)
    assert [item["status"] for item in shown["items"]] == ["SUCCEEDED"] * 8, [
        item["error"] for item in shown["items"]
    ]


class _FakeScheduler:
    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def identity(self) -> dict:
        if self.answer == "raise":
            raise OSError("comm closed")
        if self.answer == "hang":
            await anyio.sleep(3600)
        return {"workers": {}}


class _FakeClient:
    def __init__(self, status: str, answer: str) -> None:
        self.status = status
        self.scheduler = _FakeScheduler(answer)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "answer", "alive"),
    [
        ("running", "ok", True),  # a lost result: its worker died, the farm is fine
        ("running", "raise", False),
        ("running", "hang", False),  # no answer within the check's deadline
        ("connecting", "ok", False),
        ("closed", "ok", False),
    ],
)
async def test_a_lost_result_is_told_apart_from_a_lost_scheduler(
    status: str, answer: str, alive: bool
) -> None:
    """A worker dying as its finished result was handed over interrupted the whole run as if
    the scheduler were lost; now the scheduler is asked first."""
    from batchtui.engine.dask_executor import _scheduler_answers_within

    with anyio.fail_after(10):
        assert await _scheduler_answers_within(_FakeClient(status, answer), 0.5) is alive
