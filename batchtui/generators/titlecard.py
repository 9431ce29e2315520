"""The built-in generator: the item's text on a designed title card, as a real H.264 MP4.

Pillow draws the card (the `card` package: the batch's style, the platform's safe area, one
header and counter size for the whole series) at the platform's resolution, with fonts the
generator finds once and keeps for the run; ffmpeg (from imageio-ffmpeg, or
`BATCHTUI_FFMPEG`) turns it into a video of the locked duration and frame rate, the headline
rising into place over a still background, with a silent AAC track, and reports progress as
it encodes. The finished card is kept beside the video as its poster.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..core.models import BatchConfig
from .base import POSTER, Context, Generator, Job
from .command import executable_problem
from .media import ffmpeg_exe

if TYPE_CHECKING:  # Pillow is imported when a card is drawn, not by every command
    from .card import CardSpec, Fonts

VIDEO_CONTAINERS = ("mp4", "mov", "mkv", "m4v")


REVEAL_SECONDS = 0.6
"""The headline fades in and rises into place over this long, then holds (a still tail
encodes almost for free)."""
RISE = 0.015
"""How far below its place the headline starts, as a fraction of the frame height."""
AUDIO_RATE = 48_000


def card_spec(job: Job) -> CardSpec:
    """What the card of `job` shows, in the batch's style, inside its platform's safe area."""
    from ..core.platforms import PLATFORMS
    from ..core.styles import DEFAULT_STYLE, STYLES
    from .card import CardSpec

    config = job.config
    return CardSpec(
        content=job.content,
        batch_name=job.batch_name,
        index=job.index,
        total=job.total,
        width=config.width,
        height=config.height,
        style=STYLES[config.style or DEFAULT_STYLE],
        safe=PLATFORMS[config.platform].safe_area,
        background=config.background,
        text_color=config.text_color,
        subtitle=_subtitle(job),
    )


SUBTITLE_VAR = "subtitle"
"""The item variable (or the config's default of it) the card draws under the headline."""


def _subtitle(job: Job) -> str | None:
    from ..core.item_vars import as_text

    value = job.vars.get(SUBTITLE_VAR, (job.config.var_defaults or {}).get(SUBTITLE_VAR))
    return as_text(value) if value is not None else None


@dataclass(frozen=True)
class CardFiles:
    """The drawn card as files: the still background, the headline layer, the poster."""

    background: Path
    headline: Path
    poster: Path


def render_card(job: Job, folder: Path, poster: Path, fonts: Fonts | None = None) -> CardFiles:
    """Draw the card of `job` with `fonts` (None: this machine's, found anew): its layers into
    `folder` (for the encoder), and its poster (the finished card, the video's thumbnail) at
    `poster`."""
    from .card import draw_card

    card = draw_card(card_spec(job), fonts)
    files = CardFiles(folder / "background.png", folder / "headline.png", poster)
    # Fast PNG compression for the encoder's inputs (read once); the poster is kept.
    card.background.save(files.background, "PNG", compress_level=1)
    card.headline.save(files.headline, "PNG", compress_level=1)
    card.poster().save(files.poster, "PNG", optimize=False)
    return files


def encode_argv(card: CardFiles, output: Path, config: BatchConfig) -> list[str]:
    """The ffmpeg command that makes the video: the background still, the headline fading in
    and rising into place, and a silent AAC track (upload paths expect one)."""
    duration = f"{config.duration:g}"
    reveal = min(REVEAL_SECONDS, config.duration / 3)
    rise = f"{RISE:g}*H*pow(max(0\\,1-t/{reveal:g})\\,2)"  # ease-out: quick, then settles
    graph = (
        f"[1:v]format=rgba,fade=t=in:st=0:d={reveal:g}:alpha=1[headline];"
        f"[0:v][headline]overlay=x=0:y='{rise}':eval=frame:format=auto,format=yuv420p[video]"
    )
    return [
        ffmpeg_exe(),
        "-y",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-loop", "1", "-framerate", str(config.fps), "-t", duration, "-i", str(card.background),
        "-loop", "1", "-framerate", str(config.fps), "-t", duration, "-i", str(card.headline),
        "-f", "lavfi", "-t", duration,
        "-i", f"anullsrc=channel_layout=stereo:sample_rate={AUDIO_RATE}",
        "-filter_complex", graph,
        "-map", "[video]", "-map", "2:a",
        "-r", str(config.fps),
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage",
        "-c:a", "aac", "-b:a", "64k",
        "-t", duration,
        "-movflags", "+faststart",
        "-progress", "pipe:1",
        "-nostats",
        str(output),
    ]  # fmt: skip


class TitlecardGenerator(Generator):
    """Text on a card, as an MP4 at the platform's resolution (works with no setup)."""

    name = "titlecard"
    description = "the item's text on a title card, as an H.264 MP4 (built in)"

    def __init__(self, fonts: Fonts | None = None) -> None:
        """`fonts`: the fonts every card draws with (None: this machine's, found for the
        first card and kept for the others)."""
        self._fonts = fonts
        self._fonts_lock = threading.Lock()  # cards are drawn in worker threads

    def _card_fonts(self) -> Fonts:
        # This machine's fonts, found once per generator (once per run): each font file is
        # then loaded and probed once for all the run's cards, not once per card.
        with self._fonts_lock:
            if self._fonts is None:
                from .card import Fonts

                self._fonts = Fonts.installed()
            return self._fonts

    def _draw(self, job: Job, folder: Path) -> CardFiles:
        # Run in a worker thread: drawing takes milliseconds of CPU.
        return render_card(job, folder, job.poster, self._card_fonts())

    def check(self, config: BatchConfig) -> list[str]:
        if config.output_ext not in VIDEO_CONTAINERS:
            return [
                f"titlecard writes video: output extension must be one of "
                f"{', '.join(VIDEO_CONTAINERS)}, not '{config.output_ext}'"
            ]
        try:
            program = ffmpeg_exe()
        except Exception as exc:  # imageio-ffmpeg raises RuntimeError when it finds none
            return [f"ffmpeg not available: {exc}"]
        problem = executable_problem(program, config.workdir)
        if problem:
            source = " (BATCHTUI_FFMPEG)" if os.environ.get("BATCHTUI_FFMPEG") else ""
            return [f"ffmpeg{source}: {problem}"]
        return []

    async def generate(self, job: Job, ctx: Context) -> None:
        from ..core.styles import DEFAULT_STYLE

        config = job.config
        # What the card is, in the item's log (the pane would otherwise say it logged nothing).
        ctx.log(
            f"titlecard: style {config.style or DEFAULT_STYLE}, {config.width}x"
            f"{config.height}, {config.duration:g} s at {config.fps} fps"
        )
        card = await anyio.to_thread.run_sync(self._draw, job, job.make_scratch())
        ctx.log(f"card drawn; encoding (poster: {job.final_output.stem}{POSTER})")
        ctx.progress(0.05)
        total_us = job.config.duration * 1_000_000

        def on_line(stream: str, line: str) -> None:
            if stream == "stdout" and line.startswith("out_time_us="):
                value = line.partition("=")[2]
                if value.isdigit():
                    ctx.progress(0.05 + 0.95 * min(1.0, int(value) / total_us))

        await ctx.run(encode_argv(card, job.output, job.config), on_line=on_line, log_stdout=False)
        ctx.progress(1.0)
