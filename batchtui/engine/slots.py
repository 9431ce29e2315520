"""A host-wide limit on items running at once, across every batch and runner process.

N slots are N lock files; holding a slot is holding an exclusive `flock` on one of them. The
kernel drops a lock when the descriptor closes, so a runner that dies (SIGKILL, OOM, reboot)
frees its slots with it: there is no counter to repair. Descriptors are close-on-exec, so a
child (or a grandchild that left its group) never keeps a slot its item gave back.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio

from ..core.errors import ValidationError

POLL_SECONDS = 0.05


class HostSlots:
    """`count` slots in `folder`, shared with every process that uses the same folder."""

    def __init__(self, count: int, folder: Path) -> None:
        self.count = count
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ValidationError(
                f"slot folder {folder} cannot be created: {exc.strerror}"
            ) from None
        self._paths = [os.fspath(folder / f"slot-{n}.lock") for n in range(count)]

    def try_acquire(self) -> int | None:
        """A held slot's descriptor, or None when every slot is taken."""
        # Start at a random slot: processes do not all queue on slot 0's file first.
        first = random.randrange(self.count)
        for n in range(self.count):
            path = self._paths[(first + n) % self.count]
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise
            return fd
        return None

    @contextlib.asynccontextmanager
    async def hold(self, on_wait: Callable[[], None]) -> AsyncIterator[None]:
        """Hold one slot for the block; `on_wait` is called once if none is free at first.

        Waiting polls (a few syscalls every 50 ms): flock has no asynchronous wait, and a
        blocking wait in a thread could not be cancelled.
        """
        fd = self.try_acquire()
        if fd is None:
            on_wait()
            while fd is None:
                await anyio.sleep(POLL_SECONDS)
                fd = self.try_acquire()
        try:
            yield
        finally:
            os.close(fd)  # releases the lock
