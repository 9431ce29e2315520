"""One view of this host's queue: which item runs in which slot (with the slot's environment:
its GPU), who waits for a slot and in what order, and every batch that has a claim on the box.

Read-only: the slot folder's tickets are read without sweeping stale ones, and nothing is
created. The line is the host's (every database and user sharing the slot folder); batches
and items are named where this database knows them.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.models import Batch
from ..core.pausing import PauseMode, pause_mark
from ..core.settings import load_host_settings
from ..core.states import BatchStatus, ItemStatus
from ..core.symbols import seconds
from ..engine.host_pause import read_host_pause
from ..engine.slots import POOLS_FOLDER, waiting_in
from .context import ServiceContext


@dataclass(frozen=True)
class SlotUse:
    """A running item and the slot it holds."""

    slot: int | None
    env: dict[str, str]
    batch_id: str
    batch_name: str
    item: str
    """The item's label (`3`, `3.v2`)."""
    since: datetime | None
    pool: str | None = None
    """The named pool of the slot (a pipeline stage's `pool`), None: the host's own."""


@dataclass(frozen=True)
class Waiter:
    """An item waiting for a host slot, at its place in line (1: next)."""

    position: int
    priority: int
    asked_at: datetime
    batch_id: str
    batch_name: str | None
    """None: a batch of another database (or user) sharing the slots."""
    item: str | None
    pid: int
    pool: str | None = None
    """The named pool it waits for, None: the host's own slots."""


@dataclass(frozen=True)
class BatchClaim:
    """A batch with a claim on the box: running now."""

    batch_id: str
    name: str
    state: str
    priority: int
    running: int
    to_go: int


@dataclass(frozen=True)
class QueueTable:
    """One table of the queue's view: a title, column names, rows of plain text."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _slot_text(slot: int | None, pool: str | None) -> str:
    """A slot as the view names it: `0`, or a pool's `gpu 0`."""
    if slot is None:
        return "—"
    return f"{pool} {slot}" if pool else str(slot)


def _ago(when: datetime | None, now: datetime) -> str:
    return seconds((now - when).total_seconds()) if when is not None else "—"


@dataclass(frozen=True)
class HostQueue:
    """The host's queue as it is now."""

    host: str
    slots: int | None
    """The host limit (None: none; each batch runs its own concurrency)."""
    slots_dir: Path
    pools: dict[str, int]
    running: list[SlotUse] = field(default_factory=list)
    waiting: list[Waiter] = field(default_factory=list)
    batches: list[BatchClaim] = field(default_factory=list)
    paused: PauseMode | None = None
    """The host's pause (`pause --all`), or None."""

    @property
    def free(self) -> int | None:
        """Host slots free now (None without a host limit)."""
        if self.slots is None:
            return None
        held = {use.slot for use in self.running if use.slot is not None}
        return max(0, self.slots - len(held))

    @property
    def headline(self) -> str:
        """One line: the host, its limit and what is free, its pools, whether it is paused."""
        if self.slots is None:
            limit = "no host limit (each batch runs its own concurrency)"
        else:
            limit = f"{self.slots} slot{'s' if self.slots != 1 else ''}, {self.free} free"
        pools = "".join(f" · pool {name}: {size}" for name, size in sorted(self.pools.items()))
        paused = f" · host paused{pause_mark(self.paused)} (resume --all)" if self.paused else ""
        return f"host {self.host}: {limit}{pools}{paused}"

    def tables(self, now: datetime) -> list[QueueTable]:
        """The queue as the CLI and the TUI show it: running, waiting, the batches here
        (plain text cells), always these three in this order."""
        running = QueueTable(
            "RUNNING",
            ("SLOT", "ENV", "BATCH", "ITEM", "FOR"),
            [
                (
                    _slot_text(use.slot, use.pool),
                    " ".join(f"{k}={v}" for k, v in sorted(use.env.items())) or "—",
                    use.batch_name, use.item, _ago(use.since, now),
                )
                for use in self.running
            ],
        )  # fmt: skip
        waiting = QueueTable(
            "WAITING FOR A SLOT (served in this order)",
            ("#", "BATCH", "ITEM", "PRIORITY", "WAITING"),
            [
                (
                    str(w.position), w.batch_name or f"{w.batch_id} (another database)",
                    (w.item or "—") + (f" (pool {w.pool})" if w.pool else ""),
                    str(w.priority), _ago(w.asked_at, now),
                )
                for w in self.waiting
            ],
        )  # fmt: skip
        batches = QueueTable(
            "BATCHES HERE",
            ("BATCH", "STATE", "PRIORITY", "RUNNING", "TO GO"),
            [
                (b.name, b.state, str(b.priority), str(b.running), str(b.to_go))
                for b in self.batches
            ],
        )
        return [running, waiting, batches]

    def as_json(self) -> dict[str, Any]:
        """The queue as the CLI's `--json` and the API answer it."""
        return {
            "host": self.host,
            "slots": self.slots,
            "free": self.free,
            "slots_dir": str(self.slots_dir),
            "pools": self.pools,
            "paused": self.paused,
            "running": [
                {
                    "slot": use.slot, "pool": use.pool, "env": use.env,
                    "batch_id": use.batch_id,
                    "batch": use.batch_name, "item": use.item,
                    "since": use.since.isoformat() if use.since else None,
                }
                for use in self.running
            ],
            "waiting": [
                {
                    "position": w.position, "priority": w.priority,
                    "asked_at": w.asked_at.isoformat(), "batch_id": w.batch_id,
                    "batch": w.batch_name, "item": w.item, "pid": w.pid, "pool": w.pool,
                }
                for w in self.waiting
            ],
            "batches": [
                {
                    "id": b.batch_id, "name": b.name, "state": b.state,
                    "priority": b.priority, "running": b.running, "to_go": b.to_go,
                }
                for b in self.batches
            ],
        }  # fmt: skip


