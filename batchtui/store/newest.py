"""The newest page: the index's newest entries and every batch id, in a small file.

```
<db>.batches/.index-newest.json   a TinyDB file: `newest` (the last NEWEST_KEEP entries of
                                  the index, oldest first) and `all` (every batch id in
                                  order, the broken ones, and the index and journal
                                  signatures it was derived from)
```

A list of the newest 30 at 5,000 batches would otherwise parse the whole index (1.3 MB,
~5,000 dicts: most of its cost, measured). This file is written with the index, under the
index lock, whenever the index or its journal changes; a reader uses it only while the index
and the journal are exactly the versions it names (a signature each), so it is never behind
them. Like the index it is a cache: the batch files stay the truth, and what it shows is
checked against them (see `listing`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, NamedTuple

from ..core.errors import StoreError
from .atomic import as_tables, read_database_file
from .documents import Signature, order_key

NEWEST = ".index-newest.json"
"""Beside the batch files."""
NEWEST_KEEP = 100
"""Entries kept: a page of up to half as many is served from this file."""
NEWEST_TABLE = "newest"
ALL_TABLE = "all"


class NewestPage(NamedTuple):
    """What the newest-page file holds."""

    entries: list[dict[str, Any]]
    """The newest index entries, oldest first."""
    ids: list[str]
    """Every batch id in the index, oldest first."""
    broken: list[tuple[str, str]]
    """(id, name) of every entry marked broken."""


def _of(index: Signature | None, journal: Signature | None) -> list[Any]:
    return [list(index) if index else None, list(journal) if journal else None]


def write_newest(
    path: Path, entries: dict[str, dict[str, Any]], index: Signature, journal: Signature | None
) -> None:
    """Write the newest-page file for `entries` (the index with its journal applied), the
    index and journal being at these signatures; call holding the index lock. Failing to
    write it changes nothing that matters (readers then read the index), so it never fails
    the change that led to it."""
    from .storage import EMPTY, flush, open_database  # TinyDB: imported for writes only

    # An entry a hand-edited journal left without an id or a date, a full disk: then there
    # is no newest page, and readers read the index (the old file no longer matches it).
    with contextlib.suppress(KeyError, TypeError, StoreError):
        ordered = sorted(entries.values(), key=order_key)
        summary = {
            "of": _of(index, journal),
            "ids": [entry["id"] for entry in ordered],
            "broken": [[e["id"], str(e.get("name") or "")] for e in ordered if e.get("broken")],
        }
        db = open_database(path, parsed=EMPTY)
        db.table(NEWEST_TABLE).insert_multiple(ordered[-NEWEST_KEEP:])
        db.table(ALL_TABLE).insert(summary)
        flush(db)


def read_newest(path: Path, index: Signature, journal: Signature | None) -> NewestPage | None:
    """The newest page, if the file exists and was written for exactly this index and
    journal; None otherwise (the caller reads the index instead)."""
    try:
        data = as_tables(read_database_file(path, what="newest page", follow=False))
    except StoreError:
        return None
    if not data:
        return None
    summary = next(iter(data.get(ALL_TABLE, {}).values()), None)
    if not summary or summary.get("of") != _of(index, journal):
        return None
    entries = list(data.get(NEWEST_TABLE, {}).values())
    try:
        ids = list(summary["ids"])
        broken = [(str(bid), str(name)) for bid, name in summary["broken"]]
    except (KeyError, TypeError, ValueError):
        return None
    if not all(isinstance(entry.get("id"), str) for entry in entries):
        return None
    return NewestPage(entries, ids, broken)
