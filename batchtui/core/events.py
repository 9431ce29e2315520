"""Plain events a run emits per item: the scheduler sends them, runners record them, the CLI
prints them and the TUI turns them into messages (no Textual, no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .states import ItemStatus


@dataclass(frozen=True, slots=True)
class ItemWaiting:
    """An item has its batch's turn but waits for something else first (a host-wide slot);
    it stays PENDING, with `detail` saying what it waits for ('': it waits no more, its turn
    given back by a pause)."""

    batch_id: str
    item_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class ItemStarted:
    """An item took a concurrency slot (and a host slot, when there is a limit) and began its
    attempt."""

    batch_id: str
    item_id: str
    attempt: int
    at: datetime
    log_path: str
    job_ref: str
    host: str | None = None
    """Where the attempt runs, when known at its start (a local run: this host)."""
    slot: int | None = None
    """The slot it holds (0..N-1: the host slot, else its worker's number in the batch)."""
    stage: str | None = None
    """The pipeline stage this attempt makes (None: a batch with no stages)."""


@dataclass(frozen=True, slots=True)
class ItemPlaced:
    """A started attempt reached the machine that runs it (a render-farm worker); sent again
    when a lost worker's attempt is re-run on another."""

    batch_id: str
    item_id: str
    worker: str
    host: str


@dataclass(frozen=True, slots=True)
class ItemProgress:
    """An item reported how far along it is (0.0 to 1.0)."""

    batch_id: str
    item_id: str
    fraction: float


@dataclass(frozen=True, slots=True)
class ItemCost:
    """An item's attempt reported money spent (a `COST 0.12` line): added to its attempt's
    cost, the item's and the batch's."""

    batch_id: str
    item_id: str
    amount: float


@dataclass(frozen=True, slots=True)
class ItemFinished:
    """An item ended: SUCCEEDED with an output, or FAILED/CANCELLED with a one-line error."""

    batch_id: str
    item_id: str
    status: ItemStatus
    at: datetime
    output_path: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ItemRetrying:
    """An attempt failed and the item will be tried again at `retry_at` (it is PENDING
    meanwhile and holds no slot)."""

    batch_id: str
    item_id: str
    at: datetime
    error: str
    retry_at: datetime
    retry: int
    """Which retry comes next (1-based), of `retries` (a rate-limited wait: the retries used
    so far, as it uses none)."""
    retries: int
    note: str | None = None
    """What the item shows while it waits, when it is not "retry 2/3 at …" (a rate-limited
    wait)."""


@dataclass(frozen=True, slots=True)
class StageEnded:
    """One stage of an item's pipeline ended: SUCCEEDED (made, or taken from the cache), or
    FAILED for good (the item's own end follows)."""

    batch_id: str
    item_id: str
    stage: str
    status: ItemStatus
    at: datetime
    key: str | None = None
    """The hash of what made the stage's output (its cache key)."""
    cached: bool = False
    """Taken from the cache (verified) instead of made."""
    output: str | None = None
    seconds: float | None = None
    """How long its successful attempt ran (None: cached, or failed)."""
    attempts: int = 0
    """The attempts it took in this run (0: cached)."""
    error: str | None = None
    progress: float = 0.0
    """The item's progress once this stage is done (its share of the stages)."""


EngineEvent = (
    ItemWaiting
    | ItemStarted
    | ItemPlaced
    | ItemProgress
    | ItemCost
    | ItemRetrying
    | ItemFinished
    | StageEnded
)
