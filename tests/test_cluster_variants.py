"""Keys and variants on a render farm (issue 28): a `dask scheduler` and a `dask worker` started
here; each variant runs as an item of its own on the workers and comes back named by its key
and variant, with its own `{variant}` and `{seed}`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchtui.core.models import BatchConfig
from batchtui.service import BatchService

from .farm import Farm

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    farm = Farm(tmp_path / "farm-logs")
    try:
        farm.start_scheduler()
        farm.add_worker("w1")
        farm.wait_for_workers(1)
        yield farm
    finally:
        farm.stop()


def test_variants_with_keys_run_on_the_farm_and_come_back_named_by_them(
    farm: Farm, service: BatchService
) -> None:
    command = 'sh -c "echo {key} {variant} {seed} > {output}"'
    config = BatchConfig(generator="command", command=command, output_ext="txt", variants=2)
    batch = service.create("farm variants", config)
    service.add_items(batch.id, ["one", "two"], keys=["intro", "outro"])
    service.lock(batch.id)
    done = subprocess.run(
        [sys.executable, "-m", "batchtui", "start", batch.id, "--cluster", farm.address],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    items = service.get(batch.id).items
    names = [Path(item.output_path or "").name for item in items]
    assert names == ["01-intro.v1.txt", "01-intro.v2.txt", "02-outro.v1.txt", "02-outro.v2.txt"]
    said = [Path(item.output_path or "").read_text().split() for item in items]
    assert [(key, variant) for key, variant, _ in said] == [
        ("intro", "1"), ("intro", "2"), ("outro", "1"), ("outro", "2")
    ]  # fmt: skip
    assert len({seed for _, _, seed in said}) == 4
    manifest = Path(items[0].output_path or "").parent / "manifest.jsonl"
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    recorded = sorted((r["key"], r["variant"]) for r in lines if r["kind"] == "output")
    assert recorded == [("intro", 1), ("intro", 2), ("outro", 1), ("outro", 2)]
