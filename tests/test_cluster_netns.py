"""Render boxes on a network of their own: each `dask worker` in its own network namespace
(joined to this host by a veth pair) and its own mount namespace, where the batch's output
folder is an empty tmpfs. Items cross a real network, and their outputs come back to the
coordinator's folder (no shared storage). Needs root (`ip netns`); skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from batchtui.core.models import BatchConfig
from batchtui.core.states import BatchStatus
from batchtui.service import BatchService

from .farm import Farm

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def boxes(tmp_path: Path) -> Iterator[list[tuple[str, str, str]]]:
    """Two network namespaces: (name, address here, address there) for each."""
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("unshare") is None:
        pytest.skip("needs root with `ip` and `unshare` to make network namespaces")
    tag = f"bt{os.getpid() % 10000}"
    made: list[str] = []
    boxes = []
    try:
        for n in (1, 2):
            ns, here, there = f"{tag}n{n}", f"{tag}h{n}", f"{tag}p{n}"
            subnet = f"10.{200 + n}.{os.getpid() % 250}"
            try:
                _ip("netns", "add", ns)
            except subprocess.CalledProcessError as exc:
                pytest.skip(f"cannot make a network namespace here: {exc.stderr!r}")
            made.append(ns)
            _ip("link", "add", here, "type", "veth", "peer", "name", there)
            _ip("link", "set", there, "netns", ns)
            _ip("addr", "add", f"{subnet}.1/24", "dev", here)
            _ip("link", "set", here, "up")
            _ip("netns", "exec", ns, "ip", "addr", "add", f"{subnet}.2/24", "dev", there)
            _ip("netns", "exec", ns, "ip", "link", "set", there, "up")
            _ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
            boxes.append((ns, f"{subnet}.1", f"{subnet}.2"))
        yield boxes
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        for n in (1, 2):  # deleting the namespace deletes its end; this one goes with it
            subprocess.run(["ip", "link", "del", f"{tag}h{n}"], capture_output=True, timeout=10)


def test_items_cross_the_network_and_outputs_come_back(
    boxes: list[tuple[str, str, str]], service: BatchService, out_dir: Path, tmp_path: Path
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    farm = Farm(tmp_path / "farm-logs")
    try:
        farm.start_scheduler(host="0.0.0.0")
        for n, (ns, here, there) in enumerate(boxes, start=1):
            # Its own network, and its own view of the disk: the output folder is empty there.
            hide_outputs = f'mount -t tmpfs none "{out_dir}" && exec "$0" "$@"'
            prefix = ["ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private"]
            farm.add_worker(
                f"box{n}",
                scheduler=f"tcp://{here}:{farm.port}",
                prefix=[*prefix, "sh", "-c", hide_outputs],
                extra=["--host", there],
            )
        farm.wait_for_workers(2)
        config = BatchConfig(duration=1.0, fps=10)
        batch = service.create("over the wire", config, concurrency=4)
        service.add_items(batch.id, ["Why is space dark?", "Black holes", "Dying stars", "Comets"])
        service.lock(batch.id)
        ended = anyio.run(lambda: service.start(batch.id, cluster=farm.address))
    finally:
        logs = {name: farm.log(name) for name in farm.procs}
        farm.stop()
    assert ended.status is BatchStatus.COMPLETE, [i.error for i in ended.items]
    assert {item.worker for item in ended.items} == {"box1", "box2"}
    for item in ended.items:
        output = Path(item.output_path or "")
        assert output.parent.parent == out_dir and output.stat().st_size > 1000
        assert output.read_bytes()[4:8] == b"ftyp"  # an MP4, verified before it SUCCEEDED
        poster = output.with_name(output.stem + ".poster.png")  # came back with it
        assert poster.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = [json.loads(line) for line in (output.parent / "manifest.jsonl").open()]
    assert {r["worker"] for r in manifest if r["kind"] == "output"} == {"box1", "box2"}
    assert all(r["poster"].endswith(".poster.png") for r in manifest if r["kind"] == "output")
    # The workers really were elsewhere on the network: they registered from their own subnet.
    registered = logs["scheduler"]
    for _, _, there in boxes:
        assert f"tcp://{there}:" in registered
