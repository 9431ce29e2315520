"""The batch files: one TinyDB document file per batch, each parsed once per version.

```
<db>.batches/<id>.json  one batch: its config and every item (the `batch` table's document 1)
<db>.batches/.locks/    one lock file per batch
<db>.batches/.running/  an empty marker per batch in PROCESSING
<db>.batches/.tmp/      batch files being written (then renamed into place)
```

Each file is read through TinyDB's `Table` over `AtomicStorage`, and written the same way:
the new document replaces the old one whole, in one atomic write.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import StoreError
from .atomic import as_tables, read_database_file
from .documents import Signature, is_batch_id, signature_of
from .locking import ensure_folders, lock_for

if TYPE_CHECKING:
    from filelock import FileLock

BATCH_TABLE = "batch"
BATCH_DOC_ID = 1
TEMP = ".tmp"
"""Beside the batch files: where a batch file is written before it replaces the old one."""
RUNNING = ".running"
QUEUED = ".queued"
"""A marker per LOCKED batch with a deferred start (as `.running/` for runs): what finds the
starts to take up again after their waiting process died, at every command."""
"""Beside the batch files: an empty marker per batch in PROCESSING."""
LOCKS = ".locks"


def is_batch_file_name(name: str) -> bool:
    """Whether a name in the batch folder is one batchtui gives a batch file (`<id>.json`);
    any other file there is not a batch (never listed, never read as one)."""
    return name.endswith(".json") and is_batch_id(name[:-5])


class BatchFiles:
    """The folder of batch files, and what was last parsed of each (by file signature)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._docs: dict[str, tuple[Signature, dict[str, Any]]] = {}
        self._refused: dict[str, tuple[Signature, str]] = {}
        """Batch id → the signature of a file that was refused, and why."""
        self.resigned: dict[str, dict[str, Any]] = {}
        """Batch id → a fresh index entry for a file whose index entry says the same but for
        its signature (see `listing`); the repository re-signs the index with them."""

    def path(self, batch_id: str) -> Path:
        """The file of a batch (which may not exist)."""
        return self.folder / f"{batch_id}.json"

    def lock(self, batch_id: str) -> FileLock:
        """The lock every change to a batch file is made under (not yet acquired)."""
        locks = self.folder / LOCKS
        ensure_folders(self.folder.parent, self.folder, locks)
        return lock_for(locks / f"{batch_id}.lock")

    def read(self, batch_id: str, stat: os.stat_result | None = None) -> dict[str, Any] | None:
        """A batch file's document (parsed once per version of the file, then shared: read
        it, never change it), or None if there is no such file."""
        path = self.path(batch_id)
        if stat is None:
            try:
                stat = os.lstat(path)
            except FileNotFoundError:
                return None
        signature = signature_of(stat)
        cached = self._docs.get(batch_id)
        if cached is not None and cached[0] == signature:
            return cached[1]
        refused = self._refused.get(batch_id)
        if refused is not None and refused[0] == signature:
            raise StoreError(refused[1])  # the same file: not read (nor refused) twice
        try:
            doc = self._parse(batch_id, path)
        except StoreError as exc:
            self._refused[batch_id] = (signature, str(exc))
            raise
        if doc is not None:
            self._docs[batch_id] = (signature, doc)
        return doc

    def _parse(self, batch_id: str, path: Path) -> dict[str, Any] | None:
        """The batch a file holds, never trusted: a file that is not a regular one (a link,
        a pipe, a folder), is larger than batchtui writes, is not a batchtui database, or holds
        another batch than its name says (a copy) is refused (StoreError, one line)."""
        from .storage import open_database  # TinyDB: not imported by commands that only list

        data = as_tables(read_database_file(path, what="batch file", follow=False))
        if data is None:  # removed since the stat
            return None
        db = open_database(path, parsed=data)
        try:
            found = next(iter(db.table(BATCH_TABLE)), None)
        except ValueError:  # a document key that is not a TinyDB id
            found = None
        if found is None:
            raise StoreError(f"batch file {path} holds no batch; it was left untouched")
        doc = dict(found)  # as stored: not TinyDB's Document (a dict that also knows its id)
        if doc.get("id") != batch_id:
            held = str(doc.get("id"))[:40]
            raise StoreError(
                f"batch file {path} holds batch {held!r}, not {batch_id} (a copy?); it was "
                f"left untouched: batchtui delete {batch_id} removes it"
            )
        return doc

    def cached(self, batch_id: str) -> tuple[Signature, dict[str, Any]] | None:
        """The last parse of a batch file and the signature it was parsed at (no stat)."""
        return self._docs.get(batch_id)

    def write(
        self, batch_id: str, doc: dict[str, Any] | None, lock: FileLock | None = None
    ) -> Signature | None:
        """Replace (or, for None, remove) a batch file; the new file's signature. `lock`, when
        given, must be held (the write is refused otherwise).

        A batch in PROCESSING also has a marker in `.running/`, made before the file says
        PROCESSING and removed after it says otherwise: finding running batches (crash
        recovery, at every command) then reads that folder, not the whole history.
        """
        path = self.path(batch_id)
        self._docs.pop(batch_id, None)
        self._refused.pop(batch_id, None)
        running = doc is not None and doc.get("status") == "PROCESSING"
        marker = self.folder / RUNNING / batch_id
        if running:
            ensure_folders(self.folder.parent, self.folder, marker.parent)
            marker.touch()
        queued = doc is not None and doc.get("status") == "LOCKED" and bool(doc.get("deferred"))
        queued_marker = self.folder / QUEUED / batch_id
        if queued:
            ensure_folders(self.folder.parent, self.folder, queued_marker.parent)
            queued_marker.touch()
        if doc is None:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                raise StoreError(
                    f"batch file {path} is a folder, not a file batchtui wrote; it was left "
                    "untouched (remove it yourself if it is not needed)"
                ) from None
        else:
            temp = self.folder / TEMP
            ensure_folders(self.folder.parent, self.folder, temp)
            from tinydb.table import Document

            from .storage import EMPTY, flush, open_database

            # The whole document is replaced: nothing of the old file is read.
            db = open_database(path, parsed=EMPTY, temp_dir=temp, lock=lock)
            db.table(BATCH_TABLE).insert(Document(doc, doc_id=BATCH_DOC_ID))
            flush(db)
        if not running:
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
        if not queued:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                queued_marker.unlink()
        return None if doc is None else signature_of(path.stat())

    def ids(self) -> set[str]:
        """Ids of the batches that have a file (one listing of the folder, no stat)."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return set()
        except NotADirectoryError:
            raise StoreError(f"database folder {self.folder} is not a folder") from None
        return {name[:-5] for name in names if is_batch_file_name(name)}

    def queued_ids(self) -> list[str]:
        """Ids of the batches marked as having a deferred start (one listing)."""
        try:
            return sorted(os.listdir(self.folder / QUEUED))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def running_ids(self) -> list[str]:
        """Ids of the batches marked running (one listing of a small folder)."""
        try:
            return sorted(os.listdir(self.folder / RUNNING))
        except (FileNotFoundError, NotADirectoryError):
            return []
