"""ffmpeg: where it is, and what a video file really contains (size, duration, codec)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import anyio

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary: `BATCHTUI_FFMPEG`, else the one imageio-ffmpeg ships (or finds)."""
    env = os.environ.get("BATCHTUI_FFMPEG")
    if env:
        return env
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg reports of a video file's first video stream."""

    codec: str
    width: int
    height: int
    duration: float


class ProbeError(Exception):
    """The file is not a readable video."""


def parse_probe(text: str) -> VideoInfo:
    """Read codec, size and duration from `ffmpeg -i` output."""
    video = _VIDEO.search(text)
    duration = _DURATION.search(text)
    if video is None:
        raise ProbeError("no video stream found")
    if duration is None:
        raise ProbeError("no duration found (truncated or not a video file)")
    hours, minutes, seconds = duration.groups()
    return VideoInfo(
        codec=video.group(1),
        width=int(video.group(2)),
        height=int(video.group(3)),
        duration=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
    )


async def probe_video(path: Path) -> VideoInfo:
    """Ask ffmpeg what `path` holds; ProbeError if it is not a readable video."""
    result = await anyio.run_process(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        check=False,
        stdin=subprocess.DEVNULL,
    )
    text = result.stderr.decode("utf-8", "replace")
    if "Invalid data found" in text or "moov atom not found" in text:
        raise ProbeError("not a readable video (invalid or truncated data)")
    return parse_probe(text)
