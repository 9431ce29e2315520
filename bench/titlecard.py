"""Real work: the titlecard generator on N items vs the same ffmpeg commands run directly
with the same concurrency (cards drawn beforehand, so only batchtui's own cost differs); and
one 5 s 1080x1920 card's encode now (moving headline, silent audio track) vs the still-image
encode the titlecard did before (kept here, as the reference it is measured against).

    python bench/titlecard.py [items]        (default 10)
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import Spread, workspace

from batchtui.core.models import BatchConfig
from batchtui.generators.base import Job
from batchtui.generators.media import ffmpeg_exe
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
            layers = folder / f"card-{i}"
            layers.mkdir()
            card = render_card(job, layers, folder / f"{i}.poster.png")
            commands.append(encode_argv(card, job.output, config))
        start = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(
                pool.map(
                    lambda argv: subprocess.run(argv, check=True, capture_output=True), commands
                )
            )
        return time.perf_counter() - start


def still_argv(card: Path, output: Path, config: BatchConfig) -> list[str]:
    """The titlecard's encode before it moved: one still card, a fade from black, no audio."""
    return [
        ffmpeg_exe(), "-y", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-loop", "1", "-framerate", str(config.fps), "-i", str(card), "-t", f"{config.duration:g}",
        "-vf", "fade=t=in:st=0:d=0.5,format=yuv420p", "-r", str(config.fps),
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage",
        "-movflags", "+faststart", str(output),
    ]  # fmt: skip


def one_encode(rounds: int) -> dict:
    """One 5 s 1080x1920 card: today's encode vs the still-image encode, interleaved."""
    now: list[float] = []
    before: list[float] = []
    with workspace("encode") as folder:
        config = BatchConfig(output_dir=str(folder))
        job = Job(
            batch_id="b", batch_name="Space Facts", item_id="i", index=3, total=10,
            content=TOPICS[0], attempt=1, config=config, output=folder / "now.mp4",
            final_output=folder / "now.mp4", scratch=folder, log_path=folder / "log",
        )  # fmt: skip
        card = render_card(job, folder, folder / "poster.png")
        moving = encode_argv(card, job.output, config)
        still = still_argv(card.poster, folder / "still.mp4", config)
        for _ in range(rounds):
            for argv, times in ((still, before), (moving, now)):
                start = time.perf_counter()
                subprocess.run(argv, check=True, capture_output=True)
                times.append(time.perf_counter() - start)
    ours, theirs, ratio, ratios = compared(now, before)
    print(
        f"one 5 s 1080x1920 card: encode now {ours.text()} vs the still-image encode "
        f"{theirs.text()} → {ratio:.2f}x (rounds {ratios.low:.2f}–{ratios.high:.2f}x)"
    )
    return {"encode_s": ours.median, "still_s": theirs.median, "ratio": ratio}


def compared(mine: list[float], peer: list[float]) -> tuple[Spread, Spread, float, Spread]:
    """Both spreads, the ratio of their medians and the round-by-round ratios."""
    ours, theirs = Spread(tuple(mine)), Spread(tuple(peer))
    return ours, theirs, ours.median / theirs.median, ours.ratio_to(theirs)


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
    encode = one_encode(max(5, rounds))
    mine: list[float] = []
    peer: list[float] = []
    for _ in range(rounds):  # interleaved: a slow spell of the machine hits both alike
        peer.append(direct(n))
        mine.append(batchtui(n))
    ours, theirs, ratio, ratios = compared(mine, peer)
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
        "encode": encode,
    }


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
