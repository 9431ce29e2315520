"""Freezing a batch's running items (a pause with --now): SIGSTOP their process groups, and
SIGCONT to let them go on.

Each item's child leads its own process group (it starts in its own session), and every
process an item starts carries the batch's tag in its environment (`liveness`), so the
groups to freeze are found by that tag: every running item of the batch, grandchildren that
moved to a session of their own too. Nothing is released: a frozen item keeps its host slot.
"""

from __future__ import annotations

import contextlib
import os
import signal

from .liveness import tagged_processes


def _signal_batch(batch_id: str, sig: int) -> list[int]:
    """Send `sig` to every process group holding a process of the batch (never our own)."""
    pids = tagged_processes(batch_id)
    mine = os.getpgrp()
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    groups.discard(mine)
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)
    for pid in pids:  # (one whose group is ours, or that left its group meanwhile)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    return pids


def freeze_batch(batch_id: str) -> list[int]:
    """Stop (SIGSTOP) every running process of the batch; returns the pids found."""
    return _signal_batch(batch_id, signal.SIGSTOP)


def thaw_batch(batch_id: str) -> list[int]:
    """Let every stopped process of the batch go on (SIGCONT); returns the pids found."""
    return _signal_batch(batch_id, signal.SIGCONT)
