"""A batch: one config, its items, one lifecycle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import limits
from ..deferral import shown_status
from ..forecast import Forecast
from ..pausing import PauseMode, pause_mode
from ..run import Progress
from ..run import progress as run_progress
from ..states import BatchStatus, check_batch_transition
from ..variants import renumber
from .clock import utcnow
from .config import BatchConfig
from .deferred import Deferred
from .item import BatchItem
from .moves import _checked_move
from .runner import RunnerInfo


class Batch(BaseModel):
    """A named series: one config, up to `config.max_items` items, one lifecycle."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str = Field(min_length=1, max_length=limits.MAX_NAME_CHARS)
    status: BatchStatus = BatchStatus.DRAFT
    config: BatchConfig
    items: list[BatchItem] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    locked_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    config_hash: str | None = None
    runner: RunnerInfo | None = None
    cancel_requested: bool = False
    priority: int | None = Field(default=None, ge=limits.MIN_PRIORITY, le=limits.MAX_PRIORITY)
    """Its place among the host's waiting items (higher: served first; None: 0). Changeable
    during a run; not part of the config (a queue setting, not how the series looks)."""
    paused: PauseMode | None = None
    """A pause asked for this batch ("drain" or "now", see `core.pausing`), kept until resumed
    or cancelled; a runner that starts or takes the batch up obeys it."""
    holding: PauseMode | None = None
    """The pause its runner obeys now (this batch's or the host's), written by the runner at
    its flushes (what `pause` waits for); None when it runs freely or no runner runs it."""
    host_paused: PauseMode | None = None
    """The host's pause (`pause --all`) as its runner last read it; None otherwise."""
    deferred: Deferred | None = None
    """A start queued after another batch or for a time (only while LOCKED: any status change
    ends it); shown as QUEUED / SCHEDULED (`shown_status`)."""
    start_note: str | None = None
    """Why its queued start did not happen (one line; `show` says it), until it starts."""
    forecast: Forecast | None = None
    """The run's time and cost projected from its canary, once it succeeded (None: no canary,
    or not yet); a new run starts without one."""
    awaiting_confirm: bool | None = None
    """True while its run waits for a yes to the canary's forecast (`confirm_forecast`)."""
    confirmed: bool | None = None
    """A yes given (`confirm`), for its runner to take (it clears it)."""
    cancelled: bool | None = None
    """True when the last run ended because it was cancelled (None otherwise): a FAILED batch
    that was cancelled says so."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "status":  # every status change goes through the table
            value = _checked_move(
                self.status, BatchStatus(cast(str, value)), check_batch_transition
            )
            if value != self.status:
                # A queued start ends with any move (started, unlocked); a note of why one
                # did not happen stays until the batch starts.
                super().__setattr__("deferred", None)
                if value is BatchStatus.PROCESSING:
                    super().__setattr__("start_note", None)
        super().__setattr__(name, value)

    @property
    def shown_status(self) -> str:
        """The word every view shows: the status, or `QUEUED (after 'A')` /
        `SCHEDULED (02:00)` for a deferred start (the one rule, `core.deferral`)."""
        return shown_status(self.status, self.deferred.raw() if self.deferred else None)

    def move_to(self, status: BatchStatus) -> None:
        """Change status (a no-op when unchanged); `TransitionError` if the table forbids it."""
        self.status = status

    def __repr_args__(self) -> Iterable[tuple[str | None, object]]:
        # A summary, not 10,000 items: asyncio formats the run's result (this) into a
        # message when the run's event loop shuts down on Python 3.11, and that cost ~10 ms
        # per 1,000 items; debuggers and error messages want the short form too.
        yield "id", self.id
        yield "name", self.name
        yield "status", self.status
        yield "items", len(self.items)

    @model_validator(mode="after")
    def _positions(self) -> Batch:
        renumber(self)
        return self

    @property
    def pause(self) -> PauseMode | None:
        """The pause this batch is under, as every view shows it (`core.pausing`)."""
        return pause_mode(self.status, self.paused, self.host_paused)

    def item(self, item_id: str) -> BatchItem:
        """The item with this exact id (KeyError if none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def progress(self, now: datetime | None = None) -> Progress:
        """Counts, phases, percent, elapsed, rate and ETA for the current (or last) run (the
        fold's `progress`, at `now` or the current time)."""
        return run_progress(self, now or utcnow())
