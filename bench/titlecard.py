"""Real work: the titlecard generator on N items vs the same ffmpeg commands run directly
with the same concurrency (cards drawn beforehand, so only batchtui's own cost differs).

    python bench/titlecard.py [items]        (default 10)
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from common import Spread, workspace

from batchtui.core.models import BatchConfig
from batchtui.generators.base import Job
from batchtui.generators.titlecard import encode_argv, render_card
from batchtui.service import BatchService
from batchtui.store import Repository

CONCURRENCY = 3
TOPICS = [f"Space fact number {i}: why is space dark?" for i in range(1, 101)]


def direct(n: int) -> float:
    with workspace("ffmpeg") as folder:
        config = BatchConfig(output_dir=str(folder))
        commands = []
        for i in range(n):
            job = Job(
                batch_id="b", batch_name="Space Facts", item_id=f"i{i}", index=i + 1, total=n,
                content=TOPICS[i], attempt=1, config=config, output=folder / f"{i}.mp4",
                final_output=folder / f"{i}.mp4", scratch=folder, log_path=folder / "log",
            )  # fmt: skip
            card = folder / f"{i}.png"
            render_card(job, card)
            commands.append(encode_argv(card, job.output, config))
        start = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(
                pool.map(
                    lambda argv: subprocess.run(argv, check=True, capture_output=True), commands
                )
            )
        return time.perf_counter() - start


def batchtui(n: int) -> float:
    with workspace("titlecard") as folder:
        service = BatchService(Repository(folder / "db.json"))
        batch = service.create(
            "Space Facts", concurrency=CONCURRENCY, max_items=n, output_dir=str(folder / "out")
        )
        service.add_items(batch.id, TOPICS[:n])
        service.lock(batch.id)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "batchtui", "--db", str(folder / "db.json"), "start", batch.id],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return time.perf_counter() - start


def main(n: int = 10, rounds: int = 3) -> dict:
    mine: list[float] = []
    peer: list[float] = []
    for _ in range(rounds):  # interleaved: a slow spell of the machine hits both alike
        peer.append(direct(n))
        mine.append(batchtui(n))
    ours, theirs = Spread(tuple(mine)), Spread(tuple(peer))
    ratios = ours.ratio_to(theirs)
    ratio = ours.median / theirs.median
    print(
        f"titlecard, {n} items at concurrency {CONCURRENCY}: batchtui {ours.text()} vs the same "
        f"ffmpeg commands directly {theirs.text()} (cards pre-drawn) → {ratio:.2f}x "
        f"(rounds {ratios.low:.2f}–{ratios.high:.2f}x)"
    )
    return {
        "n": n,
        "batchtui_s": ours.median,
        "direct_s": theirs.median,
        "ratio": ratio,
        "ratio_spread": ratios,
    }


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
