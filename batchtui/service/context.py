"""What every part of the service shares: the repository, the clock, id making, and the one
way to change a batch (resolve, check the action, change, save — all under the lock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core.actions import require
from ..core.errors import NotFoundError
from ..store import Repository, Transaction
from .refs import resolve_batch

if TYPE_CHECKING:
    from ..core.models import Batch


@dataclass
class ServiceContext:
    repo: Repository
    clock: Callable[[], datetime]
    new_id: Callable[[], str]
    flush_interval: float

    def resolve(self, ref: str) -> str:
        """The id of the batch `ref` names. An exact id (what scripts pass) is found by its
        file alone; anything else is looked up in the index of every batch."""
        exact = ref.strip()
        if self.repo.has(exact):
            return exact
        return resolve_batch(ref, self.repo.index())

    def in_tx(self, tx: Transaction, ref: str) -> Batch:
        """The batch `ref` names, read (locked) inside `tx`; only that batch is validated."""
        batch_id = self.resolve(ref)
        batch = tx.get(batch_id)
        if batch is None:
            raise NotFoundError(f"batch '{batch_id}' was deleted meanwhile")
        return batch

    def find(self, ref: str) -> Batch:
        """The batch `ref` names, as stored now (a lock-free snapshot)."""
        batch_id = self.resolve(ref)
        batch = self.repo.get(batch_id)
        if batch is None:
            raise NotFoundError(f"batch '{batch_id}' was deleted meanwhile")
        return batch

    def mutate(self, ref: str, action: str, change: Callable[[Batch], Any]) -> Any:
        """Resolve, check the action is allowed, apply `change`, save — all under the lock.
        A refusal (from `require` or from `change`) leaves the database as it was."""
        with self.repo.transaction() as tx:
            batch = self.in_tx(tx, ref)
            require(batch, action)
            result = change(batch)
            batch.updated_at = self.clock()
            tx.save(batch)
        return result
