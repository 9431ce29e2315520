"""TinyDB document files that are never half written, and refused when unreadable.

Every database file (the index, each batch) is in TinyDB's JSON layout (`{table: {doc id:
document}}`, plus a `_meta` table naming batchtui and the schema), so `TinyDB(path)` opens any
of them. TinyDB's own `JSONStorage` truncates and rewrites in place: a kill mid-write leaves a
corrupt file. Here every write goes to a temporary file in the same folder, is fsynced, and
replaces the old file with `os.replace`, so a crash leaves the old or the new file, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import orjson

from ..core.errors import StoreError

SCHEMA_VERSION = 2
"""1: one file with every batch. 2: a small index file plus one file per batch."""
META_TABLE = "_meta"
APP_TAG = "batchtui"

Tables = dict[str, dict[str, Any]]
"""A database file as TinyDB sees it: table name → document id → document."""


MAX_FILE_BYTES = 1 << 30
"""The largest database file read (the index, a batch, the newest page): a batch of the most
items, each with the longest history, stays far below it; a file above it was not written by
batchtui and is refused from its size, without reading it."""


def read_database_file(
    path: Path, *, what: str = "database", follow: bool = True
) -> dict[str, Any] | None:
    """Parse the database file; None when it does not exist yet.

    Raises `StoreError` (naming the path and the reason) for anything we must not overwrite:
    an empty or truncated file, text that is not JSON, JSON from another program, or a file
    written by a newer batchtui. `what` names the file in those messages (a database given
    with --db, or a file inside its folders); `follow=False` refuses a symbolic link (files
    batchtui writes itself in its folders are never links).
    """
    raw = read_regular_file(path, what=what, follow=follow)
    if raw is None:
        return None
    if not raw.strip():
        hint = "move it away or pass another --db" if what == "database" else "left untouched"
        raise StoreError(f"{what} {path} is empty (not written by batchtui); {hint}")
    try:
        data = _parse(raw)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, too deep, huge numbers
        raise StoreError(
            f"{what} {path} is not valid JSON ({exc.__class__.__name__} at byte "
            f"{getattr(exc, 'pos', '?')}); it was left untouched"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get(META_TABLE), dict):
        raise StoreError(f"{what} {path} was not written by batchtui; it was left untouched")
    meta = next(iter(data[META_TABLE].values()), None)
    if not isinstance(meta, dict) or meta.get("app") != APP_TAG:
        raise StoreError(f"{what} {path} was not written by batchtui; it was left untouched")
    schema = meta.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise StoreError(
            f"{what} {path} is malformed: its schema is {str(schema)[:40]!r}, not a version "
            "number; it was left untouched"
        )
    if schema > SCHEMA_VERSION:
        raise StoreError(
            f"{what} {path} has schema {schema!r}, newer than this batchtui understands "
            f"({SCHEMA_VERSION}); upgrade batchtui"
        )
    return data


def read_regular_file(path: Path, *, what: str = "database", follow: bool = True) -> bytes | None:
    """The bytes of a regular file; None if there is none. Opened without blocking and checked
    before reading: a FIFO, a device or a socket at the path would block or never end, a file
    larger than `MAX_FILE_BYTES` is refused from its size."""
    hint = "; pass a file with --db" if what == "database" else "; it was left untouched"
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StoreError(f"{what} {path} is a folder, not a file{hint}") from None
    except PermissionError:
        raise StoreError(f"{what} {path} cannot be read: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise StoreError(f"{what} {path} is a symbolic link, not a file{hint}") from None
        raise StoreError(f"{what} {path} cannot be opened: {exc.strerror}") from None
    info = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(info.st_mode):
        problem = "is a folder, not a file"
    elif not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file (a pipe, device or socket)"
    elif info.st_size > MAX_FILE_BYTES:
        problem = (
            f"is {info.st_size / (1 << 30):.1f} GiB, larger than batchtui writes "
            f"({MAX_FILE_BYTES >> 30} GiB at most)"
        )
    if problem is not None:
        os.close(fd)
        raise StoreError(f"{what} {path} {problem}{hint}")
    with os.fdopen(fd, "rb") as handle:
        try:
            raw = handle.read(info.st_size + 1)
            # A file still growing past its fstat is read on in steps, never past the limit.
            while len(raw) <= MAX_FILE_BYTES and (more := handle.read(1 << 20)):
                raw += more
        except OSError as exc:
            raise StoreError(f"{what} {path} cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise StoreError(f"{what} {path} is larger than batchtui writes{hint}")
    return raw


PAUSE_GC_ABOVE = 1 << 16
"""Bytes of JSON above which the cyclic garbage collector is paused while it is parsed."""


def _parse(raw: bytes) -> Any:
    # orjson parses a large index or batch 2-3x faster than json; anything it refuses (NaN,
    # integers beyond 64 bits, malformed text) goes to json, which accepts what it ever
    # wrote and words the error for anything else.
    # Parsing makes thousands of dicts, each counted towards a collection that then walks
    # every object of the process: a third of the parse of a 5,000-batch index (measured).
    # Parsed JSON holds no cycle, so there is nothing for a collection to find.
    paused = len(raw) > PAUSE_GC_ABOVE and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
    finally:
        if paused:
            gc.enable()


def _encode(data: dict[str, Any]) -> bytes:
    # orjson writes the same bytes as json.dumps(ensure_ascii=False, separators=(",", ":"))
    # about 7x faster (a 20,000-item batch: 2.6 ms vs 18 ms, written at every flush of a
    # run); what it cannot encode (a lone surrogate, a huge integer) json encodes, or refuses.
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def schema_of(data: dict[str, Any]) -> int:
    """The schema a parsed database file was written with."""
    return int(next(iter(data[META_TABLE].values()))["schema"])


def check_writable(path: Path) -> None:
    """Refuse to replace a file its owner made read-only (the rename would succeed even so:
    honour the owner's "read-only" instead)."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        if not path.stat().st_mode & stat.S_IWUSR:
            raise StoreError(
                f"database {path} is read-only (chmod u+w to allow changes); nothing was changed"
            )


def write_database_file(path: Path, data: dict[str, Any], *, temp_dir: Path | None = None) -> None:
    """Write `data` atomically with mode 0600 (temp file, fsync, rename, fsync the folder).

    `temp_dir` (on the same file system) holds the temporary file instead of the target's
    folder: a folder of thousands of batch files is then never listed to tidy up after a
    writer killed mid-write, only that small folder."""
    data.setdefault(META_TABLE, {"1": {"app": APP_TAG, "schema": SCHEMA_VERSION}})
    try:
        blob = _encode(data)  # before anything is touched: a refusal leaves no temp file
    except (UnicodeEncodeError, ValueError, TypeError) as exc:
        raise StoreError(f"database {path} was not written: {exc}") from None
    check_writable(path)
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=temp_dir if temp_dir else folder
        )
    except FileNotFoundError:
        raise StoreError(f"database folder {folder} does not exist") from None
    except PermissionError:
        raise StoreError(f"database folder {folder} is not writable") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        _remove_stale_temps(path, Path(tmp).parent, keep=tmp)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StoreError(f"database {path} could not be written: {exc.strerror}") from None
        raise
    sync_folder(folder)


def sync_folder(folder: Path) -> None:
    """Make the names just written in `folder` durable (its entries, not the files' data)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_stale_temps(path: Path, folder: Path, keep: str) -> None:
    """Delete temp files of writers of `path` killed mid-write (safe: we hold its lock)."""
    for stale in folder.glob(f".{path.name}.*.tmp"):
        if str(stale) != keep:
            with contextlib.suppress(OSError):
                stale.unlink()


def as_tables(data: dict[str, Any] | None) -> Tables | None:
    """`data` (a parsed database file) with every table a mapping of documents, as TinyDB's
    `Table` expects: a table that is not a mapping reads as empty and a document that is not
    an object is left out (TinyDB would fail on either with an unrelated error; the readers
    then say what is missing)."""
    if data is None:
        return None
    if all(
        isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values())
        for table in data.values()
    ):
        return data
    return {
        name: (
            {key: doc for key, doc in table.items() if isinstance(doc, dict)}
            if isinstance(table, dict)
            else {}
        )
        for name, table in data.items()
    }
