"""Does history cost anything? The same operations on an empty database and on one with a
long history (default 5,000 ended batches of 10 items, built by bench/history.py), measured
side by side in interleaved rounds.

    python bench/history_targets.py [--db HISTORY_DB] [--batches 5000]

Without --db the history is built first (a few minutes), in a temporary folder. Prints, each
as a ratio of medians with the range of round-by-round ratios:
- `start` of a 10-item no-op batch, history vs empty (target ≤ 1.2x);
- a 1,000-item no-op run, history vs empty (target ≤ 1.2x);
- `list` (the newest 30), history vs empty (target ≤ 1.2x);
- `progress ID --json`, `show ID`, `list` at that history, and `--help`, vs `python3 -c pass`
  (target ≤ 10x);
- the TUI's first frame with that history vs a minimal Textual app (≤ 1.5x), and its peak
  memory (< 100 MiB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import history
import tui_start
from common import Spread, child_env, workspace


def cli(db: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        input=stdin, capture_output=True, text=True, check=True, env=child_env(),
    ).stdout  # fmt: skip


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=child_env())
    return time.perf_counter() - start


def noop_batch(db: Path, items: int, out: Path) -> str:
    """A locked batch of `items` no-op items in `db`; its id."""
    made = json.loads(
        cli(
            db,
            "create",
            "noop",
            "--generator",
            "command",
            "--command",
            "touch {output}",
            "--ext",
            "txt",
            "--validate",
            "exists",
            "--max-items",
            str(max(10, items)),
            "--output",
            str(out),
            "--json",
        )
    )
    cli(db, "add", made["id"], "--file", "-", stdin="".join(f"item {i}\n" for i in range(items)))
    cli(db, "lock", made["id"])
    return made["id"]


def start_ratio(history_db: Path, items: int, rounds: int) -> tuple[Spread, Spread, Spread]:
    """`start` of an `items`-item batch: (history times, empty times, ratios)."""
    with_history: list[float] = []
    empty: list[float] = []
    for round_ in range(rounds + 1):  # round 0 warms up
        with workspace("history-start") as folder:
            fresh_db = folder / "empty" / "db.json"
            for db, times in ((history_db, with_history), (fresh_db, empty)):
                batch_id = noop_batch(db, items, folder / "out")
                seconds = timed(
                    [sys.executable, "-m", "batchtui", "--db", str(db), "start", batch_id]
                )
                if round_:
                    times.append(seconds)
    ours, base = Spread(tuple(with_history)), Spread(tuple(empty))
    return ours, base, ours.ratio_to(base)


def list_ratio(history_db: Path, rounds: int) -> tuple[Spread, Spread, Spread]:
    """`list` (the newest 30) with the history vs on an empty database, in interleaved
    rounds: (history times, empty times, round-by-round ratios)."""
    with workspace("history-list") as folder:
        empty_db = folder / "empty" / "db.json"
        empty_db.parent.mkdir(parents=True)
        with_history: list[float] = []
        empty: list[float] = []
        for round_ in range(rounds + 1):  # round 0 warms up
            for db, times in ((history_db, with_history), (empty_db, empty)):
                seconds = timed([sys.executable, "-m", "batchtui", "--db", str(db), "list"])
                if round_:
                    times.append(seconds)
    ours, base = Spread(tuple(with_history)), Spread(tuple(empty))
    return ours, base, ours.ratio_to(base)


def read_ratios(history_db: Path, rounds: int) -> dict[str, tuple[Spread, Spread]]:
    """Each read command's times and its ratios to `python3 -c pass`."""
    listed = json.loads(cli(history_db, "list", "--json", "--limit", "1"))
    batch_id = listed[0]["id"]
    commands = {
        "progress ID --json": ["progress", batch_id, "--json"],
        "show ID": ["show", batch_id],
        "list": ["list"],
        "--help": ["--help"],
    }
    base = [sys.executable, "-c", "pass"]
    times: dict[str, list[float]] = {name: [] for name in ["pass", *commands]}
    for round_ in range(rounds + 1):
        times_now = {"pass": timed(base)}
        for name, args in commands.items():
            times_now[name] = timed(
                [sys.executable, "-m", "batchtui", "--db", str(history_db), *args]
            )
        if round_:
            for name, seconds in times_now.items():
                times[name].append(seconds)
    floor = Spread(tuple(times["pass"]))
    return {
        name: (Spread(tuple(times[name])), Spread(tuple(times[name])).ratio_to(floor))
        for name in commands
    } | {"python3 -c pass": (floor, floor.ratio_to(floor))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="an existing history (default: build one)")
    parser.add_argument("--batches", type=int, default=5000)
    args = parser.parse_args(argv)
    with workspace("history") as folder:
        db = args.db
        if db is None:
            db = folder / "history" / "db.json"
            print(f"building a history of {args.batches} batches …", flush=True)
            history.build(db, args.batches, 10, folder / "history-out")
        count = len(json.loads(cli(db, "list", "--json")))
        result: dict = {"batches": count}
        ours, base, ratio = start_ratio(db, 10, 5)
        result["start10"] = (ours, base, ratio)
        print(
            f"start of a 10-item batch: with {count:,} batches {ours.text()} vs empty "
            f"{base.text()} → {ours.median / base.median:.2f}x (rounds {ratio.low:.2f}–"
            f"{ratio.high:.2f}x)", flush=True,
        )  # fmt: skip
        ours, base, ratio = start_ratio(db, 1000, 3)
        result["run1000"] = (ours, base, ratio)
        print(
            f"1,000-item no-op run: with history {ours.text()} vs empty {base.text()} → "
            f"{ours.median / base.median:.2f}x (rounds {ratio.low:.2f}–{ratio.high:.2f}x)",
            flush=True,
        )
        ours, base, ratio = list_ratio(db, 9)
        result["list"] = (ours, base, ratio)
        print(
            f"list (newest 30): with {count:,} batches {ours.text()} vs empty {base.text()} → "
            f"{ours.median / base.median:.2f}x (rounds {ratio.low:.2f}–{ratio.high:.2f}x)",
            flush=True,
        )
        reads = read_ratios(db, 7)
        result["reads"] = reads
        for name, (spread, ratios) in reads.items():
            print(
                f"{name:<20} {spread.text()} → {ratios.median:.1f}x python3 -c pass "
                f"(rounds {ratios.low:.1f}–{ratios.high:.1f}x)", flush=True,
            )  # fmt: skip
        setups = [tui_start.MINIMAL, tui_start.BATCHTUI.format(db=str(db))]
        (minimal, _), (tui, tui_mib) = tui_start.measure(setups)
        rounds = tui.ratio_to(minimal)
        result["tui"] = (tui, minimal, rounds, tui_mib)
        print(
            f"TUI first frame with {count:,} batches: {tui.text()} vs minimal {minimal.text()}"
            f" → {tui.median / minimal.median:.2f}x (rounds {rounds.low:.2f}–{rounds.high:.2f}x);"
            f" peak memory {tui_mib:.0f} MiB", flush=True,
        )  # fmt: skip
    return result


if __name__ == "__main__":
    main()
