"""What every part of the service shares: the repository, the clock, id making, and the one
way to change a batch (resolve, check the action, change, save — all under the lock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core.actions import require
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

    def in_tx(self, tx: Transaction, ref: str) -> Batch:
        """The batch `ref` names, read inside `tx` (only that batch is validated)."""
        batch = tx.get(resolve_batch(ref, tx.index()))
        assert batch is not None  # the id came from this transaction's own documents
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
