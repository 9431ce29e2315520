"""The batch repository: one TinyDB file per batch, plus a small index the lists read.

```
batchtui.json              the index: one entry per batch (id, name, status, counts, times,
                           and the signature of the batch file it was taken from)
batchtui.batches/<id>.json one batch: its config and every item (a TinyDB document file)
batchtui.batches/.locks/   one lock file per batch
batchtui.batches/.running/ an empty marker per batch in PROCESSING
batchtui.batches/.tmp/     batch files being written (then renamed into place)
batchtui.batches/.index-journal.jsonl  index changes since the index was written whole
batchtui.json.lock         the index's lock
```

An operation on one batch reads and writes that batch's file under that batch's lock, so its
cost follows the batch, not the history, and two runs of two batches never wait on each other.
The index is written only when a batch appears, goes, or settles (its run ended), under its own
short lock, after the batch locks (one order everywhere: no deadlock). Edits, locking and a
run's progress flushes touch only the batch file.

The batch files are the truth; the index is a cache of what they say. Each entry records the
signature (inode, mtime, size) of the file it summarises, and readers compare it with the file
on disk (one `scandir` and a stat per batch): an entry that does not match — a running batch's
latest flush, a writer killed between its two writes — is read from the batch file instead.
Every file is replaced whole (temp file, fsync, rename), so a reader needs no lock and a crash
leaves every file readable.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import BusyError, MalformedBatchError, NotFoundError, StoreError
from ..core.states import BatchStatus
from ..core.summary import BatchSummary
from .atomic import check_writable, read_database_file, schema_of, write_database_file

if TYPE_CHECKING:
    from filelock import FileLock
    from pydantic import BaseModel

    from ..core.models import Batch


def _model() -> type[Batch]:
    # Imported on first use: listing summaries (the TUI's first frame) needs no models, and
    # loading pydantic and building them is the largest part of starting up.
    from ..core.models import Batch

    return Batch


def _validated(doc: dict[str, Any], path: Path) -> Batch:
    """The model of a stored document; MalformedBatchError (one line: which batch, which
    field, what to do) if it does not validate."""
    from pydantic import ValidationError as ModelError

    try:
        return _model().model_validate(doc)
    except ModelError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "document"
        batch_id = str(doc.get("id", path.stem))
        raw_name = doc.get("name")
        name = raw_name if isinstance(raw_name, str) else ""
        given = first.get("input")
        got = f" (got {repr(given)[:40]})" if isinstance(given, str | int | float) else ""
        raise MalformedBatchError(
            f"batch {batch_id} is malformed ({path}): {where}: {first.get('msg', 'invalid')}"
            f"{got}"
            f"{f' ({exc.error_count()} problems)' if exc.error_count() > 1 else ''}; "
            f"fix the file or delete the batch: batchtui delete {batch_id}",
            batch_id,
            name,
        ) from None


INDEX_TABLE = "index"
BATCH_TABLE = "batch"
JOURNAL = ".index-journal.jsonl"
"""Beside the batch files: index changes since the index was last written whole."""
JOURNAL_MAX = 256
TEMP = ".tmp"
"""Beside the batch files: where a batch file is written before it replaces the old one."""
RUNNING = ".running"
"""Beside the batch files: an empty marker per batch in PROCESSING."""
LEGACY_TABLE = "batches"
"""Schema 1 kept every batch in this table of the one database file."""
DEFAULT_LOCK_TIMEOUT = 15.0
SETTLED = frozenset({"COMPLETE", "PARTIAL", "FAILED"})

Signature = tuple[int, int, int]


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


def stored_form(model: BaseModel, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """A model as the database keeps it: JSON types, and no `null` fields (they read back as
    their default, None). A 10,000-item batch is a third smaller, so it loads and saves a
    third faster."""
    return model.model_dump(mode="json", exclude_none=True, exclude=exclude)


def _signature(stat: os.stat_result) -> Signature:
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def index_entry(doc: dict[str, Any], signature: Signature | None) -> dict[str, Any]:
    """What the index keeps of a stored batch document. A document too malformed to summarise
    gets an entry that only names it (validating it then says what is wrong)."""
    entry: dict[str, Any] = {"id": doc.get("id"), "sig": list(signature) if signature else None}
    try:
        summary = BatchSummary.from_document(doc)
    except (KeyError, TypeError, ValueError, AttributeError):
        name = doc.get("name")
        entry.update(name=name if isinstance(name, str) else "", broken=True)
        entry["created_at"] = str(doc.get("created_at", ""))
        return entry
    entry.update(
        name=summary.name,
        status=summary.status.value,
        platform=summary.platform,
        total=summary.total,
        succeeded=summary.succeeded,
        percent=summary.percent,
        created_at=doc["created_at"],
        updated_at=doc.get("updated_at"),
    )
    return entry


_parse_time = datetime.fromisoformat
_STATUSES = {status.value: status for status in BatchStatus}


def _summary(entry: dict[str, Any]) -> BatchSummary:
    # Runs for every batch of a list (5,000 in a few ms): no lookups it can do without.
    updated = entry.get("updated_at")
    return BatchSummary(
        entry["id"],
        entry["name"],
        _STATUSES[entry["status"]],
        entry["platform"],
        entry["total"],
        entry["succeeded"],
        entry["percent"],
        _parse_time(entry["created_at"]),
        _parse_time(updated) if updated else None,
    )


class Transaction:
    """One locked unit of work over any batches it touches.

    Each batch is locked when the transaction first reads or saves it, and read fresh from its
    file; changes reach the disk only if the block ends without error (then each changed batch
    file is replaced, and the index if what it shows changed).
    """

    def __init__(self, repo: Repository, timeout: float) -> None:
        self.repo = repo
        self.timeout = timeout
        self._locks: dict[str, FileLock] = {}
        self._read: dict[str, dict[str, Any] | None] = {}
        self._changed: dict[str, dict[str, Any] | None] = {}
        """Batch id → its new document (None: deleted)."""

    def _lock(self, batch_id: str) -> None:
        if batch_id in self._locks:
            return
        _check_id(batch_id)
        lock = self.repo._batch_lock(batch_id)
        self.repo._acquire(lock, self.timeout, f"batch {batch_id}")
        self._locks[batch_id] = lock

    def get_raw(self, batch_id: str) -> dict[str, Any] | None:
        """The stored document as is (no validation: for hot paths that read a field or two)."""
        if batch_id in self._changed:
            doc = self._changed[batch_id]
            return None if doc is None else dict(doc)
        self._lock(batch_id)
        if batch_id not in self._read:
            self._read[batch_id] = self.repo._read_batch(batch_id)
        doc = self._read[batch_id]
        return None if doc is None else dict(doc)

    def get(self, batch_id: str) -> Batch | None:
        doc = self.get_raw(batch_id)
        return None if doc is None else _validated(doc, self.repo._batch_path(batch_id))

    def index(self) -> list[tuple[str, str]]:
        """(id, name) of every stored batch, oldest first, without validating any of them."""
        return self.repo.index()

    def all(self) -> list[Batch]:
        return [batch for bid, _ in self.index() if (batch := self.get(bid)) is not None]

    def save(self, batch: Batch) -> None:
        self.save_raw(stored_form(batch))

    def save_raw(self, doc: dict[str, Any]) -> None:
        """Store an already serialised batch document (replacing the one with its id, whole:
        stored documents leave out null fields, so a field that became None disappears)."""
        batch_id = doc["id"]
        self._lock(batch_id)
        self._changed[batch_id] = doc

    def delete(self, batch_id: str) -> None:
        self._lock(batch_id)
        self._changed[batch_id] = None

    def commit(self) -> None:
        """Write what changed: the index lock first when the index must change (so a busy
        index refuses the whole commit before anything is written), then each batch file,
        then the index."""
        if not self._changed:
            return
        repo = self.repo
        # Decided without reading the index (a history of 5,000 batches is a 1 MB parse):
        # whether a batch is new is known from reading it in this transaction.
        needs_index = any(
            doc is None or doc.get("status") in SETTLED or self._read.get(bid) is None
            for bid, doc in self._changed.items()
        )
        index_lock = repo._index_lock() if needs_index else None
        if index_lock is not None:
            repo._acquire(index_lock, self.timeout, "the index")
        try:
            if index_lock is not None:
                # Refuse before any batch file is written, so a refusal changes nothing: a
                # read-only index, or one that cannot be read (never overwritten).
                check_writable(repo.path)
                repo._index_entries()
            written: dict[str, Signature | None] = {}
            for batch_id, doc in self._changed.items():
                written[batch_id] = repo._write_batch(batch_id, doc)
            if index_lock is not None:
                repo._update_index(
                    {
                        bid: (None if doc is None else index_entry(doc, written[bid]))
                        for bid, doc in self._changed.items()
                    }
                )
        finally:
            if index_lock is not None:
                index_lock.release()
        self._changed.clear()

    def release(self) -> None:
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()


def _check_id(batch_id: object) -> None:
    # Batch ids name files: never a path, never hidden.
    if not isinstance(batch_id, str) or not batch_id or not batch_id.isalnum():
        raise NotFoundError(f"no batch '{batch_id}'")


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
        self._journal_lines = 0
        self._index_cache: tuple[object, dict[str, dict[str, Any]]] | None = None
        self._docs: dict[str, tuple[Signature, dict[str, Any]]] = {}
        self._migrated = False
        self._broken: list[tuple[str, str]] = []
        self._shared: dict[str, tuple[dict[str, Any], Batch]] = {}

    # ------------------------------------------------------------------- files

    def _batch_path(self, batch_id: str) -> Path:
        return self.folder / f"{batch_id}.json"

    def _lock_for(self, path: Path) -> FileLock:
        # filelock takes ~30 ms to import (measured): readers never lock, and the TUI's first
        # frame only reads, so it is loaded for the first write instead.
        from filelock import FileLock

        return FileLock(str(path))

    def _index_lock(self) -> FileLock:
        return self._lock_for(Path(str(self.path) + ".lock"))

    def _batch_lock(self, batch_id: str) -> FileLock:
        locks = self.folder / ".locks"
        self._ensure_folder(locks)
        return self._lock_for(locks / f"{batch_id}.lock")

    def _acquire(self, lock: FileLock, timeout: float, what: str) -> None:
        from filelock import Timeout

        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise BusyError(
                f"database {self.path} is locked by another batchtui process ({what}; "
                f"waited {timeout:g}s)"
            ) from None
        except PermissionError:
            raise StoreError(f"database folder {self.path.parent} is not writable") from None
        except OSError as exc:  # the lock path a folder, a read-only or full file system
            raise StoreError(f"cannot lock {lock.lock_file}: {exc.strerror}") from None

    def _ensure_folder(self, folder: Path | None = None) -> None:
        for needed in (self.path.parent, self.folder, folder):
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

    def _read_batch(self, batch_id: str, stat: os.stat_result | None = None) -> dict | None:
        """A batch file's document (parsed once per version of the file), or None."""
        path = self._batch_path(batch_id)
        if stat is None:
            try:
                stat = path.stat()
            except FileNotFoundError:
                return None
        signature = _signature(stat)
        cached = self._docs.get(batch_id)
        if cached is not None and cached[0] == signature:
            return cached[1]
        data = read_database_file(path)
        if data is None:
            return None
        table = data.get(BATCH_TABLE)
        doc = next(iter(table.values()), None) if isinstance(table, dict) else None
        if not isinstance(doc, dict):
            raise StoreError(f"batch file {path} holds no batch; it was left untouched")
        self._docs[batch_id] = (signature, doc)
        return doc

    def _write_batch(self, batch_id: str, doc: dict[str, Any] | None) -> Signature | None:
        """Replace (or, for None, remove) a batch file; the new file's signature.

        A batch in PROCESSING also has a marker in `.running/`, made before the file says
        PROCESSING and removed after it says otherwise: finding running batches (crash
        recovery, at every command) then reads that folder, not the whole history.
        """
        path = self._batch_path(batch_id)
        self._docs.pop(batch_id, None)
        running = doc is not None and doc.get("status") == "PROCESSING"
        marker = self.folder / RUNNING / batch_id
        if running:
            self._ensure_folder(marker.parent)
            marker.touch()
        if doc is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        else:
            temp = self.folder / TEMP
            self._ensure_folder(temp)
            write_database_file(path, {BATCH_TABLE: {"1": doc}}, temp_dir=temp)
        if not running:
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
        return None if doc is None else _signature(path.stat())

    # ------------------------------------------------------------------- index

    def _index_entries(self) -> dict[str, dict[str, Any]]:
        """The index as stored (parsed once per version of the file); migrates a schema-1
        database first."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        except NotADirectoryError:
            raise StoreError(f"database folder {self.path.parent} is not a folder") from None
        except OSError:
            stat = None
        signature = _signature(stat) if stat is not None else None
        journal_key = self._journal_signature()
        key = (signature, journal_key)
        if signature is not None and self._index_cache and self._index_cache[0] == key:
            return self._index_cache[1]
        data = read_database_file(self.path) or {}
        if data and schema_of(data) < 2:
            from .migrate import migrate_single_file

            migrate_single_file(self)
            return self._index_entries()
        table = data.get(INDEX_TABLE)
        entries = {
            e["id"]: e
            for e in (table.values() if isinstance(table, dict) else [])
            if isinstance(e, dict) and isinstance(e.get("id"), str)
        }
        self._journal_lines = self._apply_journal(entries) if journal_key else 0
        if signature is not None:
            self._index_cache = (key, entries)
        return entries

    # The index journal: changes appended (O(1)) instead of the whole index rewritten on
    # every batch that appears or settles; folded into the index every JOURNAL_MAX lines.

    def _migrate_if_needed(self) -> None:
        """Migrate a schema-1 database (which has no batch folder) before a transaction; a
        schema-2 index is not parsed for this (a change to one batch never reads it)."""
        if not self.folder.is_dir():
            self._index_entries()

    def _journal_signature(self) -> Signature | None:
        try:
            return _signature(self.journal.stat())
        except OSError:
            return None

    def _apply_journal(self, entries: dict[str, dict[str, Any]]) -> int:
        """Apply the journal's lines over `entries`; how many lines it has. A line torn by a
        crash is skipped (its batch's file says the truth; readers see the mismatch)."""
        try:
            raw = self.journal.read_bytes()
        except FileNotFoundError:
            return 0
        lines = 0
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            lines += 1
            try:
                record = json.loads(line)
                batch_id = record["id"]
            except (ValueError, KeyError, TypeError):
                continue
            entry = record.get("entry")
            if isinstance(entry, dict):
                entries[batch_id] = entry
            else:
                entries.pop(batch_id, None)
        return lines

    def _update_index(self, changes: dict[str, dict[str, Any] | None]) -> None:
        """Record entry changes (None: removed); call holding the index lock. Appended to the
        journal (one write and fsync), which is folded into the index once it is long."""
        entries = self._index_entries()  # raises for an index that cannot be read
        if not self.path.exists() or self._journal_lines + len(changes) > JOURNAL_MAX:
            merged = dict(entries)
            for batch_id, entry in changes.items():
                if entry is None:
                    merged.pop(batch_id, None)
                else:
                    merged[batch_id] = entry
            self._write_index(merged)
            return
        data = b"".join(
            b"\n" + json.dumps({"id": bid, "entry": entry}, separators=(",", ":")).encode()
            for bid, entry in changes.items()
        )
        self._ensure_folder()
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._index_cache = None

    def _write_index(self, entries: dict[str, dict[str, Any]]) -> None:
        self._ensure_folder()
        table = {str(n): entry for n, entry in enumerate(entries.values(), start=1)}
        write_database_file(self.path, {INDEX_TABLE: table})
        # The index now holds all the journal said (a crash before this unlink only means
        # the journal's lines are applied again: the same entries).
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()
        self._journal_lines = 0
        # What was just written is what a read would parse: keep it (no re-read of our own).
        self._index_cache = ((_signature(self.path.stat()), None), entries)

    def _current(self) -> dict[str, dict[str, Any]]:
        """Every batch's index entry, checked against its file: an entry whose file changed
        since (a running batch, a writer killed between its writes) is taken from the file;
        a file the index does not know yet is read; an entry without a file is gone."""
        entries = self._index_entries()
        current: dict[str, dict[str, Any]] = {}
        try:
            listing = list(os.scandir(self.folder))
        except FileNotFoundError:
            listing = []
        except NotADirectoryError:
            raise StoreError(f"database folder {self.folder} is not a folder") from None
        for item in listing:
            name = item.name
            if not name.endswith(".json") or name.startswith("."):
                continue
            batch_id = name[:-5]
            try:
                stat = item.stat()
            except FileNotFoundError:  # deleted while we looked
                continue
            signature = _signature(stat)
            entry = entries.get(batch_id)
            if entry is None or entry.get("sig") != list(signature):
                try:
                    doc = self._read_batch(batch_id, stat)
                except StoreError:  # one unreadable file must not hide every other batch
                    known = entry or {}
                    doc = {"id": batch_id, "name": known.get("name"), "broken": True}
                    doc["created_at"] = known.get("created_at", "")
                if doc is None:
                    continue
                entry = index_entry(doc, signature)
                entry["id"] = batch_id
            current[batch_id] = entry
        return current

    # ------------------------------------------------------------- the public API

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
        entries = sorted(
            self._current().values(), key=lambda e: (str(e.get("created_at", "")), e["id"])
        )
        return [(e["id"], e.get("name") or "") for e in entries]

    def all(self) -> list[Batch]:
        """Every batch, oldest first (a lock-free snapshot)."""
        return [batch for bid, _ in self.index() if (batch := self.get(bid)) is not None]

    def indexed_summaries(self, oldest: int | None = None) -> list[BatchSummary]:
        """Every batch (or the `oldest` N) as the index last recorded it, without looking
        at the batch files (a running batch's progress, or a batch made since the last
        index write, may be behind; `summaries` is exact)."""
        entries = [e for e in self._index_entries().values() if not e.get("broken")]
        entries.sort(key=lambda e: (str(e.get("created_at", "")), e["id"]))
        return [_summary(e) for e in entries[:oldest]]

    def summaries(self) -> list[BatchSummary]:
        """Every batch as a list shows it, oldest first, without validating any."""
        return self.page(None)[0]

    def page(self, newest: int | None) -> tuple[list[BatchSummary], int]:
        """The `newest` N batches (None: all) as a list shows them, oldest first, and how
        many there are in all; only the ones shown are made into summaries. A batch too
        malformed to list is left out (and named by `broken`)."""
        entries = sorted(
            self._current().values(), key=lambda e: (str(e.get("created_at", "")), e["id"])
        )
        suspects = [e for e in entries if e.get("broken")]
        if suspects:  # one that validates after all (an index behind its file) is listed
            models = {e["id"]: self._listable(e["id"]) for e in suspects}
            self._broken = [
                (e["id"], str(e.get("name") or "")) for e in suspects if models[e["id"]] is None
            ]
            entries = [e for e in entries if not e.get("broken") or models[e["id"]]]
        else:
            models, self._broken = {}, []
        total = len(entries)
        if newest is not None:
            entries = entries[-newest:] if newest else []
        summaries = []
        for entry in entries:
            model = models.get(entry["id"]) if entry.get("broken") else None
            summaries.append(BatchSummary.of(model) if model is not None else _summary(entry))
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
        try:
            return sorted(os.listdir(self.folder / RUNNING))
        except (FileNotFoundError, NotADirectoryError):
            return []

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
        try:
            _check_id(batch_id)
        except NotFoundError:
            return None
        doc = self._read_batch(batch_id)
        return None if doc is None else _validated(doc, self._batch_path(batch_id))

    def shared(self, batch_id: str) -> Batch | None:
        """One batch by exact id, validated once per version of its file and shared between
        callers: read it, never change it (for reads polled often, as the API's progress is:
        a 1,000-item batch validates in ~10 ms, a stat costs microseconds)."""
        try:
            _check_id(batch_id)
        except NotFoundError:
            return None
        doc = self._read_batch(batch_id)
        if doc is None:
            self._shared.pop(batch_id, None)
            return None
        cached = self._shared.get(batch_id)
        if cached is not None and cached[0] is doc:  # the parse cache kept the same document
            return cached[1]
        batch = _validated(doc, self._batch_path(batch_id))
        self._shared[batch_id] = (doc, batch)
        return batch

    def shared_is_current(self, batch_id: str) -> bool:
        """Whether `shared(batch_id)` would answer from memory (one stat): no parse and no
        validation to wait for."""
        cached, doc = self._shared.get(batch_id), self._docs.get(batch_id)
        if cached is None or doc is None or cached[0] is not doc[1]:
            return False
        try:
            return _signature(self._batch_path(batch_id).stat()) == doc[0]
        except OSError:
            return False

    def get_raw(self, batch_id: str) -> dict[str, Any] | None:
        """One batch's stored document as is (shared: read it, do not change it)."""
        try:
            _check_id(batch_id)
        except NotFoundError:
            return None
        return self._read_batch(batch_id)

    def has(self, batch_id: str) -> bool:
        """Whether a batch with exactly this id is stored (one stat)."""
        try:
            _check_id(batch_id)
        except NotFoundError:
            return False
        return self._batch_path(batch_id).is_file()

    def signature(self) -> tuple[object, ...] | None:
        """A cheap "has anything changed?" token (three stats): the index file, its journal,
        and the batch folder, whose modification time moves whenever a batch file is
        replaced."""
        parts: list[object] = []
        for path in (self.path, self.journal, self.folder):
            try:
                parts.append(_signature(path.stat()))
            except OSError:
                parts.append(None)
        return None if parts == [None, None, None] else tuple(parts)

    def exists(self) -> bool:
        """Whether the database has been written yet."""
        return self.path.exists()
