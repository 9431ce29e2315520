"""A run's folder on a farm box that does not share the batch's output folder.

Each run that sends attempts to a box gets one folder in the box's temp folder,
`<tmp>/batchtui-run-<run topic>/` (0700, checked to be ours: the temp folder is shared):

```
.lock                   held (shared flock) by every process using the folder
scratch/<item id>/      an item's `{scratch}`, kept across its attempts on this box
a-XXXXXXXX/             one attempt's private folder (its output, while it is pulled back)
```

Who may remove it is the kernel's to say, as for the host's slots: the worker holds a shared
lock on `.lock` from its first attempt of the run until the run's end-of-run call, and each
attempt's keeper holds one while it works. A folder whose lock anyone can take exclusively has
no live user (its worker and keepers are gone: killed, or the run ended without its call), and
is removed by the next sweep: when an attempt starts on the box, when a keeper ends, and at
the end of every run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

RUN_PREFIX = "batchtui-run-"
LOCK_NAME = ".lock"
ATTEMPT_PREFIX = "a-"
SCRATCH_NAME = "scratch"

_held: dict[str, int] = {}
"""This process's shared locks on run folders, by run topic (a worker's, for its run)."""
_guard = threading.Lock()


class FolderError(OSError):
    """A run folder that cannot be used safely (not ours, not a folder)."""


def run_folder(topic: str, tmp: str | None = None) -> Path:
    """Where the run `topic` keeps its files on this box."""
    return Path(tmp or tempfile.gettempdir()) / f"{RUN_PREFIX}{topic}"


def _make_private(folder: Path) -> None:
    """`folder` exists, is a real folder of ours and nobody else's (0700)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise FolderError(errno.EPERM, "not a folder of this user's", str(folder))
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)


def share(folder: Path) -> int:
    """Make `folder` (if needed) and take a shared lock on it; the descriptor that holds it.

    A sweep may remove the folder between our mkdir and our lock: the lock is then on a file
    no longer in the folder, so look again.
    """
    for _ in range(20):
        _make_private(folder)
        lock = folder / LOCK_NAME
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            if os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False)):
                return fd
        except OSError:
            pass
        os.close(fd)
    raise FolderError(errno.EAGAIN, "kept being removed while it was taken", str(folder))


def hold(topic: str) -> Path:
    """This process (a worker) uses the run's folder until `release(topic)`; the folder."""
    folder = run_folder(topic)
    with _guard:
        fd = _held.get(topic)
        if fd is not None:
            try:  # still the folder's own lock (not swept by hand meanwhile)?
                if os.path.samestat(os.fstat(fd), os.stat(folder / LOCK_NAME)):
                    return folder
            except OSError:
                pass
            os.close(fd)
        _held[topic] = share(folder)
    return folder


def release(topic: str) -> None:
    """The run ended: let go of its folder and remove it (a keeper still at work removes its
    own attempt folder when it ends)."""
    with _guard:
        fd = _held.pop(topic, None)
    if fd is not None:
        os.close(fd)
    shutil.rmtree(run_folder(topic), ignore_errors=True)


def remove_if_unused(folder: Path) -> bool:
    """Remove `folder` when no live process holds its lock; whether it was removed."""
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        # No lock file: a folder half made, or half removed, by a process now gone? Only
        # when it is old enough that nobody can be between its mkdir and its lock.
        return _remove_lockless(folder)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # in use
        shutil.rmtree(folder, ignore_errors=True)
        return True
    finally:
        os.close(fd)


LOCKLESS_AGE = 60.0
"""Seconds after which a run folder with no lock file is taken for a dead one's leftover."""


def _remove_lockless(folder: Path) -> bool:
    import time

    try:
        info = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        return False
    if time.time() - info.st_mtime < LOCKLESS_AGE:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


def sweep(tmp: str | None = None) -> int:
    """Remove every run folder in this box's temp folder that nobody uses any more (its
    worker and keepers are dead); how many were removed. One listing of the temp folder."""
    base = tmp or tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(base))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(RUN_PREFIX):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False) and remove_if_unused(Path(entry.path)):
                removed += 1
    return removed


def attempt_folder(run: Path) -> Path:
    """A new private folder for one attempt, inside the run's folder."""
    return Path(tempfile.mkdtemp(prefix=ATTEMPT_PREFIX, dir=run))


def scratch_folder(run: Path, item_id: str) -> Path:
    """The item's `{scratch}` on this box: the same across its attempts (made on demand)."""
    return run / SCRATCH_NAME / item_id
