"""The built-in generator: the item's text on a designed title card, as a real H.264 MP4.

Pillow draws the card (the `card` package: the batch's style, the platform's safe area, one
header and counter size for the whole series) at the platform's resolution, with fonts the
generator finds once and keeps for the run; ffmpeg (from imageio-ffmpeg, or
`BATCHTUI_FFMPEG`) turns it into a video of the locked duration and frame rate, with a silent
AAC track, and reports progress as it encodes. The headline is there from the first frame (a
platform picks a thumbnail from the early frames) and rises into place; then the whole card
drifts slowly for the rest of the clip, so no part of it is a still. The finished card is kept
beside the video as its poster.

As a pipeline stage after a voice (a `speech` stage), the card lasts as long as the voice and
shows captions: the narration's words revealed as they are spoken (`card/captions.py`).
"""

from __future__ import annotations

import dataclasses
import os
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..core.models import BatchConfig
from .base import POSTER, Context, Generator, GeneratorError, Job
from .command import executable_problem
from .media import ffmpeg_exe

if TYPE_CHECKING:  # Pillow is imported when a card is drawn, not by every command
    from PIL import Image

    from .card import CardSpec, Fonts
    from .card.captions import TimedWord

VIDEO_CONTAINERS = ("mp4", "mov", "mkv", "m4v")


REVEAL_SECONDS = 0.6
"""The headline rises into place over this long (it is drawn from the first frame on)."""
RISE = 0.015
"""How far below its place the headline starts, as a fraction of the frame height."""
DRIFT = 0.04
"""How much larger than the frame the card is drawn for its slow drift: the view moves down
over this much of the frame's height in the clip (the card rises gently) — a change every
frame or two, with no step larger than a pixel."""
AUDIO_RATE = 48_000
TAIL_SECONDS = 0.6
"""A narrated card's silence after the voice."""


def card_spec(job: Job, captions: bool = False) -> CardSpec:
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
        captions=captions,
    )


SUBTITLE_VAR = "subtitle"
"""The item variable (or the config's default of it) the card draws under the headline."""


def _subtitle(job: Job) -> str | None:
    from ..core.item_vars import as_text

    value = job.vars.get(SUBTITLE_VAR, (job.config.var_defaults or {}).get(SUBTITLE_VAR))
    return as_text(value) if value is not None else None


@dataclass(frozen=True)
class CardFiles:
    """The drawn card as files: the still background, the headline layer, the poster, and
    a narrated card's captions (an ffconcat list of caption images) and where they go."""

    background: Path
    headline: Path
    poster: Path
    captions: Path | None = None
    caption_y: int = 0


@dataclass(frozen=True)
class Narration:
    """A narrated card's voice: how long it lasts and its words' times."""

    seconds: float
    words: tuple[TimedWord, ...]


def render_card(
    job: Job,
    folder: Path,
    poster: Path,
    fonts: Fonts | None = None,
    narration: Narration | None = None,
) -> CardFiles:
    """Draw the card of `job` with `fonts` (None: this machine's, found anew): its layers into
    `folder` (for the encoder), its poster (the finished card, the video's thumbnail) at
    `poster`, and with a `narration` its captions."""
    from .card import Fonts, draw_card

    fonts = Fonts.installed() if fonts is None else fonts
    spec = card_spec(job, captions=narration is not None)
    card = draw_card(spec, fonts)
    files = CardFiles(folder / "background.png", folder / "headline.png", poster)
    # Fast PNG compression for the encoder's inputs (read once); the poster is kept.
    card.background.save(files.background, "PNG", compress_level=1)
    card.headline.save(files.headline, "PNG", compress_level=1)
    seconds = job.config.duration if narration is None else narration.seconds + TAIL_SECONDS
    drifted(card.poster(), seconds).save(files.poster, "PNG", optimize=False)
    if narration is not None and card.caption_band is not None:
        files = _write_captions(spec, card.caption_band, narration, fonts, folder, files)
    return files


