"""ffmpeg: where it is, and what a video file really contains (size, duration, codec)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import anyio

from ..core.children import OWN

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")


def ffmpeg_exe() -> str:
    """The ffmpeg binary: `BATCHTUI_FFMPEG`, else the one imageio-ffmpeg ships (or finds).

    The variable is read at every call: a long-lived process (`serve`, a farm worker) follows
    a change of it, as DESIGN.md asks of every setting."""
    env = os.environ.get("BATCHTUI_FFMPEG")
    if env:
        return env
    return _bundled_ffmpeg()


@functools.cache
def _bundled_ffmpeg() -> str:
    # Only the lookup of the bundled binary is kept: it cannot change while the process runs.
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


PROBE_SECONDS = 60.0
"""How long ffmpeg may take to describe a file (it reads only the header: a hang, not work)."""


async def probe_video(path: Path, *, timeout: float = PROBE_SECONDS) -> VideoInfo:
    """Ask ffmpeg what `path` holds; ProbeError if it is not a readable video, or if ffmpeg
    has not answered within `timeout` seconds (it is killed)."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    process = await anyio.open_process(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    OWN.add(process.pid)  # collected here, never by a runner's sweep for orphans
    chunks: list[bytes] = []
    try:
        with anyio.move_on_after(timeout) as deadline:
            assert process.stderr is not None
            async for chunk in process.stderr:
                chunks.append(chunk)
            await process.wait()
        if deadline.cancelled_caught:
            raise ProbeError(f"ffmpeg did not answer within {timeout:g}s (killed)")
    finally:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.kill()
            await process.aclose()
        OWN.discard(process.pid)
    text = b"".join(chunks).decode("utf-8", "replace")
    if "Invalid data found" in text or "moov atom not found" in text:
        raise ProbeError("not a readable video (invalid or truncated data)")
    return parse_probe(text)


def media_seconds(path: Path, *, timeout: float = PROBE_SECONDS) -> float | None:
    """How long any media file (audio too) lasts, as `ffmpeg -i` says; None when it cannot
    tell. Blocking: for a worker thread."""
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = _DURATION.search(done.stderr.decode("utf-8", "replace"))
    if found is None:
        return None
    hours, minutes, seconds = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
