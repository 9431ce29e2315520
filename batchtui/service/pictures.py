"""The picture of an item, for the eyes: its poster, else a frame of its video (taken once and
kept), else the output itself when it is an image. Blocking: clients call it off their event
loop. The paths come from the item's record, never from a request."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from pathlib import Path

from ..core.models import VIDEO_EXTENSIONS, BatchItem
from ..generators.base import POSTER, sidecar
from ..generators.media import ffmpeg_exe

IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "webp", "gif", "bmp"})
FRAME_AT = 1.0
"""Where a video without a poster is looked at (seconds; its first frame when shorter)."""
FRAME_WIDTH = 360
FRAME_SECONDS = 20.0
THUMBS = Path(".cache") / "thumbs"
"""Frames taken from videos are kept here, inside the batch's output folder."""


THUMB_BOX = (270, 480)
"""The size a contact sheet's thumbnails are kept at (a 9:16 poster's quarter: sharp enough
for a sixel or Kitty tile, a few KB on disk, decoded in a millisecond)."""


def thumbnail_of(item: BatchItem, box: tuple[int, int] = THUMB_BOX) -> Path | None:
    """A small copy of the item's picture (`picture_of`), made once per version of it and
    kept in `.cache/thumbs/` beside the outputs; the picture itself when it is small already
    or the copy cannot be written. Blocking."""
    picture = picture_of(item)
    if picture is None:
        return None
    name = _kept_name(picture, f"{box}", "-small.png")
    if name is None:
        return None
    folder = Path(item.output_path or picture).parent / THUMBS
    small = folder / name
    if small.is_file():
        return small
    from PIL import Image

    try:
        with Image.open(picture) as opened:
            if opened.width <= box[0] and opened.height <= box[1]:
                return picture
            opened.draft("RGB", box)
            copy = opened.convert("RGB")
        copy.thumbnail(box)
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{name}.{os.getpid()}.part.png"
        copy.save(part)
        os.replace(part, small)
    except (OSError, ValueError, SyntaxError):
        return picture
    return small


def may_have_picture(item: BatchItem) -> bool:
    """Whether the item's output is a kind a picture can show (an image, a video), before
    looking at any file."""
    if not item.output_path:
        return False
    ext = Path(item.output_path).suffix.lower().lstrip(".")
    return ext in IMAGE_EXTENSIONS or ext in VIDEO_EXTENSIONS


def picture_of(item: BatchItem) -> Path | None:
    """An image file that shows the item's output, or None (no output yet, or nothing to
    show: a text file, a video ffmpeg cannot read)."""
    if not item.output_path:
        return None
    output = Path(item.output_path)
    poster = sidecar(output, POSTER)
    if poster.is_file():
        return poster
    ext = output.suffix.lower().lstrip(".")
    if ext in IMAGE_EXTENSIONS and output.is_file():
        return output
    if ext in VIDEO_EXTENSIONS and output.is_file():
        return _frame(output)
    return None


def _frame(video: Path) -> Path | None:
    """A frame of `video`, taken once per version of the file (its size and time name it)."""
    name = _kept_name(video, "", ".png")
    if name is None:
        return None
    folder = video.parent / THUMBS
    frame = folder / name
    if frame.is_file():
        return frame
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    part = folder / f".{name}.{os.getpid()}.part.png"
    for at in (FRAME_AT, 0.0):  # a clip shorter than FRAME_AT: its first frame
        argv = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-ss", f"{at:g}", "-i", str(video), "-frames:v", "1",
            "-vf", f"scale={FRAME_WIDTH}:-2", str(part),
        ]  # fmt: skip
        try:
            subprocess.run(argv, capture_output=True, timeout=FRAME_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired):
            break
        if part.is_file() and part.stat().st_size:
            os.replace(part, frame)
            return frame
    with contextlib.suppress(OSError):
        part.unlink()
    return None


def _kept_name(source: Path, extra: str, suffix: str) -> str | None:
    """The name of something made from `source` and kept: its stem and a hash of its name,
    size and time (a new version of the file: a new name), `extra` and `suffix`."""
    try:
        stat = source.stat()
    except OSError:
        return None
    stamp = f"{source.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0{extra}".encode()
    return f"{source.stem}-{hashlib.sha256(stamp).hexdigest()[:12]}{suffix}"
