"""A/B: the same 1,000 no-op items dispatched by this checkout and by another one (say, the
commit before a change), in interleaved rounds, through each tree's own command line.

    python bench/ab_dispatch.py OTHER_TREE [items] [rounds] [--profile DIR]
                                                    (default 1000 items, 7 rounds)

OTHER_TREE is a checkout of batchtui (e.g. `git worktree add /tmp/before HEAD~10`). Each round
creates, fills and locks a batch with that tree's CLI, then runs `batchtui start` on it.
Prints, for each tree, the median with its range of the wall time and of the CPU time of the
`start` process itself (user + system, its commands not included: on a loaded machine the
CPU time moves far less than the wall time), and the ratios of the medians. `--profile DIR`
also profiles one more run of each tree (cProfile, CPU time) into DIR (`this.prof`, `other.prof`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from common import ROOT, CpuSample, Spread, child_env, cpu_timed, workspace


def run(tree: Path, items: int, profile: Path | None = None) -> CpuSample:
    """`batchtui start` of `tree` on a fresh `items`-item no-op batch, measured."""
    with workspace(f"ab-{tree.name}") as folder:
        db = str(folder / "db.json")
        env = {"PYTHONPATH": str(tree)}

        def cli(*args: str, stdin: str | None = None) -> str:
            return subprocess.run(
                [sys.executable, "-m", "batchtui", "--db", db, *args],
                input=stdin, capture_output=True, text=True, check=True,
                env=child_env(env), cwd=folder,
            ).stdout  # fmt: skip

        cli(
            "create", "noop", "--generator", "command", "--command", "touch {output}",
            "--ext", "txt", "--validate", "exists", "--concurrency", "3",
            "--max-items", str(items), "--output", str(folder / "out"),
        )  # fmt: skip
        cli("add", "noop", "--file", "-", stdin="".join(f"item {i}\n" for i in range(items)))
        cli("lock", "noop")
        return cpu_timed(["--db", db, "start", "noop"], env=env, cwd=folder, profile=profile)


def main(other: str, items: int = 1000, rounds: int = 7, profiles: Path | None = None) -> None:
    trees = {"this": ROOT, "other": Path(other).resolve()}
    samples: dict[str, list[CpuSample]] = {name: [] for name in trees}
    for round_ in range(rounds + 1):  # round 0 warms both up (byte code, page cache)
        for name, tree in trees.items():
            sample = run(tree, items)
            if round_:
                samples[name].append(sample)
    if profiles is not None:  # apart: a profiled run takes longer
        for name, tree in trees.items():
            run(tree, items, profiles / f"{name}.prof")
    print(f"{items} no-op items, concurrency 3, {rounds} interleaved rounds")
    for measure in ("wall", "cpu"):
        this = Spread(tuple(getattr(s, measure) for s in samples["this"]))
        that = Spread(tuple(getattr(s, measure) for s in samples["other"]))
        ratios = this.ratio_to(that)
        print(f" {measure} time of the start process:")
        print(f"  this  ({ROOT}): {this.text(digits=3)}")
        print(f"  other ({trees['other']}): {that.text(digits=3)}")
        print(
            f"  this/other: {this.median / that.median:.3f}x "
            f"(rounds {ratios.low:.2f}–{ratios.high:.2f}x)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path)
    parser.add_argument("items", type=int, nargs="?", default=1000)
    parser.add_argument("rounds", type=int, nargs="?", default=7)
    parser.add_argument("--profile", type=Path, metavar="DIR")
    args = parser.parse_args()
    if not args.other.is_dir():
        sys.exit("usage: python bench/ab_dispatch.py OTHER_TREE [items] [rounds] [--profile DIR]")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    main(str(args.other), args.items, args.rounds, args.profile)
