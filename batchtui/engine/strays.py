"""Processes that left their item's process group: found and stopped when the item ends.

An item's child runs in a session of its own and its whole group is killed when the item
ends, but a grandchild that calls `setsid()` (a daemonising tool, a double fork) leaves that
group, and used to outlive its item: after success, cancel and timeout alike. A runner that is
a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`, as init systems and container inits use)
becomes the parent of every such orphan once the process above it exits, so the strays are
found among the runner's own children (one small read), never by scanning every process of
the machine, and each is recognised by the item tag in its environment. Whether this process is
a subreaper is its entry point's choice (`core/subreaper.py`); without it there is nothing to
sweep.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from ..core import subreaper
from ..core.children import OWN
from .liveness import ITEM_ENV

_PROC = Path("/proc")


def _adopted_candidates() -> list[int]:
    """The children of this process's main thread: where the kernel puts every orphan it
    hands a subreaper (a child belongs to the thread that forked it, and items' children are
    forked by the event loop's; any of ours is skipped by the caller anyway). One read, not
    one per thread: this runs after every item."""
    try:
        fd = os.open(f"/proc/self/task/{os.getpid()}/children", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        text = os.read(fd, 65536)
    except OSError:
        return []
    finally:
        os.close(fd)
    return [int(pid) for pid in text.split()]


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


def stop_strays(item_id: str, *, adopting: bool | None = None) -> tuple[int, bool]:
    """SIGKILL (with its group) every adopted child tagged with `item_id`, and collect every
    adopted child that has ended; (how many were killed, whether there was anything to do:
    call again until there is not, as a stray's own children are adopted when it dies).

    An ended child has no environment left to say whose it was, but it is dead: only
    collecting it remains. A child in our own process group is never collected here (adopted
    orphans never are: items run in sessions of their own), nor one this process started
    (`core.children.OWN`): their starters collect them.

    `adopting`: whether this process is a subreaper (asked of the kernel when not given);
    one that is not adopts nothing, so there is nothing to do.
    """
    if not (subreaper.installed() if adopting is None else adopting):
        return 0, False
    children = [pid for pid in _adopted_candidates() if pid not in OWN]
    if not children:  # the usual case: nothing left behind
        return 0, False
    busy = False
    killed = 0
    own_group = os.getpgrp()
    for pid in children:
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
