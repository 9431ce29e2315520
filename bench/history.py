"""Build a realistic history: N ended batches of M items each, made through batchtui's own
code (service, scheduler, recorder, manifest), as months on a render box would leave them.

    python bench/history.py --db PATH [--batches 5000] [--items 10] [--output DIR]

Each batch is created, filled, locked and run to its end in this process with a tiny
built-in generator (it writes a small file), so every batch has real outputs, logs, timings
and attempts: most end COMPLETE, about one in six PARTIAL (an item failed, a retry fixed
part of it) and one in twenty FAILED. Progress is printed every 500 batches.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import anyio
from common import ROOT  # noqa: F401

from batchtui.core.states import BatchStatus
from batchtui.generators import BUILTIN
from batchtui.generators.base import Context, Generator, GeneratorError, Job
from batchtui.service import BatchService

PLATFORMS = ("youtube_shorts", "tiktok", "instagram_reels", "youtube")
TOPICS = ("Space", "Oceans", "History", "Cooking", "Tech", "Animals", "Cities", "Music")


class HistoryGenerator(Generator):
    """Writes a few bytes; fails items whose content says so (first attempt only for 'FLAKY')."""

    name = "history"
    description = "benchmark history: tiny text outputs"

    def output_ext(self, config) -> str:
        return "txt"

    async def generate(self, job: Job, ctx: Context) -> None:
        ctx.progress(0.5)
        if job.content.startswith("FAIL") or (job.content.startswith("FLAKY") and job.attempt == 1):
            raise GeneratorError(f"render failed: {job.content}")
        job.output.write_text(job.content)


def build(db: Path, batches: int, items: int, output: Path) -> BatchService:
    BUILTIN[HistoryGenerator.name] = HistoryGenerator
    service = BatchService(db, flush_interval=0.05)
    started = time.perf_counter()
    for n in range(batches):
        topic = TOPICS[n % len(TOPICS)]
        batch = service.create(
            f"{topic} facts #{n}",
            generator="history",
            platform=PLATFORMS[n % len(PLATFORMS)],
            max_items=max(10, items),
            output_dir=str(output),
        )
        contents = [f"{topic} fact {i} of batch {n}" for i in range(items)]
        if n % 6 == 1:
            contents[0] = f"FLAKY {contents[0]}"
            contents[-1] = f"FAIL {contents[-1]}"
        if n % 20 == 3:
            contents = [f"FAIL {c}" for c in contents]
        service.add_items(batch.id, contents)
        service.lock(batch.id)
        ended = anyio.run(service.start, batch.id)
        if ended.status is not BatchStatus.COMPLETE and n % 6 == 1:
            anyio.run(service.retry, batch.id)  # the flaky one succeeds: PARTIAL remains
        if (n + 1) % 500 == 0:
            rate = (n + 1) / (time.perf_counter() - started)
            print(f"{n + 1}/{batches} batches ({rate:.0f}/s)", flush=True)
    return service


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, type=Path, help="database to create or extend")
    parser.add_argument("--batches", type=int, default=5000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--output", type=Path, help="outputs (default: beside the database)")
    args = parser.parse_args(argv)
    output = args.output or args.db.parent / "history-out"
    started = time.perf_counter()
    service = build(args.db, args.batches, args.items, output)
    counts: dict[str, int] = {}
    for summary in service.summaries():
        counts[summary.status.value] = counts.get(summary.status.value, 0) + 1
    print(
        f"{args.batches} batches of {args.items} items in {args.db} "
        f"({time.perf_counter() - started:.0f}s): {counts}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
