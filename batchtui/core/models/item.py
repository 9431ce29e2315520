"""A batch's item and the record of its attempts."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..item_keys import check_key
from ..item_vars import VarValue, check_vars
from ..limits import HISTORY_KEPT
from ..states import ItemStatus, check_item_transition
from .clock import utcnow
from .moves import _checked_move
from .review import Review, Take


class AttemptRecord(BaseModel):
    """One ended attempt of an item, as its history keeps it."""

    model_config = ConfigDict(extra="ignore")

    attempt: int
    status: ItemStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    worker: str | None = None
    host: str | None = None
    log_path: str | None = None
    stage: str | None = None
    """The pipeline stage the attempt made (None: a batch with no stages)."""
    cost: float | None = None
    """What the attempt reported it spent (`COST` lines; None: nothing reported)."""
    earlier: dict[ItemStatus, int] | None = None
    """On the oldest record kept only: how many attempts before it are no longer kept, by how
    they ended (None: none were dropped)."""


def bounded(history: list[AttemptRecord]) -> list[AttemptRecord]:
    """The newest `HISTORY_KEPT` records of `history`; the dropped ones are counted, by status,
    on the oldest record kept (with any count the dropped ones carried)."""
    if len(history) <= HISTORY_KEPT:
        return history
    dropped, kept = history[:-HISTORY_KEPT], history[-HISTORY_KEPT:]
    counts: dict[ItemStatus, int] = {}
    for record in dropped:
        for status, n in (record.earlier or {}).items():
            counts[status] = counts.get(status, 0) + n
        counts[record.status] = counts.get(record.status, 0) + 1
    for status, n in (kept[0].earlier or {}).items():
        counts[status] = counts.get(status, 0) + n
    return [kept[0].model_copy(update={"earlier": counts}), *kept[1:]]


class StageRecord(BaseModel):
    """Where one stage of an item's pipeline is, in its latest run."""

    model_config = ConfigDict(extra="ignore")

    status: ItemStatus = ItemStatus.PENDING
    key: str | None = None
    """The hash of what made its output (its cache key), once it has one."""
    cached: bool | None = None
    """True: taken from the cache in its latest run, not made."""
    attempts: int = 0
    """Attempts this stage had in the latest run."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    error: str | None = None
    output: str | None = None


class BatchItem(BaseModel):
    """One prompt/topic of a batch and everything known about generating it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    position: int = Field(ge=1)
    content: str
    vars: dict[str, str | int | float] | None = None
    """The item's own variables (`{voice}` in a command), None: none (`core.item_vars`)."""
    key: str | None = None
    """The caller's own name for the item, unique in its batch (`core.item_keys`); names its
    output and log when set."""
    variant: int | None = Field(default=None, ge=1)
    """Which of its series item's renders this is (1..`config.variants`) in a batch locked with
    variants; None otherwise. Lock makes the variants, unlock folds them back
    (`core.variants`)."""
    number: int | None = Field(default=None, ge=1, exclude=True)
    """A variant's series item number (the 3 of `3.v2`; None when not a variant); kept by the
    batch as it numbers its items, never stored."""
    status: ItemStatus = ItemStatus.PENDING
    job_ref: str | None = None
    output_path: str | None = None
    error: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: float = Field(default=0.0, ge=0.0, le=1.0)
    log_path: str | None = None
    waiting: str | None = None
    """What a PENDING item whose turn has come waits for (a host slot), if anything."""
    worker: str | None = None
    """The Dask worker that ran the last attempt (None for a run on the runner's own host)."""
    host: str | None = None
    """The host that ran the last attempt."""
    slot: int | None = None
    """The slot its last attempt held (`{slot}`: a GPU, say); None before it started."""
    retry_at: datetime | None = None
    """When this item's next automatic retry starts (stored, so a crash does not lose it)."""
    retries_used: int | None = None
    """Automatic retries this item has had in its current run (None: none; stored only when
    there were some, like every field here: 10,000 items stay small)."""
    rerender: bool | None = None
    """True once the user asked for this item again on purpose (`retry --item`, even after it
    succeeded): its next attempts render anew instead of taking over an earlier output."""
    stage: str | None = None
    """The pipeline stage it is at (running, waiting for, or where it ended); None: a batch
    with no stages, or it has not started one."""
    stages: dict[str, StageRecord] | None = None
    """Each pipeline stage's state in its latest run, by stage name (None: no stages)."""
    cost: float | None = None
    """What every attempt of the item reported it spent, together (`COST` lines, across runs:
    a retry costs too; None: none reported)."""
    attempt_cost: float | None = None
    """What its latest attempt reported it spent (None: nothing)."""
    review: Review | None = None
    """What a person said of its output (approved, or rejected with a note; None: to review
    once it has one). People's, never the runner's (`core.review`)."""
    take: int | None = None
    """Which take of the item its output is (None: the first); a rejected output made again is
    the next."""
    takes: list[Take] | None = None
    """Its earlier, rejected outputs, kept as `NN-topic.v1.mp4` (oldest first; None: none)."""
    history: list[AttemptRecord] | None = None
    """Its earlier attempts, oldest first (the newest `HISTORY_KEPT` in full, the older ones
    counted on the oldest kept: `earlier_attempts()`; None: none). The last attempt is the
    item's own fields: `attempt_history()` has them all. (A record per item that ran once cost
    a model and its serialisation per item: 1,000 no-ops ran 25% slower.)"""

    @field_validator("vars")
    @classmethod
    def _vars(cls, value: dict[str, VarValue] | None) -> dict[str, VarValue] | None:
        return check_vars(value)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return check_key(value)

    @field_validator("history")
    @classmethod
    def _bounded(cls, value: list[AttemptRecord] | None) -> list[AttemptRecord] | None:
        # A file written before the bound (or by hand) is trimmed as it is read, so the next
        # write stores the bounded history. (Runs only for items that have a history.)
        return bounded(value) if value else value

    def last_attempt(self) -> AttemptRecord | None:
        """The latest attempt, from the item's own fields (None if it never ran)."""
        if not self.attempts or self.started_at is None:
            return None
        status = ItemStatus.FAILED if self.retry_at is not None else self.status
        return AttemptRecord(
            attempt=self.attempts,
            status=status,
            started_at=self.started_at,
            finished_at=self.finished_at if self.status is not ItemStatus.RUNNING else None,
            error=self.error,
            worker=self.worker,
            host=self.host,
            log_path=self.log_path,
            stage=self.stage,
            cost=self.attempt_cost,
        )

    @property
    def tries(self) -> int:
        """How many tries a person counts: its attempts, or in a pipeline the most any one
        stage took in its latest run (every stage's attempt is one of the item's: a clean
        three-stage item made three)."""
        if not self.stages:
            return self.attempts
        return max(record.attempts for record in self.stages.values()) or (
            1 if self.status is ItemStatus.SUCCEEDED else 0
        )

    def earlier_attempts(self) -> int:
        """Attempts older than the history keeps, counted only."""
        first = self.history[0] if self.history else None
        return sum((first.earlier or {}).values()) if first is not None else 0

    def attempt_history(self) -> list[AttemptRecord]:
        """Every attempt, oldest first: the stored earlier ones and the latest."""
        history = list(self.history or [])
        last = self.last_attempt()
        if last is not None and (not history or history[-1].attempt != last.attempt):
            history.append(last)
        return history

    def close_attempt(self) -> None:
        """Move the latest attempt into the history: another one is about to start."""
        last = self.last_attempt()
        if last is None:
            return
        if self.history and self.history[-1].attempt == last.attempt:
            return
        self.history = bounded([*(self.history or []), last])

    def __setattr__(self, name: str, value: object) -> None:
        if name == "status":  # every status change goes through the table
            value = _checked_move(self.status, ItemStatus(cast(str, value)), check_item_transition)
        super().__setattr__(name, value)

    def move_to(self, status: ItemStatus) -> None:
        """Change status (a no-op when unchanged); `TransitionError` if the table forbids it."""
        self.status = status

    @property
    def series_number(self) -> int:
        """The number of the series item this row renders: its position, or for a variant
        its series item's (the 3 of `3.v2`)."""
        return self.position if self.variant is None else (self.number or self.position)

    @property
    def label(self) -> str:
        """How a person names the item: its position (`3`), or as a variant `3.v2`."""
        if self.variant is None:
            return str(self.position)
        return f"{self.series_number}.v{self.variant}"

    @property
    def duration_seconds(self) -> float | None:
        """How long the last attempt ran (so far, when still running)."""
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())
