"""Inter-process locks and the folders they (and the database) live in.

Every read-modify-write of a database file happens under that file's lock (a batch's lock, or
the index's): two processes changing the same file wait for each other instead of one losing
the other's change. Readers never lock: every file is replaced whole, so a reader sees the old
or the new version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import BusyError, StoreError

if TYPE_CHECKING:
    from filelock import FileLock


def lock_for(path: Path) -> FileLock:
    """The lock guarding a file (not yet acquired)."""
    # filelock takes ~30 ms to import (measured): readers never lock, and the TUI's first
    # frame only reads, so it is loaded for the first write instead.
    from filelock import FileLock

    return FileLock(str(path))


def acquire(lock: FileLock, timeout: float, what: str, database: Path) -> None:
    """Take `lock`, waiting up to `timeout` seconds; BusyError (naming `what` is locked in
    `database`) if another process keeps it, StoreError if it cannot be taken at all."""
    from filelock import Timeout

    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise BusyError(
            f"database {database} is locked by another batchtui process ({what}; "
            f"waited {timeout:g}s)"
        ) from None
    except PermissionError:
        raise StoreError(f"database folder {database.parent} is not writable") from None
    except OSError as exc:  # the lock path a folder, a read-only or full file system
        raise StoreError(f"cannot lock {lock.lock_file}: {exc.strerror}") from None


def ensure_folders(*folders: Path | None) -> None:
    """Create each folder (mode 0700) that does not exist yet; StoreError for a path that is
    something else, or cannot be made."""
    for needed in folders:
        if needed is None or needed.is_dir():
            continue
        if needed.exists():
            raise StoreError(f"database folder {needed} is not a folder")
        try:
            needed.mkdir(parents=True, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"database folder {needed} cannot be created: {exc.strerror}"
            ) from None
