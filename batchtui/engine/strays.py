"""Processes that left their item's process group: found and stopped when the item ends.

An item's child runs in a session of its own and its whole group is killed when the item
ends, but a grandchild that calls `setsid()` (a daemonising tool, a double fork) leaves that
group, and used to outlive its item: after success, cancel and timeout alike. A runner that is
a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`, as init systems and container inits use)
becomes the parent of every such orphan once the process above it exits, so the strays are
found among the runner's own children (one small read per thread), never by scanning every
process of the machine, and each is recognised by the item tag in its environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

from ..core.children import OWN
from .liveness import ITEM_ENV

PR_SET_CHILD_SUBREAPER = 36
_SELF_TASKS = Path("/proc/self/task")
_PROC = Path("/proc")

_subreaper = False


def become_subreaper() -> bool:
    """Make this process the parent of its descendants' orphans (Linux); whether it is."""
    global _subreaper
    if _subreaper:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _subreaper = False
    return _subreaper


def _children() -> list[int]:
    """This process's children (every thread's: a child belongs to the thread that forked
    it, and an adopted orphan to the main one)."""
    pids: list[int] = []
    try:
        tasks = list(os.scandir(_SELF_TASKS))
    except OSError:
        return pids
    for task in tasks:
        try:
            text = Path(task.path, "children").read_text()
        except OSError:
            continue
        pids.extend(int(pid) for pid in text.split())
    return pids


def _tag(pid: int) -> str | None:
    """The item tag in a process's environment, if it has one."""
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    prefix = f"{ITEM_ENV}=".encode()
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a process; None if it is gone."""
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_strays(item_id: str) -> tuple[int, bool]:
    """SIGKILL (with its group) every adopted child tagged with `item_id`, and collect every
    adopted child that has ended; (how many were killed, whether there was anything to do:
    call again until there is not, as a stray's own children are adopted when it dies).

    An ended child has no environment left to say whose it was, but it is dead: only
    collecting it remains. A child in our own process group is never collected here (adopted
    orphans never are: items run in sessions of their own), nor one this process started
    (`core.children.OWN`): their starters collect them.
    """
    if not _subreaper:
        return 0, False
    busy = False
    killed = 0
    own_group = os.getpgrp()
    for pid in _children():
        if pid in OWN:
            continue
        stat = _stat(pid)
        if stat is None or stat[1] == own_group:
            continue
        if stat[0] in ("Z", "X"):
            _reap(pid)
            busy = True
            continue
        if _tag(pid) != item_id:
            continue
        busy = True
        killed += 1
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
        _reap(pid)
    return killed, busy
