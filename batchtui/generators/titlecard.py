"""The built-in generator: the item's text on a title card, encoded to a real H.264 MP4.

Pillow draws the card at the platform's resolution; ffmpeg (from imageio-ffmpeg, or
`BATCHTUI_FFMPEG`) turns it into a video of the locked duration and frame rate with a short
fade-in, reporting progress as it encodes.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..core.models import BatchConfig
from .base import Context, Generator, Job
from .command import executable_problem
from .media import ffmpeg_exe

if TYPE_CHECKING:  # Pillow is imported when a card is drawn, not by every command
    from PIL import ImageDraw, ImageFont

VIDEO_CONTAINERS = ("mp4", "mov", "mkv", "m4v")
CARD_TEXT_LIMIT = 280
_FONT_CANDIDATES = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf")


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    for name in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)  # Pillow's bundled font: works on any machine


def _printable(text: str) -> str:
    # Control characters would draw as boxes; newlines are kept as paragraph breaks.
    return "".join(ch if ch == "\n" or ch.isprintable() else " " for ch in text)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, max_width: int) -> list[str]:
    """Greedy word wrap by rendered width; words wider than a line are split."""
    lines: list[str] = []

    def fits(candidate: str) -> bool:
        return draw.textlength(candidate, font=font) <= max_width

    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if fits(candidate):
                line = candidate
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and not fits(word):
                low, high = 1, len(word) - 1  # longest prefix that fits: binary search
                while low < high:
                    middle = (low + high + 1) // 2
                    if fits(word[:middle]):
                        low = middle
                    else:
                        high = middle - 1
                lines.append(word[:low])
                word = word[low:]
            line = word
        lines.append(line)
    return lines


def render_card(job: Job, path: Path) -> None:
    """Draw the card for `job` as a PNG at the batch's resolution."""
    from PIL import Image, ImageDraw

    config = job.config
    width, height = config.width, config.height
    image = Image.new("RGB", (width, height), config.background)
    draw = ImageDraw.Draw(image)
    margin = width // 12
    text = _printable(job.content).strip() or " "
    if len(text) > CARD_TEXT_LIMIT:  # a card shows a headline, not an essay
        text = text[: CARD_TEXT_LIMIT - 1].rstrip() + "…"
    size = max(width, height) // 16
    lines: list[str] = []
    line_height = size
    while size > 14:
        font = _font(size)
        lines = _wrap(draw, text, font, width - 2 * margin)
        line_height = int(size * 1.25)
        if len(lines) * line_height <= height * 0.6:
            break
        size = int(size * 0.9)
    font = _font(size)
    max_lines = max(1, int(height * 0.7) // line_height)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][:-1] + "…"]
    top = (height - len(lines) * line_height) // 2
    for number, line in enumerate(lines):
        draw.text(
            (width // 2, top + number * line_height + line_height // 2),
            line,
            fill=config.text_color,
            font=font,
            anchor="mm",
        )
    small = _font(max(16, size // 2))
    header = _printable(job.batch_name).strip()[:60]
    draw.text((width // 2, margin), header, fill=config.text_color, font=small, anchor="mt")
    draw.text(
        (width // 2, height - margin),
        f"{job.index} / {job.total}",
        fill=config.text_color,
        font=small,
        anchor="mb",
    )
    image.save(path, "PNG")


def encode_argv(card: Path, output: Path, config: BatchConfig) -> list[str]:
    """The ffmpeg command that turns a still card into the locked-length video."""
    fade = min(0.5, config.duration / 4)
    return [
        ffmpeg_exe(),
        "-y",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-loop",
        "1",
        "-framerate",
        str(config.fps),
        "-i",
        str(card),
        "-t",
        f"{config.duration:g}",
        "-vf",
        f"fade=t=in:st=0:d={fade:g},format=yuv420p",
        "-r",
        str(config.fps),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "stillimage",
        "-movflags",
        "+faststart",
        "-progress",
        "pipe:1",
        "-nostats",
        str(output),
    ]


class TitlecardGenerator(Generator):
    """Text on a card, as an MP4 at the platform's resolution (works with no setup)."""

    name = "titlecard"
    description = "the item's text on a title card, as an H.264 MP4 (built in)"

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
        card = job.make_scratch() / "card.png"
        await anyio.to_thread.run_sync(render_card, job, card)
        ctx.progress(0.05)
        total_us = job.config.duration * 1_000_000

        def on_line(stream: str, line: str) -> None:
            if stream == "stdout" and line.startswith("out_time_us="):
                value = line.partition("=")[2]
                if value.isdigit():
                    ctx.progress(0.05 + 0.95 * min(1.0, int(value) / total_us))

        await ctx.run(encode_argv(card, job.output, job.config), on_line=on_line, log_stdout=False)
        ctx.progress(1.0)