def drifted(frame: Image.Image, seconds: float) -> Image.Image:
    """`frame` as the video shows it once the headline is in place: enlarged for the drift
    and framed where the drift is then (what the encoder's scale and crop do)."""
    from PIL import Image

    width, height = frame.size
    big = frame.resize(
        (_even(width * (1 + DRIFT)), _even(height * (1 + DRIFT))), Image.Resampling.LANCZOS
    )
    at = min(1.0, min(REVEAL_SECONDS, seconds / 3) / seconds) if seconds > 0 else 0.0
    left = (big.width - width) // 2
    top = round((big.height - height) * at)
    return big.crop((left, top, left + width, top + height))


def _write_captions(
    spec: CardSpec,
    band: tuple[int, int],
    narration: Narration,
    fonts: Fonts,
    folder: Path,
    files: CardFiles,
) -> CardFiles:
    from .card.captions import caption_frames
    from .card.colours import colours

    _, text_rgb, _ = colours(spec)
    left, _, right, _ = spec.safe.box(spec.width, spec.height)
    box = (right - left, band[1] - band[0])
    total = narration.seconds + TAIL_SECONDS
    frames = caption_frames(
        narration.words, fonts, spec.style.serif, box, min(spec.width, spec.height), text_rgb,
        total,
    )  # fmt: skip
    lines = ["ffconcat version 1.0"]
    for number, frame in enumerate(frames):
        name = f"caption-{number:04d}.png"
        frame.image.save(folder / name, "PNG", compress_level=1)
        lines += [f"file '{name}'", f"duration {frame.seconds:.4f}"]
    lines.append(f"file 'caption-{len(frames) - 1:04d}.png'")  # (the demuxer wants the last twice)
    listing = folder / "captions.ffconcat"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dataclasses.replace(files, captions=listing, caption_y=band[0])


def encode_argv(
    card: CardFiles, output: Path, config: BatchConfig, duration: float | None = None
) -> list[str]:
    """The ffmpeg command that makes the video: the background still, the headline (there
    from the first frame) rising into place, a narrated card's captions, the whole card
    drifting slowly, and a silent AAC track (upload paths expect one). `duration`: the
    clip's length when it is not the config's (a narrated card's)."""
    seconds = duration if duration is not None else config.duration
    length = f"{seconds:g}"
    reveal = min(REVEAL_SECONDS, seconds / 3)
    rise = f"{RISE:g}*H*pow(max(0\\,1-t/{reveal:g})\\,2)"  # ease-out: quick, then settles
    width, height = config.width, config.height
    big_w = _even(width * (1 + DRIFT))
    big_h = _even(height * (1 + DRIFT))
    drift = (
        f"scale={big_w}:{big_h},"
        f"crop={width}:{height}:x=(iw-ow)/2:y='(ih-oh)*min(1\\,t/{seconds:g})'"
    )
    inputs = [
        "-loop", "1", "-framerate", str(config.fps), "-t", length, "-i", str(card.background),
        "-loop", "1", "-framerate", str(config.fps), "-t", length, "-i", str(card.headline),
        "-f", "lavfi", "-t", length,
        "-i", f"anullsrc=channel_layout=stereo:sample_rate={AUDIO_RATE}",
    ]  # fmt: skip
    graph = (
        "[1:v]format=rgba[headline];"
        f"[0:v][headline]overlay=x=0:y='{rise}':eval=frame:format=auto[card]"
    )
    if card.captions is not None:
        left = (width - _caption_width(card)) // 2
        inputs += ["-f", "concat", "-safe", "0", "-i", str(card.captions)]
        graph += (
            f";[3:v]format=rgba[captions];[card][captions]overlay=x={left}:"
            f"y={card.caption_y}:eof_action=repeat:format=auto[card]"
        )
    graph += f";[card]{drift},format=yuv420p[video]"
    return [
        ffmpeg_exe(),
        "-y",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        *inputs,
        "-filter_complex", graph,
        "-map", "[video]", "-map", "2:a",
        "-r", str(config.fps),
        "-c:v", "libx264", "-preset", "veryfast",
        "-c:a", "aac", "-b:a", "64k",
        "-t", length,
        "-movflags", "+faststart",
        "-progress", "pipe:1",
        "-nostats",
        str(output),
    ]  # fmt: skip


