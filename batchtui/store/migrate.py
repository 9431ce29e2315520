"""Schema 1 → 2: one file holding every batch becomes an index plus one file per batch.

Run on the first open of a schema-1 database, under the index lock (taken again by the same
process if it already holds it: a transaction that finds the index still in schema 1 migrates
it while it holds that lock):
1. a marker, `<db>.migrating`, says a migration has begun (every command that finds it
   finishes the migration before anything else: see `Repository._migrate_if_needed`);
2. the old file is copied to `<db>.v1-backup` (atomically);
3. every batch is written to its own file (atomically) and read back to compare; a batch
   file already there that reads as that batch is kept (the same migration, killed part-way,
   wrote it; or a change made to it since, which is newer than the old file);
4. the new index replaces the old file: the one step that makes the migration count. A kill
   before it leaves the schema-1 file as it was (the next command migrates again, keeping the
   batch files already written); a kill after it leaves a schema-2 database whose batch files
   are all written (the next command removes the backup and the marker);
5. the new database is read back and compared batch by batch; only then are the backup and
   the marker removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import StoreError
from .atomic import read_database_file, schema_of, sync_folder
from .documents import Signature, is_batch_id, signature_of

if TYPE_CHECKING:
    from .repository import Repository

BACKUP_SUFFIX = ".v1-backup"
MARKER_SUFFIX = ".migrating"


def backup_path(db: Path) -> Path:
    """Where the schema-1 file is kept until its migration is verified."""
    return db.with_name(db.name + BACKUP_SUFFIX)


def marker_path(db: Path) -> Path:
    """The file that says a migration of `db` has begun and not finished."""
    return db.with_name(db.name + MARKER_SUFFIX)


def migrate_single_file(repo: Repository) -> int:
    """Migrate `repo`'s schema-1 file in place, or finish a migration a killed process left
    (the index already in schema 2); the number of batches moved."""
    lock = repo._index_lock()
    repo._acquire(lock, repo.lock_timeout, "the index, to migrate it")
    try:
        data = read_database_file(repo.path)
        if data is None:
            return 0
        if schema_of(data) >= 2:  # migrated meanwhile, or killed after its last step
            _finish(repo)
            return 0
        return _migrate(repo, data)
    finally:
        lock.release()


def _migrate(repo: Repository, data: dict[str, Any]) -> int:
    from .documents import index_entry
    from .repository import LEGACY_TABLE

    table = data.get(LEGACY_TABLE, {})
    if not isinstance(table, dict):
        # Read as "no batches" it would be migrated to an empty database: refuse instead.
        raise StoreError(
            f"database {repo.path}: its '{LEGACY_TABLE}' table is a "
            f"{type(table).__name__}, not a TinyDB table; it was left untouched"
        )
    docs = [d for d in table.values() if _named(d)]
    marker = marker_path(repo.path)
    _write_marker(marker, repo.path)
    backup = backup_path(repo.path)
    _copy_atomically(repo.path, backup)
    repo._ensure_folder()
    entries: dict[str, dict[str, Any]] = {}
    expected: dict[str, dict[str, Any]] = {}
    for doc in docs:
        kept = _already_written(repo, doc["id"])
        signature: Signature | None
        if kept is not None:
            signature = signature_of(repo.batches.path(doc["id"]).stat())
            doc = kept
        else:
            signature = repo._write_batch(doc["id"], doc)
            if repo._read_batch(doc["id"]) != doc:
                raise StoreError(f"migrating {repo.path}: batch {doc['id']} did not read back")
        expected[doc["id"]] = doc
        entries[doc["id"]] = index_entry(doc, signature)
    repo._write_index(entries)
    repo.index_file.forget()
    for batch_id, doc in expected.items():  # verify the migrated database as a reader sees it
        if repo.get_raw(batch_id) != doc:
            _remove(marker)  # migrated, not verified: the backup stays for the user
            raise StoreError(
                f"migrating {repo.path}: batch {batch_id} differs after migration; "
                f"the old database is kept in {backup}"
            )
    _remove(backup)
    _remove(marker)
    return len(docs)


def _already_written(repo: Repository, batch_id: str) -> dict[str, Any] | None:
    """The batch file of `batch_id` if one is there and reads as that batch."""
    try:
        doc = repo._read_batch(batch_id)
    except StoreError:  # unreadable: written again from the old file
        return None
    return doc if doc is not None and doc.get("id") == batch_id else None


def _finish(repo: Repository) -> None:
    """The index is in schema 2 but the marker is still there (killed after the index was
    replaced): restore any batch of the backup whose file is missing, then remove the backup
    and the marker."""
    from .documents import index_entry
    from .repository import LEGACY_TABLE

    marker, backup = marker_path(repo.path), backup_path(repo.path)
    if not os.path.lexists(marker):
        return
    try:
        old = read_database_file(backup)
    except StoreError:
        old = None  # not ours to judge: left for the user, only the marker goes
    else:
        table = (old or {}).get(LEGACY_TABLE)
        missing = {
            doc["id"]: doc
            for doc in (table.values() if isinstance(table, dict) else ())
            if _named(doc) and not repo.batches.path(doc["id"]).exists()
        }
        if missing:
            repo._ensure_folder()
            repo.index_file.update(
                {bid: index_entry(doc, repo._write_batch(bid, doc)) for bid, doc in missing.items()}
            )
        _remove(backup)
    _remove(marker)


def _named(doc: object) -> bool:
    # A batch without a usable id cannot be named, in schema 1 either: it is left behind
    # (the backup keeps it until the migration verified).
    return isinstance(doc, dict) and is_batch_id(doc.get("id"))


def _write_marker(marker: Path, db: Path) -> None:
    text = f"batchtui began migrating {db} to one file per batch; the next command finishes it\n"
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    sync_folder(marker.parent)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    sync_folder(path.parent)


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
