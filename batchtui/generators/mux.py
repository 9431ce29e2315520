"""`mux`: a video and its voice made one MP4, the voice loudness-normalised (EBU R128, as the
platforms measure: −14 LUFS unless the item's `loudness` variable says otherwise).

Speech is peaky (a synthetic voice more so): a plain gain to −14 LUFS would clip, and
ffmpeg's `loudnorm` then settles 2-6 LU short on a clip of a few seconds. So the voice gets
a gain and a true-peak limiter (−1.5 dBTP), and its integrated loudness is measured after
them (ffmpeg's `loudnorm` analysis, a fraction of a second on a short voice) and the gain
corrected until it is within a quarter LU of the target: then the video stream is copied (no
second encode) and the voice, padded with silence to the video's end, is encoded with that
gain and limiter."""

from __future__ import annotations

import json

from ..core.models import BatchConfig
from .base import Context, Generator, GeneratorError, Job
from .inputs import AUDIO_TYPES, VIDEO_TYPES, need_input, var_number
from .media import ffmpeg_exe
from .titlecard import VIDEO_CONTAINERS

LOUDNESS_VAR = "loudness"
DEFAULT_LOUDNESS = -14.0
"""LUFS: what YouTube, TikTok and Instagram normalise to."""
TRUE_PEAK = -1.5


LIMIT = 10 ** (TRUE_PEAK / 20)
"""The limiter's ceiling as a linear amplitude (−1.5 dBFS)."""
TOLERANCE = 0.25
"""LU: close enough to the target to stop correcting the gain."""
MAX_TRIES = 5
MAX_GAIN = 40.0


def voice_filter(gain: float) -> str:
    """The voice's gain (dB) and its peak limiter."""
    return f"volume={gain:.2f}dB,alimiter=limit={LIMIT:.4f}:level=false:attack=2:release=40"


def _measure_argv(audio: str, chain: str) -> list[str]:
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", audio,
        "-af", f"{chain}loudnorm=print_format=json", "-f", "null", "-",
    ]  # fmt: skip


def _loudness(lines: list[str]) -> float:
    """The integrated loudness a measuring pass printed (JSON at the end of its output)."""
    text = "\n".join(lines)
    start, end = text.rfind("{"), text.rfind("}")
    try:
        figures = json.loads(text[start : end + 1]) if 0 <= start < end else None
        value = float(figures["input_i"]) if isinstance(figures, dict) else None
    except (ValueError, KeyError, TypeError):
        value = None
    if value is None:
        raise GeneratorError("could not measure the voice's loudness (no figures from ffmpeg)")
    if value == float("-inf") or value < -70:
        raise GeneratorError("the voice is silent: there is no loudness to normalise")
    return value


def mux_argv(video: str, audio: str, output: str, gain: float) -> list[str]:
    """The video copied, the voice with `gain` and the limiter, padded to the video's end."""
    return [
        ffmpeg_exe(), "-y", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", video, "-i", audio,
        "-map", "0:v:0", "-map", "1:a:0",
        "-c:v", "copy",
        "-af", f"{voice_filter(gain)},aresample=48000,apad",
        "-c:a", "aac", "-b:a", "160k",
        "-shortest", "-movflags", "+faststart",
        output,
    ]  # fmt: skip


class MuxGenerator(Generator):
    """A video (the previous stage's) and a voice (an earlier stage's) as one MP4, the voice
    loudness-normalised."""

    name = "mux"
    version = "2"  # a limiter and a measured gain instead of loudnorm alone
    description = "an earlier stage's video and voice as one MP4, loudness-normalised ({loudness})"

    def check(self, config: BatchConfig) -> list[str]:
        if config.output_ext not in VIDEO_CONTAINERS:
            return [
                f"mux writes video: its output type must be one of {', '.join(VIDEO_CONTAINERS)}"
                f", not '{config.output_ext}'"
            ]
        return []

    async def generate(self, job: Job, ctx: Context) -> None:
        video = need_input(job, VIDEO_TYPES, "a video")
        audio = need_input(job, AUDIO_TYPES, "a voice")
        target = var_number(job, LOUDNESS_VAR, DEFAULT_LOUDNESS, -70.0, -5.0)

        async def measure(chain: str) -> float:
            printed: list[str] = []
            await ctx.run(
                _measure_argv(str(audio), chain),
                on_line=lambda _stream, line: printed.append(line),
                log_stdout=False,
            )
            return _loudness(printed)

        measured = await measure("")
        gain = min(MAX_GAIN, target - measured)
        reached = measured
        for _ in range(MAX_TRIES):
            reached = await measure(voice_filter(gain) + ",")
            if abs(target - reached) <= TOLERANCE:
                break
            gain = min(MAX_GAIN, gain + (target - reached))
        ctx.log(
            f"mux: the voice measured {measured:.1f} LUFS; {gain:+.1f} dB and a limiter make "
            f"it {reached:.1f} LUFS (target {target:g})"
        )
        ctx.progress(0.6)
        await ctx.run(mux_argv(str(video), str(audio), str(job.output), gain))
        ctx.progress(1.0)
