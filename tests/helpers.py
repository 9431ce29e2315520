"""Small test helpers: waiting on a condition without sleeping for timing, probing videos."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import anyio

from batchtui.generators.media import ffmpeg_exe


async def wait_until(condition: Callable[[], bool], *, limit: float = 10.0) -> None:
    """Yield to the event loop until `condition()` holds; fail the test after `limit` seconds."""
    with anyio.fail_after(limit):
        while not condition():
            await anyio.sleep(0.005)


def pid_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def decode_frames(path: Path) -> int:
    """Decode every frame of a video with ffmpeg; return how many there were."""
    result = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(result.stderr.replace("\r", "\n").splitlines()):
        if line.startswith("frame="):
            return int(line.split("=")[1].split()[0])
    raise AssertionError(f"no frame count in ffmpeg output: {result.stderr[-500:]}")


def force_status(model, status) -> None:
    """Give a batch or item a status without the transition table: only for fabricating a
    stored state a test starts from (production code cannot do this; see test_models)."""
    model.__dict__["status"] = type(model.__dict__["status"])(status)


def batch_file(db_path: Path, batch_id: str) -> Path:
    """Where the database at `db_path` keeps one batch."""
    return db_path.parent / f"{db_path.stem}.batches" / f"{batch_id}.json"


def stored_doc(db_path: Path, batch_id: str) -> dict:
    """A batch's document as its file holds it."""
    data = json.loads(batch_file(db_path, batch_id).read_text(encoding="utf-8"))
    return next(iter(data["batch"].values()))


def edit_stored(db_path: Path, batch_id: str, change: Callable[[dict], None]) -> None:
    """Change a batch's stored document behind batchtui's back (as a stray editor would)."""
    path = batch_file(db_path, batch_id)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(next(iter(data["batch"].values())))
    path.write_text(json.dumps(data), encoding="utf-8")
