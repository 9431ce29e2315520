"""The index checked against the batch files: what a list shows.

The index records, with each entry, the signature of the batch file it summarises. An entry
whose file changed since (a running batch's latest flush, an edit, a writer killed between
its two writes) is taken from the file instead; a file the index does not know yet is read;
an entry without a file is gone.

A full list checks every entry (one `scandir` and a stat per batch). A page of the newest N
checks only what it shows: the newest-page file (see `newest`) gives the newest entries and
every id, one listing of the folder (names, no stat) confirms the ids are the batch files
there, and only the N shown are stat'ed — so showing 30 neither parses the whole index nor
stats 5,000 files. Without a usable newest-page file the index is parsed and ordered, and
still only the N newest are stat'ed. Either way older batches are counted as indexed: one
broken behind batchtui's back is named when a page reaches it, or by a full list.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from ..core.errors import StoreError
from .batch_files import BatchFiles, is_batch_file_name
from .documents import index_entry, order_key, signature_of, unreadable_doc
from .index import Entries
from .newest import NewestPage


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
    if known is not None and not entry.get("broken") and same_but_signature(known, entry):
        # The same batch in a new file (a copy of the database, a restore, a touch): what
        # the index says is right but for the signature, which it can be given back.
        batches.resigned[batch_id] = entry
    return entry


def same_but_signature(known: dict[str, Any], fresh: dict[str, Any]) -> bool:
    """Whether two index entries say the same of a batch, whatever file each was taken from."""
    return {k: v for k, v in known.items() if k != "sig"} == {
        k: v for k, v in fresh.items() if k != "sig"
    }


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
        if not is_batch_file_name(name):
            continue
        batch_id = name[:-5]
        try:
            stat = item.stat(follow_symlinks=False)  # a link is refused when read, not followed
        except FileNotFoundError:  # deleted while we looked
            continue
        entry = entries.get(batch_id)
        if entry is None or entry.get("sig") != list(signature_of(stat)):
            entry = _from_file(batches, batch_id, stat, entry)
            if entry is None:
                continue
        found[batch_id] = entry
    return found


class Window(NamedTuple):
    """What a page of a list is made from."""

    entries: list[dict[str, Any]]
    """Entries oldest first, ending with the newest ones, checked against their files."""
    total: int
    """How many batches there are (broken ones included)."""
    broken: list[dict[str, Any]]
    """Every entry marked broken, in `entries` or older (at least an id and a name)."""


def everything(entries: Entries, batches: BatchFiles) -> Window:
    """Every batch, each checked against its file."""
    ordered = sorted(current(entries, batches).values(), key=order_key)
    return Window(ordered, len(ordered), [e for e in ordered if e.get("broken")])


def newest_from_page(page: NewestPage, batches: BatchFiles, newest: int) -> Window | None:
    """The `newest` listable batches from the newest-page file, each checked against its
    file; None when that file cannot tell (a batch file the index does not know, one it
    knows gone, or more broken or deleted batches among the newest than it keeps)."""
    try:
        names = set(os.listdir(batches.folder))
    except OSError:
        return None
    expected = set(map("{}.json".format, page.ids))
    if len(expected) != len(page.ids) or not names.issuperset(expected):
        return None
    if any(is_batch_file_name(name) for name in names - expected):
        return None
    total = len(page.ids)
    window: list[dict[str, Any]] = []
    shown = 0
    for entry in reversed(page.entries):
        if shown == newest:
            break
        checked = _checked(batches, entry)
        if checked is None:  # deleted since the listing
            total -= 1
            continue
        window.append(checked)
        shown += not checked.get("broken")
    else:
        if len(page.entries) < len(page.ids):
            return None  # older entries than the page keeps are needed
    window.reverse()
    seen = {entry["id"] for entry in window}
    broken = [e for e in window if e.get("broken")]
    broken += [{"id": bid, "name": name} for bid, name in page.broken if bid not in seen]
    return Window(window, total, broken)


def newest_checked(entries: Entries, batches: BatchFiles, newest: int) -> Window:
    """Every batch's entry, oldest first, with the `newest` listable ones checked against
    their files (and as many broken ones as lie between them); older ones as indexed."""
    ids = batches.ids()
    candidates = [entry for batch_id, entry in entries.items() if batch_id in ids]
    for batch_id in ids.difference(entries):  # written since the index last heard of it
        try:
            stat = os.lstat(batches.path(batch_id))
        except FileNotFoundError:
            continue
        if (entry := _from_file(batches, batch_id, stat, None)) is not None:
            candidates.append(entry)
    candidates.sort(key=order_key)
    shown = 0
    at = len(candidates) - 1
    while at >= 0 and shown < newest:
        checked = _checked(batches, candidates[at])
        if checked is None:
            del candidates[at]
        else:
            candidates[at] = checked
            shown += not checked.get("broken")
        at -= 1
    return Window(candidates, len(candidates), [e for e in candidates if e.get("broken")])


def _checked(batches: BatchFiles, entry: dict[str, Any]) -> dict[str, Any] | None:
    """`entry` if its file is the one it was taken from, else what the file says now
    (None: the file is gone)."""
    try:
        stat = os.lstat(batches.path(entry["id"]))
    except FileNotFoundError:
        return None
    if entry.get("sig") == list(signature_of(stat)):
        return entry
    return _from_file(batches, entry["id"], stat, entry)
