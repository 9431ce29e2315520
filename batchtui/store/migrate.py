"""Schema 1 → 2: one file holding every batch becomes an index plus one file per batch.

Run once, on the first open of a schema-1 database, under the index lock:
1. every batch is written to its own file (atomically) and read back to compare;
2. the old file is copied to `<db>.v1-backup` (atomically);
3. the new index replaces the old file: the one step that makes the migration count. A crash
   before it leaves the schema-1 file as it was (the next open migrates again, from scratch);
   a crash after it leaves a schema-2 database whose batch files are all written.
4. the new database is read back and compared batch by batch; only then is the backup removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from ..core.errors import StoreError
from .atomic import read_database_file, schema_of

if TYPE_CHECKING:
    from .repository import Repository

BACKUP_SUFFIX = ".v1-backup"


def migrate_single_file(repo: Repository) -> int:
    """Migrate `repo`'s schema-1 file in place; the number of batches moved."""
    from .documents import index_entry
    from .repository import LEGACY_TABLE

    lock = repo._index_lock()
    repo._ensure_folder()
    repo._acquire(lock, repo.lock_timeout, "the index, to migrate it")
    try:
        data = read_database_file(repo.path)
        if data is None or schema_of(data) >= 2:
            return 0  # another process migrated it while we waited
        table = data.get(LEGACY_TABLE, {})
        if not isinstance(table, dict):
            # Read as "no batches" it would be migrated to an empty database: refuse instead.
            raise StoreError(
                f"database {repo.path}: its '{LEGACY_TABLE}' table is a "
                f"{type(table).__name__}, not a TinyDB table; it was left untouched"
            )
        docs = [d for d in table.values() if _named(d)]
        entries: dict[str, dict[str, Any]] = {}
        for doc in docs:
            signature = repo._write_batch(doc["id"], doc)
            if repo._read_batch(doc["id"]) != doc:
                raise StoreError(f"migrating {repo.path}: batch {doc['id']} did not read back")
            entries[doc["id"]] = index_entry(doc, signature)
        backup = repo.path.with_name(repo.path.name + BACKUP_SUFFIX)
        _copy_atomically(repo.path, backup)
        repo._write_index(entries)
        repo.index_file.forget()
        for doc in docs:  # verify the migrated database as a reader will see it
            if repo.get_raw(doc["id"]) != doc:
                raise StoreError(
                    f"migrating {repo.path}: batch {doc['id']} differs after migration; "
                    f"the old database is kept in {backup}"
                )
        os.unlink(backup)
        return len(docs)
    finally:
        lock.release()


def _named(doc: object) -> bool:
    # A batch without a usable id cannot be named, in schema 1 either: it is left behind
    # (the backup keeps it until the migration verified).
    return isinstance(doc, dict) and isinstance(doc.get("id"), str) and doc["id"].isalnum()


def _copy_atomically(source: os.PathLike[str], target: os.PathLike[str]) -> None:
    folder = os.path.dirname(os.fspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".migrate.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
