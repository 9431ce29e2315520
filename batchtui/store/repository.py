"""The batch repository: TinyDB documents, one per batch, items embedded.

Every read-modify-write happens inside `Repository.transaction()`, which holds an inter-process
file lock, reads the file once and writes it once (atomically) at the end. Readers outside a
transaction need no lock: the file is only ever replaced whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb import Query, TinyDB

from ..core.errors import BusyError, StoreError
from ..core.summary import BatchSummary
from .atomic import TransactionStorage, read_database_file

if TYPE_CHECKING:
    from filelock import FileLock
    from pydantic import BaseModel

    from ..core.models import Batch


def _model() -> type[Batch]:
    # Imported on first use: listing summaries (the TUI's first frame) needs no models, and
    # loading pydantic and building them is the largest part of starting up.
    from ..core.models import Batch

    return Batch


BATCHES = "batches"
DEFAULT_LOCK_TIMEOUT = 15.0
_Q = Query()


def default_db_path() -> Path:
    """`BATCHTUI_DB` if set, else `batchtui.json` in the user data folder."""
    env = os.environ.get("BATCHTUI_DB")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("batchtui", appauthor=False)) / "batchtui.json"


def default_lock_timeout() -> float:
    """Seconds a change waits for the database lock: `BATCHTUI_LOCK_TIMEOUT`, else 15."""
    env = os.environ.get("BATCHTUI_LOCK_TIMEOUT", "").strip()
    try:
        value = float(env) if env else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        value = DEFAULT_LOCK_TIMEOUT
    return value if value > 0 else DEFAULT_LOCK_TIMEOUT


def stored_form(model: BaseModel, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """A model as the database keeps it: JSON types, and no `null` fields (they read back as
    their default, None). A 10,000-item database is a third smaller, so it loads and saves
    a third faster."""
    return model.model_dump(mode="json", exclude_none=True, exclude=exclude)


def batch_index(docs: Iterable[dict]) -> list[tuple[str, str]]:
    """(id, name) of each stored batch document. One without a usable name is still listed
    (as "") so its id reaches validation, which says what is wrong with it; one without an
    id cannot be named at all."""
    index = []
    for doc in docs:
        batch_id, name = doc.get("id"), doc.get("name")
        if isinstance(batch_id, str):
            index.append((batch_id, name if isinstance(name, str) else ""))
    return index


class Transaction:
    """One locked unit of work; changes reach the file only if the block ends without error."""

    def __init__(self, db: TinyDB) -> None:
        self._table = db.table(BATCHES)

    def get(self, batch_id: str) -> Batch | None:
        doc = self._table.get(_Q.id == batch_id)
        return None if doc is None else _model().model_validate(doc)

    def all(self) -> list[Batch]:
        model = _model()
        return [model.model_validate(doc) for doc in self._table.all()]

    def index(self) -> list[tuple[str, str]]:
        """(id, name) of every stored batch, without validating any of them."""
        return batch_index(self._table.all())

    def get_raw(self, batch_id: str) -> dict | None:
        """The stored document as is (no validation: for hot paths that read a field or two)."""
        doc = self._table.get(_Q.id == batch_id)
        return None if doc is None else dict(doc)

    def save(self, batch: Batch) -> None:
        self.save_raw(stored_form(batch))

    def save_raw(self, doc: dict) -> None:
        """Store an already serialised batch document (replacing the one with its id).

        Replaced whole, not merged as TinyDB's upsert would: stored documents leave out null
        fields, so a field that became None must disappear, not keep its old value.
        """

        def replace(stored: MutableMapping[Any, Any]) -> None:
            stored.clear()
            stored.update(doc)

        if not self._table.update(replace, _Q.id == doc["id"]):
            self._table.insert(doc)

    def delete(self, batch_id: str) -> None:
        self._table.remove(_Q.id == batch_id)


class Repository:
    """Where batches live. One instance per database file; safe across processes."""

    def __init__(
        self, path: Path | str | None = None, *, lock_timeout: float | None = None
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.path = self.path.absolute()
        self.lock_timeout = lock_timeout if lock_timeout is not None else default_lock_timeout()
        self._lock: FileLock | None = None  # made at the first write (see `_file_lock`)
        self._cache: tuple[tuple[int, int, int], list[dict]] | None = None

    def _file_lock(self) -> FileLock:
        # filelock takes ~30 ms to import (measured): readers never lock, and the TUI's first
        # frame only reads, so it is loaded for the first write instead.
        if self._lock is None:
            from filelock import FileLock

            self._lock = FileLock(str(self.path) + ".lock", timeout=self.lock_timeout)
        return self._lock

    def _ensure_folder(self) -> None:
        folder = self.path.parent
        if folder.is_dir():
            return
        if folder.exists():
            raise StoreError(f"database folder {folder} is not a folder")
        try:
            folder.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise StoreError(
                f"database folder {folder} cannot be created: {exc.strerror}"
            ) from None

    @contextmanager
    def transaction(self, *, timeout: float | None = None) -> Iterator[Transaction]:
        """Lock the database (waiting up to `timeout`, default `lock_timeout`), yield a
        `Transaction`, and write once if it changed anything."""
        self._ensure_folder()
        lock = self._file_lock()
        from filelock import Timeout  # loaded by `_file_lock`

        patience = self.lock_timeout if timeout is None else timeout
        try:
            lock.acquire(timeout=patience)
        except Timeout:
            raise BusyError(
                f"database {self.path} is locked by another batchtui process (waited {patience:g}s)"
            ) from None
        except PermissionError:
            raise StoreError(f"database folder {self.path.parent} is not writable") from None
        try:
            storage_holder: list[TransactionStorage] = []

            def factory(path: Path) -> TransactionStorage:
                storage = TransactionStorage(path)
                storage_holder.append(storage)
                return storage

            db = TinyDB(self.path, storage=factory)
            yield Transaction(db)
            storage_holder[0].commit()
        finally:
            lock.release()

    def _reader(self) -> Transaction:
        return Transaction(TinyDB(self.path, storage=TransactionStorage))

    def _documents(self) -> list[dict]:
        """Every stored document (a lock-free snapshot), parsed once per version of the file.

        Callers only read them. The file is always replaced whole, so (inode, mtime, size)
        names a version; the key is taken before reading, so a write racing the read makes the
        next call read again rather than keep stale data.
        """
        key = self.signature()
        if key is not None and self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        data = read_database_file(self.path) or {}
        table = data.get(BATCHES)
        docs = list(table.values()) if isinstance(table, dict) else []
        self._cache = (key, docs) if key is not None else None
        return docs

    def all(self) -> list[Batch]:
        """Every batch, oldest first (a lock-free snapshot)."""
        model = _model()
        batches = [model.model_validate(doc) for doc in self._documents()]
        batches.sort(key=lambda b: b.created_at)
        return batches

    def summaries(self) -> list[BatchSummary]:
        """Every batch as a list shows it, oldest first, without validating items."""
        summaries = []
        for doc in self._documents():
            try:
                summary = BatchSummary.from_document(doc)
            except (KeyError, TypeError, ValueError, AttributeError):
                summary = BatchSummary.of(_model().model_validate(doc))  # raises the real reason
            summaries.append(summary)
        summaries.sort(key=lambda s: s.created_at)
        return summaries

    def processing(self) -> list[Batch]:
        """Batches in PROCESSING, found without validating every other batch."""
        docs = self._documents()
        return [_model().model_validate(doc) for doc in docs if doc.get("status") == "PROCESSING"]

    def check_readable(self) -> None:
        """Raise StoreError if the database file exists but cannot be used (no models; the
        parsed documents are kept for the first listing, so a start reads the file once)."""
        self._documents()

    def get(self, batch_id: str) -> Batch | None:
        """One batch by exact id, or None (a lock-free snapshot)."""
        return self._reader().get(batch_id)

    def find(self, pick: Callable[[list[tuple[str, str]]], str]) -> Batch:
        """The batch `pick` chooses from every (id, name), oldest first: one snapshot of the
        file, and only the chosen batch validated (a database of 1,000 batches is not
        validated whole to resolve one reference)."""
        docs = sorted(self._documents(), key=lambda doc: str(doc.get("created_at", "")))
        chosen = pick(batch_index(docs))
        return _model().model_validate(next(doc for doc in docs if doc.get("id") == chosen))

    def signature(self) -> tuple[int, int, int] | None:
        """(inode, mtime, size) of the database file: a cheap "has anything changed?" check.

        Writes replace the file whole, so each version has its own inode as well."""
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def exists(self) -> bool:
        """Whether the database file has been written yet."""
        return self.path.exists()
