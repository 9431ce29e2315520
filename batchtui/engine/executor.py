"""The seam between the scheduler and whatever runs one attempt of one item.

The scheduler (queue, concurrency, host slots, timeouts, cancel, events) never knows where an
attempt runs. It hands an `Executor` an `Attempt` — the job, the item's log on this machine and a
progress callback — and gets back an `AttemptResult`: the output was written to `job.output`,
or the attempt failed (with a kind and a one-line reason), or the host running it was lost.
Cancelling is anyio's: the scheduler cancels the scope around `run` (a user's cancel, a
timeout), and the executor stops everything it started before it lets the cancellation go on.

`LocalExecutor` (in `local.py`) runs attempts here, as child processes in their own sessions;
`DaskExecutor` (in `dask_executor.py`) runs them on the workers of a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from ..core.failures import FailureKind  # (defined in core: `retry_on` is derived from it)
from ..generators.base import Job
from .itemlog import ItemLog


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    HOST_LOST = "host_lost"
    """The machine running it was lost (again and again: one loss is re-run by the cluster)."""


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """How one attempt ended (a cancelled one ends by cancellation instead)."""

    outcome: Outcome
    reason: str | None = None
    kind: FailureKind | None = None
    retry_after: float | None = None
    """Rate-limited: the seconds the item asked to wait (`RETRY-AFTER N`), when it said."""

    @classmethod
    def ok(cls) -> AttemptResult:
        return _OK

    @classmethod
    def failed(cls, reason: str, kind: FailureKind = FailureKind.ERROR) -> AttemptResult:
        return cls(Outcome.FAILED, reason, kind)

    @classmethod
    def rate_limited(cls, reason: str, retry_after: float | None = None) -> AttemptResult:
        """The item said "later" (exit 75, a RETRY-AFTER line): it runs again after the wait
        without using a retry."""
        return cls(Outcome.FAILED, reason, FailureKind.RATE_LIMITED, retry_after)

    @classmethod
    def host_lost(cls, reason: str) -> AttemptResult:
        return cls(Outcome.HOST_LOST, reason, FailureKind.HOST_LOST)


_OK = AttemptResult(Outcome.OK)


@dataclass(slots=True)
class Attempt:
    """One attempt of one item, as the scheduler hands it to an executor."""

    job: Job
    log: ItemLog
    """The item's log on the coordinator: every line the attempt prints goes here."""
    progress: Callable[[float], None]
    """Report how far along the attempt is, 0.0 to 1.0."""
    started: datetime
    placed: Callable[[str, str], None] = lambda worker, host: None
    """Report the worker and host the attempt runs on (a render farm: once known, and again
    when a lost worker's attempt runs elsewhere)."""
    waiting: Callable[[str], None] = lambda detail: None
    """Report that the attempt lost its host and waits for another (a farm with no worker
    left), saying what for: its time stops until it is placed again."""
    worker: str | None = None
    host: str | None = None
    slot: int = 0
    """Which slot the attempt holds: the host slot's number (0..N-1) under a host limit,
    else its worker's number within the batch's concurrency; `{slot}` and `BATCHTUI_SLOT`."""
    retry_after: float | None = None
    """Set when the attempt ended rate-limited with a time to wait (`AttemptResult`'s)."""
    deadline: Any = None
    """The attempt's time limit (an anyio CancelScope): running from when the attempt starts
    on its host, not from when it was handed over (time queued on a farm is not the item's)."""


class Executor(Protocol):
    """Runs attempts; one executor serves a whole run."""

    @property
    def where(self) -> str:
        """Where attempts run, for the item's record ('pid 4242', a cluster's address)."""
        ...

    @property
    def host(self) -> str | None:
        """The host every attempt runs on, when that is known before it starts (else None,
        and each attempt reports its own through `Attempt.placed`)."""
        ...

    async def run(self, attempt: Attempt) -> AttemptResult:
        """Run the attempt until it has written `attempt.job.output` (OK) or failed. On
        cancellation, stop every process it started, then re-raise."""
        ...
