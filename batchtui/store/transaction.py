"""A transaction: one locked unit of work over the batches it touches.

Each batch is locked when the transaction first reads or saves it, and read fresh from its
file; changes reach the disk only if the block ends without error (then each changed batch
file is replaced, and the index if what it shows changed). Locks are always taken in one
order — the batches, then the index — so two transactions never deadlock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .atomic import check_writable
from .documents import SETTLED, Signature, check_id, index_entry, stored_form, validated
from .locking import acquire

if TYPE_CHECKING:
    from filelock import FileLock

    from ..core.models import Batch
    from .repository import Repository


class Transaction:
    """One locked unit of work over any batches it touches (see the module's docstring)."""

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
        check_id(batch_id)
        lock = self.repo.batches.lock(batch_id)
        acquire(lock, self.timeout, f"batch {batch_id}", self.repo.path)
        self._locks[batch_id] = lock

    def get_raw(self, batch_id: str) -> dict[str, Any] | None:
        """The stored document as is (no validation: for hot paths that read a field or two)."""
        if batch_id in self._changed:
            doc = self._changed[batch_id]
            return None if doc is None else dict(doc)
        self._lock(batch_id)
        if batch_id not in self._read:
            self._read[batch_id] = self.repo.batches.read(batch_id)
        doc = self._read[batch_id]
        return None if doc is None else dict(doc)

    def get(self, batch_id: str) -> Batch | None:
        """One batch, validated (None if there is none)."""
        doc = self.get_raw(batch_id)
        return None if doc is None else validated(doc, self.repo.batches.path(batch_id))

    def index(self) -> list[tuple[str, str]]:
        """(id, name) of every stored batch, oldest first, without validating any of them."""
        return self.repo.index()

    def all(self) -> list[Batch]:
        """Every batch, oldest first, each locked and validated."""
        return [batch for bid, _ in self.index() if (batch := self.get(bid)) is not None]

    def save(self, batch: Batch) -> None:
        """Store a batch (written when the transaction commits)."""
        self.save_raw(stored_form(batch))

    def save_raw(self, doc: dict[str, Any]) -> None:
        """Store an already serialised batch document (replacing the one with its id, whole:
        stored documents leave out null fields, so a field that became None disappears)."""
        batch_id = doc["id"]
        self._lock(batch_id)
        self._changed[batch_id] = doc

    def delete(self, batch_id: str) -> None:
        """Remove a batch (when the transaction commits)."""
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
            acquire(index_lock, self.timeout, "the index", repo.path)
        try:
            if index_lock is not None:
                # Refuse before any batch file is written, so a refusal changes nothing: a
                # read-only index, or one that cannot be read (never overwritten).
                check_writable(repo.path)
                repo._index_entries()
                repo.index_file.check_journal()
            written: dict[str, Signature | None] = {}
            for batch_id, doc in self._changed.items():
                written[batch_id] = repo.batches.write(batch_id, doc, self._locks[batch_id])
            if index_lock is not None:
                repo.index_file.update(
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
        """Release every lock the transaction took."""
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()
