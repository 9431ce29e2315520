"""Who is running what: process identity, liveness, and finding an item's leftover processes.

A runner is identified by pid *and* the kernel's start time of that pid, so a recycled pid is
never mistaken for a live runner. Every child an item starts carries `BATCHTUI_ITEM=<item id>`
in its environment (inherited by grandchildren), so after a runner is SIGKILLed its orphaned
children can be found and stopped — only ours, never a stranger's process. Each also carries
`BATCHTUI_BATCH=<batch id>`: recovery stops every process of the batch, whether or not its
item was recorded RUNNING before the runner died.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

ITEM_ENV = "BATCHTUI_ITEM"
BATCH_ENV = "BATCHTUI_BATCH"
SLOT_ENV = "BATCHTUI_SLOT"
"""An item's slot number (0..N-1), as `{slot}` gives it."""
_PROC = Path("/proc")


def process_token(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None where unknown."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    try:
        return int(fields[19])  # field 22 overall: starttime
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def same_process_alive(pid: int, token: int | None) -> bool:
    """Whether the very process recorded as (pid, token) still runs (not a recycled pid)."""
    if not pid_alive(pid):
        return False
    if token is None:
        return True
    current = process_token(pid)
    return current is None or current == token


def tagged_processes(batch_id: str) -> list[int]:
    """Pids of live processes started for any item of this batch (found by the batch tag in
    their environment: recorded RUNNING or not, and whichever session they moved to)."""
    wanted = f"{BATCH_ENV}={batch_id}".encode()
    if not _PROC.is_dir():
        return []
    found = []
    me = os.getpid()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_batch_processes(batch_id: str) -> list[int]:
    """SIGKILL every leftover process of this batch's items; returns the pids signalled."""
    pids = tagged_processes(batch_id)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return pids
