"""Dispatch overhead and growth: N no-op items through batchtui vs xargs -P3 and parallel -j3.

    python bench/dispatch.py [N ...]        (default: 1000 10000)

Every tool runs `touch <file>` once per item with 3 at a time; batchtui runs the command
generator headless (`batchtui start`, no terminal) with `--validate exists`. The tools take
turns in each round (9 rounds at N ≤ 1,000, 3 above); prints the median wall time of each with
its range, ratios of the medians with the range of the round-by-round ratios, and the per-item
overhead over xargs (to see whether anything grows faster than N); and the CPU time of the
batchtui process itself (its commands not included), which a busy machine moves far less than
the wall time.
"""

from __future__ import annotations

import sys

from common import ROOT, CpuSample, Spread, cpu_timed, have, timed, workspace  # noqa: F401

from batchtui.service import BatchService
from batchtui.store import Repository

CONCURRENCY = 3


def batchtui_run(n: int) -> CpuSample:
    with workspace("dispatch") as folder:
        db = folder / "db.json"
        service = BatchService(Repository(db))
        batch = service.create(
            "noop",
            generator="command",
            command="touch {output}",
            output_ext="txt",
            validate_output="exists",
            concurrency=CONCURRENCY,
            max_items=n,
            output_dir=str(folder / "out"),
        )
        service.add_items(batch.id, [f"item {i}" for i in range(n)])
        service.lock(batch.id)
        return cpu_timed(["--db", str(db), "start", batch.id])


def peer_run(n: int, tool: str) -> float:
    with workspace(tool) as folder:
        files = "\n".join(str(folder / f"{i:05d}.txt") for i in range(n)) + "\n"
        if tool == "xargs":
            argv = ["xargs", f"-P{CONCURRENCY}", "-n1", "touch"]
        else:
            argv = ["parallel", f"-j{CONCURRENCY}", "touch"]
        return timed(argv, stdin=files)


def main(sizes: list[int]) -> list[dict]:
    batchtui_run(20)  # warm up: byte code compiled, page cache filled, for every tool alike
    rows = []
    for n in sizes:
        runs = 9 if n <= 1000 else 3
        times: dict[str, list[float]] = {"xargs": [], "parallel": [], "batchtui": []}
        cpu: list[float] = []
        for _ in range(runs):  # interleaved, so a slow spell of the machine hits every tool
            times["xargs"].append(peer_run(n, "xargs"))
            if have("parallel"):
                times["parallel"].append(peer_run(n, "parallel"))
            sample = batchtui_run(n)
            times["batchtui"].append(sample.wall)
            cpu.append(sample.cpu)
        spreads = {tool: Spread(tuple(t)) if t else None for tool, t in times.items()}
        ours, xargs, par = spreads["batchtui"], spreads["xargs"], spreads["parallel"]
        assert ours is not None and xargs is not None
        row: dict = {"n": n, "spreads": spreads}
        row.update({tool: s.median if s else None for tool, s in spreads.items()})
        # Ratios of the medians; the spread is that of the round-by-round ratios.
        row["vs_xargs"] = ours.median / xargs.median
        row["vs_xargs_spread"] = ours.ratio_to(xargs)
        row["vs_parallel"] = ours.median / par.median if par else None
        row["vs_parallel_spread"] = ours.ratio_to(par) if par else None
        row["overhead_ms"] = (ours.median - xargs.median) / n * 1000
        row["cpu"] = Spread(tuple(cpu))
        rows.append(row)
        parallel = par.text() if par else "n/a (apt-get install parallel)"
        vs_parallel = "n/a"
        if par:
            spread = row["vs_parallel_spread"]
            vs_parallel = f"{row['vs_parallel']:.2f}x (rounds {spread.low:.2f}–{spread.high:.2f}x)"
        print(
            f"N={n:>6}: batchtui {ours.text()} · xargs -P3 {xargs.text()} · parallel -j3 "
            f"{parallel} · vs xargs {row['vs_xargs']:.2f}x (rounds "
            f"{row['vs_xargs_spread'].low:.2f}–{row['vs_xargs_spread'].high:.2f}x) · vs parallel "
            f"{vs_parallel} · overhead {row['overhead_ms']:.2f} ms/item · batchtui's own CPU "
            f"{row['cpu'].text(digits=3)}",
            flush=True,
        )
    if len(rows) >= 2:
        growth = rows[-1]["overhead_ms"] / rows[0]["overhead_ms"]
        print(
            f"growth: per-item overhead at N={rows[-1]['n']} is {growth:.2f}x "
            f"that at N={rows[0]['n']}"
        )
    return rows


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
