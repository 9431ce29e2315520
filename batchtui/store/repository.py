"""The batch repository: one TinyDB file per batch, plus a small index the lists read.

```
batchtui.json              the index (see `index`)
batchtui.batches/<id>.json one batch: its config and every item (see `batch_files`)
batchtui.batches/.index-newest.json  the index's newest entries, for a page (see `newest`)
batchtui.json.lock         the index's lock; each batch has its own (see `locking`)
```

An operation on one batch reads and writes that batch's file under that batch's lock, so its
cost follows the batch, not the history, and two runs of two batches never wait on each other.
The index is written only when a batch appears, goes, or settles (its run ended), under its own
short lock, after the batch locks (one order everywhere: no deadlock). Edits, locking and a
run's progress flushes touch only the batch file (see `transaction`).

The batch files are the truth; the index is a cache of what they say, checked against them
by file signature (see `listing`). Every file is replaced whole (temp file, fsync, rename:
see `storage` and `atomic`), so a reader needs no lock and a crash leaves every file readable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import NotFoundError, StoreError
from ..core.summary import BatchSummary
from . import listing
from .atomic import check_writable
from .batch_files import BatchFiles
from .documents import (
    Signature,
    check_id,
    index_entry,
    order_key,
    signature_of,
    stored_form,
    summary_of,
    validated,
)
from .index import JOURNAL, Entries, IndexFile, LegacyDatabase
from .locking import acquire, ensure_folders, lock_for
from .migrate import marker_path
from .transaction import Transaction

if TYPE_CHECKING:
    from filelock import FileLock

    from ..core.models import Batch

__all__ = [
    "LEGACY_TABLE",
    "Repository",
    "Transaction",
    "default_db_path",
    "default_lock_timeout",
    "index_entry",
    "stored_form",
]

LEGACY_TABLE = "batches"
"""Schema 1 kept every batch in this table of the one database file."""
DEFAULT_LOCK_TIMEOUT = 15.0


def default_db_path() -> Path:
    """`BATCHTUI_DB` if set, else `batchtui.json` in the user data folder."""
    env = os.environ.get("BATCHTUI_DB")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("batchtui", appauthor=False)) / "batchtui.json"


def default_lock_timeout() -> float:
    """Seconds a change waits for a lock: `BATCHTUI_LOCK_TIMEOUT`, else 15."""
    env = os.environ.get("BATCHTUI_LOCK_TIMEOUT", "").strip()
    try:
        value = float(env) if env else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        value = DEFAULT_LOCK_TIMEOUT
    return value if value > 0 else DEFAULT_LOCK_TIMEOUT


class Repository:
    """Where batches live. One instance per database; safe across processes."""

    def __init__(self, path: Path | str | None = None, *, lock_timeout: float | None = None):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.path = self.path.absolute()
        if self.path.is_symlink():
            # Write through a link to its target: replacing the link by a new file would cut
            # the real database off (and put its locks somewhere else).
            self.path = Path(os.path.realpath(self.path))
        self.folder = self.path.parent / f"{self.path.stem}.batches"
        """One file per batch, beside the index."""
        self.lock_timeout = lock_timeout if lock_timeout is not None else default_lock_timeout()
        self.journal = self.folder / JOURNAL
        self.batches = BatchFiles(self.folder)
        self.index_file = IndexFile(self.path, self.journal)
        self._broken: list[tuple[str, str]] = []
        self._shared: dict[str, tuple[dict[str, Any], Batch]] = {}
        self._index_lock_held: FileLock | None = None

    # ------------------------------------------- used by the migration and the transactions

    def _index_lock(self) -> FileLock:
        """The index's lock: one object per repository, so a thread that holds it takes it
        again at once (a transaction that must migrate the index while it holds its lock)
        instead of waiting for itself."""
        if self._index_lock_held is None:
            self._index_lock_held = lock_for(Path(str(self.path) + ".lock"))
        return self._index_lock_held

    def _acquire(self, lock: FileLock, timeout: float, what: str) -> None:
        acquire(lock, timeout, what, self.path)

    def _ensure_folder(self) -> None:
        ensure_folders(self.path.parent, self.folder)

    def _read_batch(self, batch_id: str) -> dict[str, Any] | None:
        return self.batches.read(batch_id)

    def _write_batch(self, batch_id: str, doc: dict[str, Any] | None) -> Signature | None:
        return self.batches.write(batch_id, doc)

    def _write_index(self, entries: Entries) -> None:
        self.index_file.write(entries)

    def _index_entries(self) -> Entries:
        """The index as stored (parsed once per version of the file); migrates a schema-1
        database first."""
        try:
            return self.index_file.entries()
        except LegacyDatabase:
            from .migrate import migrate_single_file

            migrate_single_file(self)
            return self.index_file.entries()

    def _migrate_if_needed(self) -> None:
        """Migrate a schema-1 database (which has no batch folder) before a transaction, or
        finish a migration that was killed part-way (its marker is still there), before any
        lock is taken; a schema-2 index is not parsed for this (a change to one batch never
        reads it: one stat tells)."""
        if not self.folder.is_dir():
            self._index_entries()
        elif os.path.lexists(marker_path(self.path)):
            from .migrate import migrate_single_file

            migrate_single_file(self)

    def _current(self) -> Entries:
        found = listing.current(self._index_entries(), self.batches)
        self._heal()
        return found

    def _heal(self) -> None:
        """Give the index back the signatures of batch files that say what it says (the
        database was copied, restored or touched: new inodes or times, the same batches), so
        the next list does not read those files again; only if the index lock is free now
        and the index can be written (a reader never waits, and never fails, for this)."""
        resigned, self.batches.resigned = self.batches.resigned, {}
        if not resigned:
            return
        from filelock import Timeout

        lock = self._index_lock()
        try:
            lock.acquire(blocking=False)
        except (Timeout, OSError, RuntimeError):
            return
        try:
            check_writable(self.path)
            stored = self.index_file.entries()
            changes: dict[str, dict[str, Any] | None] = {}
            for batch_id, entry in resigned.items():
                known = stored.get(batch_id)
                try:
                    now = list(signature_of(os.lstat(self.batches.path(batch_id))))
                except OSError:
                    continue
                # Still the same entry, still the file it was read from: else left as it is.
                if known and now == entry["sig"] and listing.same_but_signature(known, entry):
                    changes[batch_id] = entry
            if changes:
                self.index_file.update(changes)
        except (StoreError, OSError):
            pass  # a cache left as it was: the next command that can write it heals it
        finally:
            lock.release()

    # ------------------------------------------------------------------ the public API

    @contextmanager
    def transaction(self, *, timeout: float | None = None) -> Iterator[Transaction]:
        """A `Transaction` (each batch it touches locked, waiting up to `timeout`, default
        `lock_timeout`); its changes are written when the block ends without error."""
        self._migrate_if_needed()
        tx = Transaction(self, self.lock_timeout if timeout is None else timeout)
        try:
            yield tx
            tx.commit()
        finally:
            tx.release()

    def index(self) -> list[tuple[str, str]]:
        """(id, name) of every stored batch, oldest first (no batch validated)."""
        entries = sorted(self._current().values(), key=order_key)
        return [(e["id"], e.get("name") or "") for e in entries]

    def all(self) -> list[Batch]:
        """Every batch, oldest first (a lock-free snapshot)."""
        return [batch for bid, _ in self.index() if (batch := self.get(bid)) is not None]

    def indexed_summaries(self, oldest: int | None = None) -> list[BatchSummary]:
        """Every batch (or the `oldest` N) as the index last recorded it, without looking
        at the batch files (a running batch's progress, or a batch made since the last
        index write, may be behind; `summaries` is exact)."""
        entries = [e for e in self._index_entries().values() if not e.get("broken")]
        entries.sort(key=order_key)
        return [summary_of(e) for e in entries[:oldest]]

    def summaries(self) -> list[BatchSummary]:
        """Every batch as a list shows it, oldest first, without validating any."""
        return self.page(None)[0]

    def page(self, newest: int | None) -> tuple[list[BatchSummary], int]:
        """The `newest` N batches (None: all) as a list shows them, oldest first, and how
        many there are in all; only the ones shown are made into summaries, and only those
        checked against their files (older ones are counted as the index has them). A batch
        too malformed to list is left out (and named by `broken`)."""
        window = None
        if newest is not None and (page := self.index_file.read_newest()) is not None:
            window = listing.newest_from_page(page, self.batches, newest)
        if window is None:
            indexed = self._index_entries()
            window = (
                listing.everything(indexed, self.batches)
                if newest is None
                else listing.newest_checked(indexed, self.batches, newest)
            )
        self._heal()
        # One marked broken that validates after all (an index behind its file) is listed.
        models = {e["id"]: self._listable(e["id"]) for e in window.broken}
        unlisted = {batch_id for batch_id, model in models.items() if model is None}
        self._broken = [
            (e["id"], str(e.get("name") or "")) for e in window.broken if e["id"] in unlisted
        ]
        entries = [e for e in window.entries if e["id"] not in unlisted]
        total = window.total - len(unlisted)
        if newest is not None:
            entries = entries[-newest:] if newest else []
        summaries = []
        for entry in entries:
            model = models.get(entry["id"]) if entry.get("broken") else None
            summaries.append(BatchSummary.of(model) if model is not None else summary_of(entry))
        summaries.sort(key=lambda s: (s.created_at, s.id))
        return summaries, total

    def broken(self) -> list[tuple[str, str]]:
        """(id, name) of the stored batches too malformed to list, as the last `page` (or
        `summaries`) found them; `get` says what is wrong with each."""
        return list(self._broken)

    def _listable(self, batch_id: str) -> Batch | None:
        try:
            return self.get(batch_id)
        except StoreError:  # malformed, or not a batch file at all
            return None

    def any_running(self) -> bool:
        """Whether any batch is marked PROCESSING (one listing of a small folder; the index
        is not parsed for this, unless a schema-1 database must be migrated first)."""
        return bool(self.processing_ids())

    def processing_ids(self) -> list[str]:
        """Ids of the batches marked running (one listing of a small folder)."""
        self._migrate_if_needed()
        return self.batches.running_ids()

    def queued_ids(self) -> list[str]:
        """Ids of the batches marked as having a deferred start (one listing)."""
        self._migrate_if_needed()
        return self.batches.queued_ids()

    def check_readable(self) -> None:
        """Raise StoreError if the database exists but cannot be used: its index unreadable
        or its batch folder not a folder (no models, no batch file read: a batch file that
        cannot be read is reported when it is listed or opened). The parsed index is kept
        for the first listing."""
        self._index_entries()
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"database folder {self.folder} is not a folder")

    def get(self, batch_id: str) -> Batch | None:
        """One batch by exact id, or None (a lock-free snapshot)."""
        doc = self.get_raw(batch_id)
        return None if doc is None else validated(doc, self.batches.path(batch_id))

    def shared(self, batch_id: str) -> Batch | None:
        """One batch by exact id, validated once per version of its file and shared between
        callers: read it, never change it (for reads polled often, as the API's progress is:
        a 1,000-item batch validates in ~10 ms, a stat costs microseconds)."""
        doc = self.get_raw(batch_id)
        if doc is None:
            self._shared.pop(batch_id, None)
            return None
        cached = self._shared.get(batch_id)
        if cached is not None and cached[0] is doc:  # the parse cache kept the same document
            return cached[1]
        batch = validated(doc, self.batches.path(batch_id))
        self._shared[batch_id] = (doc, batch)
        return batch

    def get_raw(self, batch_id: str) -> dict[str, Any] | None:
        """One batch's stored document as is (shared: read it, do not change it)."""
        try:
            check_id(batch_id)
        except NotFoundError:
            return None
        return self.batches.read(batch_id)

    def has(self, batch_id: str) -> bool:
        """Whether a batch with exactly this id is stored (one stat)."""
        try:
            check_id(batch_id)
        except NotFoundError:
            return False
        return self.batches.path(batch_id).is_file()

    def signature(self) -> tuple[object, ...] | None:
        """A cheap "has anything changed?" token (three stats): the index file, its journal,
        and the batch folder, whose modification time moves whenever a batch file is
        replaced."""
        parts: list[object] = []
        for path in (self.path, self.journal, self.folder):
            try:
                parts.append(signature_of(path.stat()))
            except OSError:
                parts.append(None)
        return None if parts == [None, None, None] else tuple(parts)

    def exists(self) -> bool:
        """Whether the database has been written yet."""
        return self.path.exists()