class HostQueueReads:
    """Builds the host's queue view from the settings, the slot folder and the store."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def host_queue(self) -> HostQueue:
        """The queue now (ValidationError, one line, for settings that cannot be read)."""
        settings = load_host_settings()
        host = socket.gethostname()
        # Only running batches are read whole: a list of summaries finds them.
        summaries = self.ctx.repo.summaries()
        processing = [s.id for s in summaries if s.status is BatchStatus.PROCESSING]
        found = (self.ctx.repo.get(batch_id) for batch_id in processing)
        batches = [b for b in found if b is not None and _claims(b, host)]
        known = {b.id: b for b in batches}
        running: list[SlotUse] = []
        claims: list[BatchClaim] = []
        for batch in batches:
            # (A pipeline's item between two stages is RUNNING but holds no slot: it waits.)
            run = [i for i in batch.items if i.status is ItemStatus.RUNNING and not i.waiting]
            pools = {stage.name: stage.pool for stage in batch.config.stages or []}
            for item in run:
                env = settings.env_for(item.slot) if item.slot is not None else {}
                pool = pools.get(item.stage) if item.stage else None
                running.append(
                    SlotUse(item.slot, env, batch.id, batch.name, item.label, item.started_at, pool)
                )
            to_go = sum(i.status is ItemStatus.PENDING for i in batch.items)
            claims.append(
                BatchClaim(batch.id, batch.name, batch.status.value + pause_mark(batch.pause),
                           batch.priority or 0, len(run), to_go)
            )  # fmt: skip
        for summary in summaries:  # queued and scheduled starts: a claim to come
            deferred = self.ctx.repo.get(summary.id) if summary.shown_parts else None
            if deferred is not None and deferred.deferred is not None:
                claims.append(
                    BatchClaim(deferred.id, deferred.name, deferred.shown_status,
                               deferred.priority or 0, 0, len(deferred.items))
                )  # fmt: skip
        running.sort(key=lambda use: (use.slot is None, use.slot or 0, use.batch_name))
        claims.sort(key=lambda claim: (-claim.priority, claim.name))
        waiting = []
        lines = [(None, settings.slots_dir)] + [
            (name, settings.slots_dir / POOLS_FOLDER / name) for name in sorted(settings.pools)
        ]
        for pool, folder in lines:
            waiting.extend(self._line(pool, folder, known))
        return HostQueue(
            host, settings.slots, settings.slots_dir, dict(settings.pools), running, waiting,
            claims, read_host_pause(settings.slots_dir),
        )  # fmt: skip

    def _line(self, pool: str | None, folder: Path, known: dict[str, Batch]) -> list[Waiter]:
        """Who waits for the slots in `folder` (a pool's, or the host's), in serving order."""
        waiting = []
        for position, ticket in enumerate(waiting_in(folder), start=1):
            owner = known.get(ticket.batch_id) or self._batch(ticket.batch_id)
            asking = None
            if owner is not None:
                asking = next((i for i in owner.items if i.id == ticket.item_id), None)
            waiting.append(
                Waiter(
                    position, ticket.priority,
                    datetime.fromtimestamp(ticket.asked_ns / 1e9, UTC),
                    ticket.batch_id, owner.name if owner else None,
                    asking.label if asking else None, ticket.pid, pool,
                )
            )  # fmt: skip
        return waiting

    def _batch(self, batch_id: str) -> Batch | None:
        return self.ctx.repo.get(batch_id)


def _claims(batch: Batch, host: str) -> bool:
    """Whether `batch` has a claim on this host's box now: it runs here."""
    runner = batch.runner
    return batch.status is BatchStatus.PROCESSING and (
        runner is None or (runner.host == host and runner.cluster is None)
    )
