"""Shared bits of the benchmarks: temp workspaces, timing child commands, machine facts."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def workspace(prefix: str):
    """A throw-away folder for one measurement."""
    folder = Path(tempfile.mkdtemp(prefix=f"batchtui-bench-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def timed(argv: Sequence[str], *, stdin: str | None = None, env: dict | None = None) -> float:
    """Wall seconds of one child command (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(
        argv,
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    return time.perf_counter() - start


def best(runs: int, measure) -> float:
    """The fastest of `runs` measurements (the least disturbed by the rest of the machine)."""
    return min(measure() for _ in range(runs))


def peak_child_rss_mib() -> float:
    """Peak resident memory of any child waited for so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def machine() -> str:
    """One line about where the numbers were taken."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores · {cpu} · "
        f"Python {platform.python_version()} · {platform.system()} {platform.release()}"
    )


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
