"""Shared bits of the benchmarks: temp workspaces, timing child commands, machine facts."""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


_SESSION: Path | None = None


def _session() -> Path:
    """One folder for every workspace of this benchmark run, removed when the run ends.

    Not removed measurement by measurement: on ext4, creating files soon after deleting
    thousands makes the inode allocator skip the recently freed ones (`recently_deleted`),
    which slowed whichever tool ran next by up to 3x and made the ratios depend on order.
    """
    global _SESSION
    if _SESSION is None:
        _SESSION = Path(tempfile.mkdtemp(prefix="batchtui-bench-"))
        atexit.register(shutil.rmtree, _SESSION, ignore_errors=True)
    return _SESSION


@contextmanager
def workspace(prefix: str):
    """A fresh folder for one measurement (kept until the benchmark run ends)."""
    yield Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=_session()))


def child_env(extra: dict | None = None) -> dict[str, str]:
    """The environment for measured commands: as on a user's machine, Python may cache
    byte code (some sandboxes set PYTHONDONTWRITEBYTECODE, which recompiles every start)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def timed(argv: Sequence[str], *, stdin: str | None = None, env: dict | None = None) -> float:
    """Wall seconds of one child command (which must succeed)."""
    start = time.perf_counter()
    subprocess.run(
        argv,
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
        env=child_env(env),
    )
    return time.perf_counter() - start


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


@dataclass(frozen=True)
class Spread:
    """Samples of one measurement over interleaved rounds: their median and their range."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    def ratio_to(self, other: Spread) -> Spread:
        """Round-by-round ratios to `other` (measured in the same rounds)."""
        return Spread(tuple(a / b for a, b in zip(self.samples, other.samples, strict=True)))

    def text(self, unit: str = "s", digits: int = 2) -> str:
        """'1.05s (0.98–1.12s, 5 rounds)'."""
        if len(self.samples) == 1:
            return f"{self.median:.{digits}f}{unit} (1 round)"
        return (
            f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}–{self.high:.{digits}f}{unit}, "
            f"{len(self.samples)} rounds)"
        )


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


# Runs `python -m batchtui ARGS` with the process's own CPU time written to a file as it
# leaves (batchtui leaves by os._exit, which skips atexit): user+system time of every thread of
# the batchtui process itself, without its children (the commands it ran: those go to the
# second number). With BENCH_PROFILE set, the same process is profiled and its stats written
# there (cProfile).
_CPU_PROBE = """
import os, sys, time
where = os.environ["BENCH_CPU_FILE"]
profile = os.environ.get("BENCH_PROFILE")
if profile:
    import cProfile
    profiler = cProfile.Profile(time.process_time)  # CPU time: the machine may be loaded
real_exit = os._exit

def leave(code):
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    times = os.times()
    with open(where, "w") as out:
        out.write(f"{time.process_time()} {times.children_user + times.children_system}")
    real_exit(code)

os._exit = leave
sys.argv[0] = "batchtui"
from batchtui.launch import run
if profile:
    profiler.enable()
run(sys.argv[1:])
"""


@dataclass(frozen=True)
class CpuSample:
    """One measured batchtui command: wall seconds, its own CPU seconds, its children's."""

    wall: float
    cpu: float
    children_cpu: float


def cpu_timed(
    args: Sequence[str], *, env: dict | None = None, cwd: Path | None = None,
    profile: Path | None = None,
) -> CpuSample:  # fmt: skip
    """`python -m batchtui ARGS` (of the tree on PYTHONPATH in `env`), with its CPU time."""
    extra = dict(env or {})
    if profile is not None:
        extra["BENCH_PROFILE"] = str(profile)
    return _probed(_CPU_PROBE, args, extra, cwd)


_EXIT_PROBE = """
import atexit, os, sys, time
def _cpu():
    times = os.times()
    children = times.children_user + times.children_system
    with open(os.environ["BENCH_CPU_FILE"], "w") as out:
        out.write(f"{time.process_time()} {children}")
atexit.register(_cpu)
"""


def python_timed(code: str, args: Sequence[str]) -> CpuSample:
    """`python -c CODE ARGS` (ARGS as sys.argv[1:]), with its own CPU time and its children's."""
    return _probed(_EXIT_PROBE + code, args, {}, None)


def _probed(code: str, args: Sequence[str], env: dict, cwd: Path | None) -> CpuSample:
    """`python -c CODE ARGS`, where CODE writes its CPU time and its children's to the file
    named by BENCH_CPU_FILE: the wall time and both."""
    with tempfile.NamedTemporaryFile(prefix="bench-cpu-", delete=False) as handle:
        where = handle.name
    try:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code, *args],
            check=True, stdout=subprocess.DEVNULL,
            env=child_env({**env, "BENCH_CPU_FILE": where}), cwd=cwd,
        )  # fmt: skip
        wall = time.perf_counter() - start
        cpu, children = (float(x) for x in Path(where).read_text().split())
    finally:
        os.unlink(where)
    return CpuSample(wall, cpu, children)
