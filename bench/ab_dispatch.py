"""A/B: the same 1,000 no-op items dispatched by this checkout and by another one (say, the
commit before a change), in interleaved rounds, through each tree's own command line.

    python bench/ab_dispatch.py OTHER_TREE [items] [rounds]      (default 1000 items, 7 rounds)

OTHER_TREE is a checkout of batchtui (e.g. `git worktree add /tmp/before HEAD~10`). Each round
creates, fills and locks a batch with that tree's CLI, then times `batchtui start` on it.
Prints each tree's median with its range and the ratio of the medians.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, Spread, child_env, workspace


def run(tree: Path, items: int) -> float:
    """Seconds `batchtui start` of `tree` takes on a fresh `items`-item no-op batch."""
    with workspace(f"ab-{tree.name}") as folder:
        db = str(folder / "db.json")
        env = child_env({"PYTHONPATH": str(tree)})

        def cli(*args: str, stdin: str | None = None) -> str:
            return subprocess.run(
                [sys.executable, "-m", "batchtui", "--db", db, *args],
                input=stdin, capture_output=True, text=True, check=True, env=env, cwd=folder,
            ).stdout  # fmt: skip

        cli(
            "create", "noop", "--generator", "command", "--command", "touch {output}",
            "--ext", "txt", "--validate", "exists", "--concurrency", "3",
            "--max-items", str(items), "--output", str(folder / "out"),
        )  # fmt: skip
        cli("add", "noop", "--file", "-", stdin="".join(f"item {i}\n" for i in range(items)))
        cli("lock", "noop")
        start = time.perf_counter()
        cli("start", "noop")
        return time.perf_counter() - start


def main(other: str, items: int = 1000, rounds: int = 7) -> None:
    trees = {"this": ROOT, "other": Path(other).resolve()}
    samples: dict[str, list[float]] = {name: [] for name in trees}
    for round_ in range(rounds + 1):  # round 0 warms both up (byte code, page cache)
        for name, tree in trees.items():
            seconds = run(tree, items)
            if round_:
                samples[name].append(seconds)
    this, that = Spread(tuple(samples["this"])), Spread(tuple(samples["other"]))
    ratios = this.ratio_to(that)
    print(f"{items} no-op items, concurrency 3, {rounds} interleaved rounds")
    print(f"  this  ({ROOT}): {this.text()}")
    print(f"  other ({trees['other']}): {that.text()}")
    print(
        f"  this/other: {this.median / that.median:.3f}x "
        f"(rounds {ratios.low:.2f}–{ratios.high:.2f}x)"
    )


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: python bench/ab_dispatch.py OTHER_TREE [items] [rounds]")
    main(sys.argv[1], *[int(a) for a in sys.argv[2:]])
