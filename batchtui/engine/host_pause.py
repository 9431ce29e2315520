"""The host-wide pause (`batchtui pause --all`): a small file, `paused`, in the slot folder
(`slots_dir`, shared by every runner on the host), holding the mode ("drain" or "now").

Every runner, now and later, reads it at each flush and obeys it like its batch's own pause;
`resume --all` removes it. A file, not a process: it outlives whoever wrote it, and a runner
started after it (or after a reboot) is held too.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ..core.pausing import PauseMode, mode_of

FILE_NAME = "paused"


def host_pause_path(slots_dir: Path) -> Path:
    """Where the host's pause flag lives."""
    return Path(slots_dir) / FILE_NAME


def read_host_pause(slots_dir: Path) -> PauseMode | None:
    """The host's pause mode, or None when the host is not paused."""
    try:
        text = host_pause_path(slots_dir).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return mode_of(text.strip())


def host_pause_stamp(slots_dir: Path) -> tuple[int, int] | None:
    """A cheap fingerprint of the flag (for noticing a change without reading it)."""
    try:
        stat = os.stat(host_pause_path(slots_dir))
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_ino


def write_host_pause(slots_dir: Path, mode: PauseMode | None) -> None:
    """Pause the host in `mode`, or resume it (None). Written whole (a temp file renamed), so
    a runner never reads half of it; readable by every user sharing the slot folder."""
    path = host_pause_path(slots_dir)
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    temp.write_text(mode + "\n", encoding="utf-8")
    os.chmod(temp, 0o644)
    os.replace(temp, path)
