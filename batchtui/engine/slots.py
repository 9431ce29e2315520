"""A host-wide limit on items running at once, across every batch, runner and user.

N slots are N lock files; holding a slot is holding an exclusive `flock` on one of them. The
kernel drops a lock when the descriptor closes, so a runner that dies (SIGKILL, OOM, reboot)
frees its slots with it: there is no counter to repair. Descriptors are close-on-exec, so a
child (or a grandchild that left its group) never keeps a slot its item gave back.

Several users can share one folder: `flock` takes an exclusive lock on a descriptor opened
read-only, so a lock file is only ever opened for reading, and one this process creates is
made readable by everyone (it holds nothing). Creating the ones missing needs write access to
the folder: a shared folder is made once, writable by every user who shares it (mode 1777, or
a group's 2775). Whether the folder can be used is checked before a run changes anything
(`check`): a start is refused in one line instead of failing its batch.
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
from ..core.settings import load_host_settings

POLL_SECONDS = 0.05
LOCK_FILE_MODE = 0o644
"""A slot's lock file: readable by every user who shares the folder (it is empty)."""
FOLDER_MODE = 0o755
"""A slot folder batchtui makes: every user can open the lock files in it."""


class HostSlots:
    """`count` slots in `folder`, shared with every process that uses the same folder."""

    def __init__(self, count: int, folder: Path) -> None:
        self.count = count
        self.folder = Path(os.path.abspath(folder))
        self._paths = [os.fspath(self.folder / f"slot-{n}.lock") for n in range(count)]
        self._make_folder()

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        except FileExistsError:
            raise ValidationError(f"slot folder {self.folder} is not a folder") from None
        except OSError as exc:
            raise ValidationError(
                f"slot folder {self.folder} cannot be created: {exc.strerror}"
            ) from None

    def check(self) -> None:
        """Make every slot's lock file that is missing, and open each once; ValidationError
        (one line: which path, why, what to do) if the folder cannot be used."""
        for path in self._paths:
            os.close(self._open(path))

    def _open(self, path: str) -> int:
        """A read-only descriptor of a slot's lock file (made if missing)."""
        try:
            try:
                return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except FileNotFoundError:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, LOCK_FILE_MODE)
                with contextlib.suppress(OSError):  # another user's file, made meanwhile
                    os.fchmod(fd, LOCK_FILE_MODE)  # the umask must not keep others out
                return fd
        except PermissionError:
            if os.path.lexists(path):  # made private by an older batchtui, or by hand
                raise ValidationError(
                    f"slot folder {self.folder} cannot be used: {path} cannot be opened "
                    f"(permission denied); its owner can share it: chmod 644 {path}"
                ) from None
            raise ValidationError(
                f"slot folder {self.folder} cannot be used: {os.path.basename(path)} cannot "
                "be made (permission denied); make the folder writable by every user who "
                "shares it (chmod 1777, or a group's 2775)"
            ) from None
        except OSError as exc:
            raise ValidationError(
                f"slot folder {self.folder} cannot be used: {os.path.basename(path)}: "
                f"{exc.strerror}"
            ) from None

    def try_acquire(self) -> int | None:
        """A held slot's descriptor, or None when every slot is taken."""
        # Start at a random slot: processes do not all queue on slot 0's file first.
        first = random.randrange(self.count)
        for n in range(self.count):
            fd = self._open(self._paths[(first + n) % self.count])
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


def check_host_slots() -> None:
    """Refuse (ValidationError, one line) a run on this host whose slot folder, as the host
    settings say now, cannot be used; nothing to check without a slot limit."""
    host = load_host_settings()
    if host.slots:
        HostSlots(host.slots, host.slots_dir).check()
