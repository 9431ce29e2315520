"""The index and its journal: what the lists read instead of every batch file.

```
<db>.json                              the index: a TinyDB `index` table, one entry per batch
                                       (id, name, status, counts, times, and the signature of
                                       the batch file it was taken from)
<db>.batches/.index-journal.jsonl      index changes since the index was written whole
<db>.json.lock                         the index's lock
```

The index is a cache of what the batch files say (they are the truth), written only when a
batch appears, goes, or settles, under its own short lock. Changes are appended to the journal
(one write and fsync) instead of rewriting the whole index; past `JOURNAL_MAX` lines the
journal is folded into the index, written whole through TinyDB's `Table` in one atomic write.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ..core.errors import StoreError
from .atomic import as_tables, read_database_file, read_regular_file, schema_of
from .documents import Signature, signature_of
from .locking import ensure_folders
from .newest import NEWEST, NewestPage, read_newest, write_newest

INDEX_TABLE = "index"
JOURNAL = ".index-journal.jsonl"
"""Beside the batch files: index changes since the index was last written whole."""
JOURNAL_MAX = 256

Entries = dict[str, dict[str, Any]]
"""Batch id → its index entry."""


class LegacyDatabase(Exception):
    """The database file is in schema 1 (every batch in it): migrate it before reading."""


class IndexFile:
    """The index file and its journal, parsed once per version of either."""

    def __init__(self, path: Path, journal: Path) -> None:
        self.path = path
        self.journal = journal
        self._journal_lines = 0
        self._cache: tuple[object, Entries] | None = None

    def forget(self) -> None:
        """Drop what was parsed (the next read parses the files again)."""
        self._cache = None

    def entries(self) -> Entries:
        """The index as stored, the journal applied (shared: read it, do not change it);
        LegacyDatabase for a schema-1 file, StoreError for one that cannot be read."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        except NotADirectoryError:
            raise StoreError(f"database folder {self.path.parent} is not a folder") from None
        except OSError:
            stat = None
        signature = signature_of(stat) if stat is not None else None
        journal_key = self.journal_signature()
        key = (signature, journal_key)
        if signature is not None and self._cache and self._cache[0] == key:
            return self._cache[1]
        # Read as `AtomicStorage` reads it, but not through `Table` (nor is TinyDB imported
        # for it): iterating a table copies every document, and a list at 5,000 batches
        # would pay that for the 30 it shows. Nothing changes what was read here.
        data = as_tables(read_database_file(self.path))
        if data and schema_of(data) < 2:
            raise LegacyDatabase(self.path)
        table = data.get(INDEX_TABLE) if data else None
        entries: Entries = {
            e["id"]: e for e in (table.values() if table else ()) if isinstance(e.get("id"), str)
        }
        self._journal_lines = self._apply_journal(entries) if journal_key else 0
        if signature is not None:
            self._cache = (key, entries)
        return entries

    def journal_signature(self) -> Signature | None:
        """The journal file's signature; None when there is none."""
        try:
            return signature_of(self.journal.stat())
        except OSError:
            return None

    def _apply_journal(self, entries: Entries) -> int:
        """Apply the journal's lines over `entries`; how many lines it has. A line torn by a
        crash is skipped (its batch's file says the truth; readers see the mismatch)."""
        try:
            raw = read_regular_file(self.journal, what="index journal", follow=False)
        except StoreError:  # not a file batchtui wrote: the batch files tell what it would
            return 0
        if raw is None:
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

    def update(self, changes: dict[str, dict[str, Any] | None]) -> None:
        """Record entry changes (None: removed); call holding the index lock. Appended to the
        journal (one write and fsync), which is folded into the index once it is long."""
        entries = self.entries()  # raises for an index that cannot be read
        merged = dict(entries)
        for batch_id, entry in changes.items():
            if entry is None:
                merged.pop(batch_id, None)
            else:
                merged[batch_id] = entry
        if not self.path.exists() or self._journal_lines + len(changes) > JOURNAL_MAX:
            self.write(merged)
            return
        data = b"".join(
            b"\n" + json.dumps({"id": bid, "entry": entry}, separators=(",", ":")).encode()
            for bid, entry in changes.items()
        )
        ensure_folders(self.path.parent, self.journal.parent)
        fd = self._open_journal()
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._cache = None
        self._write_newest(merged)

    def check_journal(self) -> None:
        """StoreError (one line) if something batchtui did not write is at the journal's name
        (a folder, a pipe, a link): the index cannot be changed until it is moved away."""
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            if not S_ISREG(os.lstat(self.journal).st_mode):
                raise StoreError(
                    f"index journal {self.journal} is not a regular file: it is not a file "
                    "batchtui wrote; move it away"
                )

    def _open_journal(self) -> int:
        """The journal, opened to append; StoreError (one line) for anything at its name that
        is not a regular file (a pipe would block the append, a link write elsewhere)."""
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            fd = os.open(self.journal, flags | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise StoreError(
                f"index journal {self.journal} cannot be written ({exc.strerror}): it is not "
                "a file batchtui wrote; move it away"
            ) from None
        if not S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StoreError(
                f"index journal {self.journal} is not a regular file: it is not a file "
                "batchtui wrote; move it away"
            )
        return fd

    def write(self, entries: Entries) -> None:
        """Write the index whole (call holding the index lock); the journal is then empty."""
        from .storage import EMPTY, flush, open_database  # TinyDB: imported for writes only

        ensure_folders(self.path.parent, self.journal.parent)
        self.check_journal()  # refused before the index is replaced
        db = open_database(self.path, parsed=EMPTY)  # replaced whole: the old one is not read
        db.table(INDEX_TABLE).insert_multiple(entries.values())  # ids 1, 2, … in order
        flush(db)
        # The index now holds all the journal said (a crash before this unlink only means
        # the journal's lines are applied again: the same entries).
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()
        self._journal_lines = 0
        # What was just written is what a read would parse: keep it (no re-read of our own).
        self._cache = ((signature_of(self.path.stat()), None), entries)
        self._write_newest(entries)

    def state(self) -> tuple[Signature | None, Signature | None]:
        """The signatures of the index and of its journal (None: no such file)."""
        try:
            index = signature_of(self.path.stat())
        except OSError:
            index = None
        return index, self.journal_signature()

    def read_newest(self) -> NewestPage | None:
        """The newest page (see `newest`) if it was written for the index and journal as
        they are now; None otherwise."""
        index, journal = self.state()
        if index is None:
            return None
        return read_newest(self.journal.parent / NEWEST, index, journal)

    def _write_newest(self, entries: Entries) -> None:
        index, journal = self.state()
        if index is not None:
            write_newest(self.journal.parent / NEWEST, entries, index, journal)
