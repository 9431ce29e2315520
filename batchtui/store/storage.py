"""TinyDB over our own storage: atomic whole-file replaces, orjson, one write per lock hold.

TinyDB's `Table` reads the whole storage at every operation and writes it whole at every
change; its `JSONStorage` truncates and rewrites in place (a kill mid-write leaves a corrupt
file) and takes no lock. `AtomicStorage` keeps TinyDB's file layout and `Table` API but:

- reads the file once (parsed by orjson, refused with one clear line when unreadable: see
  `atomic.read_database_file`), or starts from a document already parsed (a cache hit);
- keeps every change in memory until `flush`, so a read-modify-write of many `Table`
  operations costs one file write;
- writes that file atomically (temp file, fsync, `os.replace`, fsync of the folder), and only
  while the caller holds the file's lock when it names one (the store's rule: every
  read-modify-write happens under the lock of what it changes).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tinydb import TinyDB
from tinydb.storages import Storage

from .atomic import Tables, as_tables, read_database_file, write_database_file

if TYPE_CHECKING:
    from filelock import BaseFileLock

EMPTY: Tables = {}
"""Pass as `parsed` to start from an empty database without reading the file (a write that
replaces the whole file needs nothing from the old one)."""


class AtomicStorage(Storage):
    """A TinyDB storage over one database file (see the module's docstring)."""

    def __init__(
        self,
        path: Path,
        *,
        parsed: Tables | None = None,
        temp_dir: Path | None = None,
        lock: BaseFileLock | None = None,
    ) -> None:
        self.path = path
        self.temp_dir = temp_dir
        self.lock = lock
        self._loaded = parsed is not None
        self._data: Tables | None = as_tables(parsed) if parsed else None
        self._pending: Tables | None = None

    def read(self) -> Tables | None:
        """The database as TinyDB sees it (None: no file yet); the file is read only once."""
        if self._pending is not None:
            return self._pending
        if not self._loaded:
            self._data = as_tables(read_database_file(self.path))
            self._loaded = True
        # A shallow copy: `Table` replaces the table it changed in what `read` returned, and
        # what was read may be shared with a cache.
        return None if self._data is None else dict(self._data)

    def write(self, data: Tables) -> None:
        """Keep `data` until `flush`: however many `Table` operations, one file write."""
        self._pending = data

    @property
    def dirty(self) -> bool:
        """Whether there are changes not yet written."""
        return self._pending is not None

    def flush(self) -> None:
        """Write what changed, atomically (nothing to do when nothing changed)."""
        if self._pending is None:
            return
        if self.lock is not None and not self.lock.is_locked:
            raise RuntimeError(f"{self.path} written without holding {self.lock.lock_file}")
        write_database_file(self.path, self._pending, temp_dir=self.temp_dir)
        self._data, self._pending = self._pending, None

    def close(self) -> None:
        """Nothing is open between operations; changes not flushed are dropped."""
        self._pending = None


def open_database(
    path: Path,
    *,
    parsed: Tables | None = None,
    temp_dir: Path | None = None,
    lock: BaseFileLock | None = None,
) -> TinyDB:
    """A `TinyDB` over `AtomicStorage` (see there for the arguments); `flush(db)` writes."""
    return TinyDB(path, parsed=parsed, temp_dir=temp_dir, lock=lock, storage=AtomicStorage)


def flush(db: TinyDB) -> None:
    """Write what `db`'s tables changed, in one atomic replace of its file."""
    storage = db.storage
    assert isinstance(storage, AtomicStorage)
    storage.flush()
