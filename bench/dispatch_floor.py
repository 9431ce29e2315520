"""How close to xargs a Python dispatcher can get here: the floor under `bench/dispatch.py`.

    python bench/dispatch_floor.py [N] [rounds]        (default: 1000 items, 9 rounds)

Runs `touch` once per item, 3 at a time, with four tools taking turns in each round:

- `xargs -P3`;
- **bare loop**: a Python asyncio loop that does only the system calls batchtui's runner does
  for an item (posix_spawn in a new session with stdout and stderr on two pipes, a pidfd for
  the exit, the pipes read to their end, the child reaped, the output renamed from its part
  name, a log file written) and nothing else: no database, no events, no models;
- **bare loop + models**: the same, after importing what the runner must import before its
  first item (pydantic, batchtui's models, the engine);
- **batchtui**: `batchtui start` on a locked batch of the same no-op items.

Prints medians with their ranges and the ratios to xargs (of the medians, with the range of
the round-by-round ratios), and each tool's own CPU time. On a small machine every tool is
CPU-bound (the `touch` children alone keep the cores busy for about xargs' whole time), so
whatever a dispatcher spends, on its start and per item, shows up in its wall time.
"""

from __future__ import annotations

import sys
import textwrap

from common import CpuSample, Spread, python_timed, timed, workspace
from dispatch import CONCURRENCY, batchtui_run

# The bare loop: the runner's per-item system calls, in the runner's order, on asyncio.
BARE_LOOP = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    if sys.argv[3] == "models":
        import batchtui.core.models, batchtui.engine.local, batchtui.engine.scheduler  # noqa
    count, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out + "/logs")
    TOUCH = "/usr/bin/touch"
    ENV = {**os.environ, "BATCHTUI_ITEM": "x"}

    async def one(i, loop):
        part, final = f"{out}/.{i:05d}.part1.txt", f"{out}/{i:05d}.txt"
        log = open(f"{out}/logs/{i:05d}.log", "a")
        log.write(f"=== attempt 1 ===\\n$ touch {part}\\n")
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        pid = os.posix_spawn(
            TOUCH, [TOUCH, part], ENV, setsid=True, setsigdef=(signal.SIGPIPE,),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, w1, 1),
                (os.POSIX_SPAWN_DUP2, w2, 2),
            ],
        )
        os.close(w1)
        os.close(w2)
        done = loop.create_future()
        left = [3]

        def closed(fd):
            loop.remove_reader(fd)
            os.close(fd)
            left[0] -= 1
            if not left[0]:
                done.set_result(None)

        def readable(fd):
            if not os.read(fd, 65536):
                closed(fd)

        pidfd = os.pidfd_open(pid)
        loop.add_reader(r1, readable, r1)
        loop.add_reader(r2, readable, r2)
        loop.add_reader(pidfd, closed, pidfd)
        await done
        os.waitpid(pid, 0)
        os.stat(part)
        os.replace(part, final)
        log.close()

    async def main():
        loop = asyncio.get_running_loop()
        todo = iter(range(count))

        async def slot():
            for i in todo:
                await one(i, loop)

        await asyncio.gather(*(slot() for _ in range(3)))

    asyncio.run(main())
    """
)


def bare_run(n: int, imports: str) -> CpuSample:
    with workspace(f"floor-{imports}") as folder:
        return python_timed(BARE_LOOP, [str(n), str(folder / "out"), imports])


def xargs_run(n: int) -> float:
    with workspace("floor-xargs") as folder:
        files = "\n".join(str(folder / f"{i:05d}.txt") for i in range(n)) + "\n"
        return timed(["xargs", f"-P{CONCURRENCY}", "-n1", "touch"], stdin=files)


def main(n: int, rounds: int) -> None:
    batchtui_run(20)  # warm up: byte code compiled, page cache filled
    bare_run(20, "models")
    walls: dict[str, list[float]] = {"xargs": [], "bare": [], "models": [], "batchtui": []}
    cpus: dict[str, list[float]] = {"bare": [], "models": [], "batchtui": []}
    for _ in range(rounds):  # interleaved: a slow spell of the machine hits every tool
        walls["xargs"].append(xargs_run(n))
        for name, sample in (
            ("bare", bare_run(n, "bare")),
            ("models", bare_run(n, "models")),
            ("batchtui", batchtui_run(n)),
        ):
            walls[name].append(sample.wall)
            cpus[name].append(sample.cpu)
    xargs = Spread(tuple(walls["xargs"]))
    print(f"N={n}, {rounds} interleaved rounds, {CONCURRENCY} at a time")
    print(f"  {'xargs -P3':<20} {xargs.text()}")
    labels = {"bare": "bare loop", "models": "bare loop + models", "batchtui": "batchtui start"}
    for name, label in labels.items():
        wall = Spread(tuple(walls[name]))
        ratio = wall.ratio_to(xargs)
        print(
            f"  {label:<20} {wall.text()} · {wall.median / xargs.median:.2f}x xargs "
            f"(rounds {ratio.low:.2f}–{ratio.high:.2f}x) · own CPU "
            f"{Spread(tuple(cpus[name])).text(digits=3)}"
        )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 1000, args[1] if len(args) > 1 else 9)