def _even(value: float) -> int:
    return round(value / 2) * 2


def _caption_width(card: CardFiles) -> int:
    assert card.captions is not None
    from PIL import Image

    with Image.open(card.captions.parent / "caption-0000.png") as first:
        return first.width


class TitlecardGenerator(Generator):
    """Text on a card, as an MP4 at the platform's resolution (works with no setup)."""

    name = "titlecard"
    version = "2"  # the headline on frame 0, the whole clip drifting, captions after a voice
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

    def _draw(self, job: Job, folder: Path, narration: Narration | None) -> CardFiles:
        # Run in a worker thread: drawing takes milliseconds of CPU.
        return render_card(job, folder, job.poster, self._card_fonts(), narration)

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
        narration = await anyio.to_thread.run_sync(narration_of_job, job)
        seconds = config.duration
        if narration is not None:
            seconds = min(narration.seconds + TAIL_SECONDS, config.preset.max_duration)
        # What the card is, in the item's log (the pane would otherwise say it logged nothing).
        ctx.log(
            f"titlecard: style {config.style or DEFAULT_STYLE}, {config.width}x"
            f"{config.height}, {seconds:g} s at {config.fps} fps"
            + (f", captions for {len(narration.words)} words" if narration else "")
        )
        card = await anyio.to_thread.run_sync(self._draw, job, job.make_scratch(), narration)
        ctx.log(f"card drawn; encoding (poster: {job.final_output.stem}{POSTER})")
        ctx.progress(0.05)
        total_us = seconds * 1_000_000

        def on_line(stream: str, line: str) -> None:
            if stream == "stdout" and line.startswith("out_time_us="):
                value = line.partition("=")[2]
                if value.isdigit():
                    ctx.progress(0.05 + 0.95 * min(1.0, int(value) / total_us))

        argv = encode_argv(card, job.output, config, seconds if narration else None)
        await ctx.run(argv, on_line=on_line, log_stdout=False)
        ctx.progress(1.0)


def narration_of_job(job: Job) -> Narration | None:
    """A pipeline card's voice (an audio file among its inputs): its length and its words'
    times, from the same voice asked again for the times alone; a voice batchtui did not make
    (another program's) gets the narration's words spread over its length. None: no voice."""
    from .card.captions import TimedWord
    from .inputs import AUDIO_TYPES, find_input
    from .speech import narration_of, voice_of
    from .voice.espeak import VoiceError, speak

    audio = find_input(job, AUDIO_TYPES)
    if audio is None:
        return None
    seconds = audio_seconds(audio)
    text = narration_of(job)
    try:
        voice, wpm = voice_of(job)
        spoken = speak(text, voice, wpm)
        words = [TimedWord(w.text, w.start, w.end, w.spaced) for w in spoken.words]
        said = spoken.seconds
    except (VoiceError, GeneratorError):
        parts = text.split()
        step = seconds / max(1, len(parts))
        words = [TimedWord(w, n * step, (n + 1) * step) for n, w in enumerate(parts)]
        said = seconds
    if said > 0 and abs(said - seconds) > 0.05 * seconds:  # another voice: its own pace
        scale = seconds / said
        words = [TimedWord(w.text, w.start * scale, w.end * scale, w.spaced) for w in words]
    return Narration(seconds, tuple(words))


def audio_seconds(path: Path) -> float:
    """How long an audio file lasts (a WAV read directly, anything else asked of ffmpeg)."""
    if path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as audio:
                return audio.getnframes() / float(audio.getframerate() or 1)
        except (OSError, wave.Error, EOFError):
            pass
    from .media import media_seconds

    seconds = media_seconds(path)
    if seconds is None:
        raise GeneratorError(f"cannot tell how long the voice {path.name} lasts")
    return seconds
