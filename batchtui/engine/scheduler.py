"""The scheduler: run a batch's jobs in parallel under a limit, isolate every failure.

It owns the queue, the concurrency limit (changeable while running), the host-wide slots, the
per-item timeout, cancelling, and the events; an `Executor` runs each attempt and an
`OutputFinisher` verifies and records each output. An exception, a non-zero exit, a timeout or
an invalid output fails that item only, with a one-line reason; the rest go on.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections import deque
from collections.abc import Callable
from datetime import datetime

import anyio
from anyio.abc import TaskGroup

from ..core.events import (
    EngineEvent,
    ItemFinished,
    ItemPlaced,
    ItemProgress,
    ItemStarted,
    ItemWaiting,
)
from ..core.models import ItemStatus, utcnow
from ..generators.base import GeneratorError, Job
from .executor import Attempt, Executor, FailureKind, Outcome
from .finish import OutputFinisher, cleanup
from .itemlog import ItemLog
from .liveness import use_pidfd_child_watcher
from .slots import HostSlots

Emit = Callable[[EngineEvent], None]


class Scheduler:
    """Runs jobs with at most `concurrency` at once (and, with `slots`, at most that many
    across the host); the limit can change while running.

    A pool of worker tasks, one per slot, takes jobs from a queue: 10,000 queued items cost a
    deque entry each, not a waiting task and a lock waiter each.
    """

    def __init__(
        self,
        executor: Executor,
        finisher: OutputFinisher,
        emit: Emit,
        *,
        concurrency: int,
        slots: HostSlots | None = None,
    ) -> None:
        self.executor = executor
        self.finisher = finisher
        self.emit = emit
        self.slots = slots
        self._queue: deque[Job] = deque()
        self._workers = 0
        self._tg: TaskGroup | None = None
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False
        self._stop_status = ItemStatus.CANCELLED
        self._stop_reason = "cancelled"
        self._limit = 1
        self.set_concurrency(concurrency)

    @property
    def concurrency(self) -> int:
        return self._limit

    def set_concurrency(self, value: int) -> None:
        """Change the limit now: more slots start waiting items at once; fewer take effect as
        running items finish (nothing running is stopped)."""
        if value < 1 or math.isinf(value):
            raise ValueError("concurrency must be at least 1")
        self._limit = int(value)
        self._hire()

    def cancel(self, *, interrupt: bool = False, reason: str | None = None) -> None:
        """Stop the run. A user's cancel makes items CANCELLED; an interrupt (signal, shutdown,
        lost ownership) makes running items INTERRUPTED, so they read as "did not finish"."""
        self._cancel_requested = True
        if interrupt and self._stop_status is ItemStatus.CANCELLED:
            self._stop_status = ItemStatus.INTERRUPTED
            self._stop_reason = reason or "interrupted"
        if self._scope is not None:
            self._scope.cancel()

    async def run(self, jobs: list[Job]) -> None:
        """Run every job; returns when all have ended (or the run was cancelled)."""
        use_pidfd_child_watcher()
        for folder in {job.output.parent for job in jobs}:  # once per run, not per item
            with contextlib.suppress(OSError):  # if it can't be made, each item says why
                folder.mkdir(parents=True, exist_ok=True)
        self._queue = deque(jobs)
        self.finisher.begin()
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self._cancel_requested:
                    scope.cancel()
                async with anyio.create_task_group() as tg:
                    self._tg = tg
                    self._hire()
        finally:
            self._tg = self._scope = None
            self.finisher.close()
            # Stopped before their turn came: they never started.
            while self._queue:
                job = self._queue.popleft()
                self.emit(
                    ItemFinished(
                        job.batch_id,
                        job.item_id,
                        ItemStatus.CANCELLED,
                        utcnow(),
                        error=f"{self._stop_reason} before it started",
                    )
                )

    def _hire(self) -> None:
        """Start workers up to the limit while there is work for them."""
        if self._tg is None:
            return
        while self._workers < self._limit and self._queue:
            self._workers += 1
            self._tg.start_soon(self._work)

    async def _work(self) -> None:
        """One slot: take the next job until the queue is empty or the limit shrank below us."""
        try:
            while self._queue and self._workers <= self._limit and not self._cancel_requested:
                job = self._queue.popleft()
                # Only a retried item can have a finished output its last runner never recorded.
                if job.attempt > 1 and await self.finisher.adopt(job):
                    self._finished(job, ItemStatus.SUCCEEDED, output=str(job.final_output))
                    continue
                if self.slots is None:
                    await self._attempt(job)
                    continue
                holding = False
                try:
                    async with self.slots.hold(functools.partial(self._waiting, job)):
                        holding = True
                        await self._attempt(job)
                except anyio.get_cancelled_exc_class():
                    if not holding:  # cancelled while it waited for a slot: it never started
                        self._queue.appendleft(job)  # reported "before it started" by `run`
                    raise
        finally:
            self._workers -= 1

    def _waiting(self, job: Job) -> None:
        assert self.slots is not None
        self.emit(
            ItemWaiting(
                job.batch_id,
                job.item_id,
                f"waiting for a host slot (this host runs {self.slots.count} at once)",
            )
        )

    async def _attempt(self, job: Job) -> None:
        started = utcnow()
        # The per-item file work (open the log; later move, manifest line, close) is a few
        # small local syscalls, done right here: measured, a worker-thread trip per item cost
        # more than the work (GIL hand-offs: 1,000 no-ops took 1.5 s instead of 0.95 s).
        log = _open_log(job, started)
        self.emit(
            ItemStarted(
                job.batch_id,
                job.item_id,
                job.attempt,
                started,
                str(job.log_path),
                self.executor.where,
                self.executor.host,
            )
        )
        attempt = Attempt(job, log, lambda fraction: self._progress(job, fraction), started)
        attempt.host = self.executor.host
        attempt.placed = functools.partial(self._placed, attempt)
        try:
            error = await self._run_attempt(attempt)
        except anyio.get_cancelled_exc_class():
            log.write(f"[batchtui: {self._stop_reason}]", "batchtui")
            with anyio.CancelScope(shield=True):
                cleanup(job, log)
            self._finished(job, self._stop_status, error=f"{self._stop_reason} while running")
            raise
        if error is None:
            self._finished(job, ItemStatus.SUCCEEDED, output=str(job.final_output))
            return
        log.write(f"[batchtui: FAILED: {error}]", "batchtui")
        cleanup(job, log)
        self._finished(job, ItemStatus.FAILED, error=error)

    async def _run_attempt(self, attempt: Attempt) -> str | None:
        """Run, verify and put in place one attempt's output; the failure reason, or None."""
        job = attempt.job
        with anyio.move_on_after(job.config.timeout) as deadline:
            result = await self.executor.run(attempt)
            if result.outcome is Outcome.OK:
                try:
                    await self.finisher.verify(job)
                except GeneratorError as exc:
                    result = result.failed(str(exc), FailureKind.INVALID_OUTPUT)
        if deadline.cancelled_caught:
            return f"timed out after {job.config.timeout:g}s"
        if result.outcome is Outcome.OK:
            try:
                self.finisher.put_in_place(
                    job, attempt.started, attempt.log, worker=attempt.worker, host=attempt.host
                )
            except GeneratorError as exc:
                return _one_line(str(exc))
            return None
        error = _one_line(result.reason or "failed")
        if result.outcome is Outcome.HOST_LOST:
            return _one_line(f"host lost: {error}")
        if not job.output.parent.is_dir():
            if "was deleted" not in error:
                error = _one_line(
                    f"the output folder {job.output.parent} was deleted while the item ran "
                    f"({error})"
                )
            with contextlib.suppress(OSError):  # so the items after this one can go on
                job.output.parent.mkdir(parents=True, exist_ok=True)
        return error

    def _placed(self, attempt: Attempt, worker: str, host: str) -> None:
        attempt.worker, attempt.host = worker, host
        job = attempt.job
        self.emit(ItemPlaced(job.batch_id, job.item_id, worker, host))

    def _progress(self, job: Job, fraction: float) -> None:
        self.emit(ItemProgress(job.batch_id, job.item_id, fraction))

    def _finished(
        self,
        job: Job,
        status: ItemStatus,
        *,
        output: str | None = None,
        error: str | None = None,
    ) -> None:
        self.emit(ItemFinished(job.batch_id, job.item_id, status, utcnow(), output, error))


def _open_log(job: Job, started: datetime) -> ItemLog:
    log = ItemLog(job.log_path)
    log.note(f"=== attempt {job.attempt} of item {job.index} at {started.isoformat()} ===")
    return log


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
