"""How long `os.posix_spawn` blocks its caller: alone, and while other commands run.

    python bench/spawn_stall.py [spawns] [busy]        (default: 300 spawns, 3 busy loops)

The runner starts each item's command with `os.posix_spawn` (vfork + exec), which holds the
caller (and Python's GIL) until the child has called exec. Measures the median time of one such
call, spawning `touch` one after another, first with nothing else of ours running, then while
`busy` other processes spawn `touch` in a loop (as a run's other items do, 3 at a time). The
difference is the time the new child waits for a CPU before it can exec: on a machine with
fewer cores than runnable processes the caller stalls for it, whatever its own size.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOUCH = shutil.which("touch") or "/usr/bin/touch"


def spawn_times(count: int, target: str) -> list[float]:
    """Seconds each of `count` sequential `touch` spawns held this process."""
    env = dict(os.environ)
    times = []
    for _ in range(count):
        read, write = os.pipe()
        started = time.perf_counter()
        pid = os.posix_spawn(
            TOUCH,
            ["touch", target],
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, write, 1),
                (os.POSIX_SPAWN_DUP2, write, 2),
            ],
            setsid=True,
        )
        times.append(time.perf_counter() - started)
        os.close(write)
        os.close(read)
        os.waitpid(pid, 0)
    return times


def main(count: int, busy: int) -> None:
    with tempfile.TemporaryDirectory(prefix="spawn-stall-") as folder:
        target = os.path.join(folder, "x")
        alone = statistics.median(spawn_times(count, target))
        loop = f"while :; do {TOUCH} {os.path.join(folder, 'y')}; done"
        loops = [subprocess.Popen(["sh", "-c", loop], start_new_session=True) for _ in range(busy)]
        try:
            time.sleep(0.2)
            loaded = statistics.median(spawn_times(count, target))
        finally:
            for proc in loops:  # the shell and the touch it may be running
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    print(
        f"posix_spawn of touch, median of {count} ({os.cpu_count()} cores): alone "
        f"{alone * 1e6:.0f} µs; with {busy} other spawn loops running {loaded * 1e6:.0f} µs"
    )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [300, 3][len(args) :]))
