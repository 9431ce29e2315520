"""The index checked against the batch files: what a list shows.

The index records, with each entry, the signature of the batch file it summarises. An entry
whose file changed since (a running batch's latest flush, an edit, a writer killed between
its two writes) is taken from the file instead; a file the index does not know yet is read;
an entry without a file is gone.

A full list checks every entry (one `scandir` and a stat per batch). A page of the newest N
checks only what it shows: one listing of the folder (names, no stat) says which batches
exist, the index orders them (a batch's creation time never changes), and only the N newest
are stat'ed — so showing 30 costs the same stats at 5,000 batches as at 30.
"""

from __future__ import annotations

import os
from typing import Any

from ..core.errors import StoreError
from .batch_files import BatchFiles
from .documents import index_entry, order_key, signature_of, unreadable_doc
from .index import Entries


def _from_file(
    batches: BatchFiles, batch_id: str, stat: os.stat_result, known: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A fresh entry read from a batch file (None: the file went away)."""
    try:
        doc = batches.read(batch_id, stat)
    except StoreError:  # one unreadable file must not hide every other batch
        doc = unreadable_doc(batch_id, known)
    if doc is None:
        return None
    entry = index_entry(doc, signature_of(stat))
    entry["id"] = batch_id
    return entry


def current(entries: Entries, batches: BatchFiles) -> Entries:
    """Every batch's entry, each checked against its file (see the module's docstring)."""
    found: Entries = {}
    try:
        listing = list(os.scandir(batches.folder))
    except FileNotFoundError:
        listing = []
    except NotADirectoryError:
        raise StoreError(f"database folder {batches.folder} is not a folder") from None
    for item in listing:
        name = item.name
        if not name.endswith(".json") or name.startswith("."):
            continue
        batch_id = name[:-5]
        try:
            stat = item.stat()
        except FileNotFoundError:  # deleted while we looked
            continue
        entry = entries.get(batch_id)
        if entry is None or entry.get("sig") != list(signature_of(stat)):
            entry = _from_file(batches, batch_id, stat, entry)
            if entry is None:
                continue
        found[batch_id] = entry
    return found


def newest_checked(entries: Entries, batches: BatchFiles, newest: int) -> list[dict[str, Any]]:
    """Every batch's entry, oldest first, with the `newest` listable ones checked against
    their files (and as many broken ones as lie between them); older ones as indexed."""
    ids = batches.ids()
    candidates = [entry for batch_id, entry in entries.items() if batch_id in ids]
    for batch_id in ids.difference(entries):  # written since the index last heard of it
        try:
            stat = os.stat(batches.path(batch_id))
        except FileNotFoundError:
            continue
        if (entry := _from_file(batches, batch_id, stat, None)) is not None:
            candidates.append(entry)
    candidates.sort(key=order_key)
    shown = 0
    at = len(candidates) - 1
    while at >= 0 and shown < newest:
        entry = candidates[at]
        try:
            stat = os.stat(batches.path(entry["id"]))
        except FileNotFoundError:  # deleted since the listing
            del candidates[at]
            at -= 1
            continue
        if entry.get("sig") != list(signature_of(stat)):
            fresh = _from_file(batches, entry["id"], stat, entry)
            if fresh is None:
                del candidates[at]
                at -= 1
                continue
            candidates[at] = entry = fresh
        if not entry.get("broken"):
            shown += 1
        at -= 1
    return candidates
