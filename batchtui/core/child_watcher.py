"""How asyncio learns that a child process it started has exited (Python 3.11 on Linux).

asyncio's default child watcher on 3.11 (ThreadedChildWatcher) starts a thread per child to
wait for it, which costs more than a short command itself. Python 3.12 watches every child
with a pidfd on whatever loop is running; `install()` gives 3.11 the same watcher. It is a
process-wide setting (the event loop policy's), so the entry point of a process that starts
asyncio subprocesses installs it (`web`: a TUI per browser tab; a runner); library code never
does. Where pidfds do not
exist (another OS, Linux < 5.3), and on 3.12+, nothing changes.

The watcher attaches to no loop: each child is watched by the loop that started it, so it
serves every `anyio.run` of the process, whatever thread runs it and whenever it is created.
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVarTuple

_Ts = TypeVarTuple("_Ts")

if sys.version_info < (3, 12):

    class PidfdWatcher(asyncio.AbstractChildWatcher):
        """Python 3.12's pidfd child watcher: a pidfd per child, read by the running loop."""

        def add_child_handler(
            self, pid: int, callback: Callable[[int, int, *_Ts], object], *args: *_Ts
        ) -> None:
            loop = asyncio.get_running_loop()
            pidfd = os.pidfd_open(pid)
            loop.add_reader(pidfd, self._exited, loop, pid, pidfd, callback, args)

        @staticmethod
        def _exited(
            loop: asyncio.AbstractEventLoop,
            pid: int,
            pidfd: int,
            callback: Callable[..., Any],
            args: tuple[Any, ...],
        ) -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:  # collected elsewhere: asyncio's own convention
                returncode = 255
            else:
                returncode = os.waitstatus_to_exitcode(status)
            callback(pid, returncode, *args)

        def remove_child_handler(self, pid: int) -> bool:
            return True  # asyncio never calls it (nor does 3.12's watcher do anything)

        def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
            """Nothing to attach: each child is watched by the loop that started it."""

        def is_active(self) -> bool:
            return True

        def close(self) -> None:
            pass

        def __enter__(self) -> PidfdWatcher:
            return self

        def __exit__(self, *exc: object) -> None:
            pass


def _pidfds_work() -> bool:
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # a kernel older than 5.3
        return False
    return True


def install() -> bool:
    """Watch asyncio's children with pidfds from now on (idempotent); whether this process
    does (always on 3.12+, where asyncio does so itself)."""
    if sys.version_info >= (3, 12):
        return True
    if not _pidfds_work():
        return False
    with warnings.catch_warnings():  # the watcher API is deprecated from 3.12, not in 3.11
        warnings.simplefilter("ignore", DeprecationWarning)
        policy = asyncio.get_event_loop_policy()
        if not isinstance(getattr(policy, "_watcher", None), PidfdWatcher):
            policy.set_child_watcher(PidfdWatcher())
    return True


def installed() -> bool:
    """Whether asyncio's children are watched with pidfds in this process."""
    if sys.version_info >= (3, 12):
        return True
    return isinstance(getattr(asyncio.get_event_loop_policy(), "_watcher", None), PidfdWatcher)
