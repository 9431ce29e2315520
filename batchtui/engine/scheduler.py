"""The scheduler: run a batch's jobs in parallel under a limit, isolate every failure.

It owns the queue, the concurrency limit (changeable while running), the host-wide slots, the
per-item timeout, cancelling, and the events; an `Executor` runs each attempt and an
`OutputFinisher` verifies and records each output. An exception, a non-zero exit, a timeout or
an invalid output fails that item only, with a one-line reason; the rest go on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import random
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio
from anyio.abc import TaskGroup

from ..core.events import (
    EngineEvent,
    ItemCost,
    ItemFinished,
    ItemPlaced,
    ItemProgress,
    ItemRetrying,
    ItemStarted,
    ItemWaiting,
)
from ..core.limits import MAX_RATE_WAITS, MAX_RETRY_AFTER
from ..core.models import ItemStatus, utcnow
from ..core.pausing import PauseMode
from ..core.run import local_time
from ..generators.base import GeneratorError, Job
from .executor import Attempt, Executor, FailureKind, Outcome
from .finish import OutputFinisher, cleanup
from .freeze import freeze_batch, thaw_batch
from .itemlog import ItemLog
from .layout import part_name
from .qa_probe import QaFailed
from .rates import RateBucket
from .slots import HostSlots, ordinal

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
        priority: int = 0,
        rates: list[RateBucket] | None = None,
    ) -> None:
        self.executor = executor
        self.finisher = finisher
        self.emit = emit
        self.slots = slots
        self.priority = priority
        """This batch's place among the host's waiting items (higher: served first)."""
        self.rates = rates or []
        """The rate limits every attempt's start takes a token from (before a host slot)."""
        self._rate_waits: dict[str, int] = {}
        """How many times each item was told "later" this run (`MAX_RATE_WAITS`)."""
        self._queue: deque[Job] = deque()
        self._workers = 0
        self._ids: set[int] = set()
        """The numbers of the running workers (0, 1, …: the lowest free one for a new
        worker); a worker's number is its items' `{slot}` when the host sets no limit."""
        self._tg: TaskGroup | None = None
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False
        self._stop_status = ItemStatus.CANCELLED
        self._stop_reason = "cancelled"
        self._limit = 1
        self._delayed: dict[str, anyio.CancelScope] = {}
        """Items waiting out a retry's backoff (holding no slot), by item id."""
        self._halt: str | None = None
        """Why no new item starts any more (stopped early), or None."""
        self._failures = 0
        self._failure_limit: int | None = None
        self._canary: str | None = None
        """The item that runs alone until it succeeds (`canary`), while it has not."""
        self._jitter = random.Random()
        self._batch_id: str | None = None
        self._paused: PauseMode | None = None
        """A pause obeyed now: no new item starts ("drain"), and running ones are frozen
        ("now"); see `pause`."""
        self._frozen = False
        self._frozen_left: dict[str, float] = {}
        """Seconds each frozen attempt had left before its timeout, by item id."""
        self._running: dict[str, Attempt] = {}
        self._slot_waits: dict[int, anyio.CancelScope] = {}
        """Workers waiting for a host slot, by number: a pause takes their turn back."""
        self._unpaused: anyio.Event | None = None
        self._keeping = False
        self._held_for: str | None = None
        """Why no new item starts for now (`hold`), or None."""
        self._released: anyio.Event | None = None
        self.gate: Callable[[], str | None] | None = None
        """Asked before each new item starts: a reason to start no more (the rest are
        SKIPPED, as after too many failures), or None."""
        self._fed: anyio.Event | None = None
        """Set once no more jobs will be fed (`feed`): a fed run ends when it is set and its
        queue is done."""
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
        self._thaw(restore_deadlines=False)  # a frozen group hears TERM only once it goes on
        if interrupt and self._stop_status is ItemStatus.CANCELLED:
            self._stop_status = ItemStatus.INTERRUPTED
            self._stop_reason = reason or "interrupted"
        if self._scope is not None:
            self._scope.cancel()

    def feed(self, job: Job) -> None:
        """One more job for a run started with `fed=True` (a pipeline's later stage: its job
        comes once the item's earlier stage is done). Stopped meanwhile: it never starts."""
        if self._tg is None or self._cancel_requested or self._halt is not None:
            self._never_started(job)
            return
        self._batch_id = self._batch_id or job.batch_id
        with contextlib.suppress(OSError):  # if it can't be made, the item says why
            os.makedirs(os.path.dirname(job.output), exist_ok=True)
        now = utcnow()
        if job.not_before is not None and job.not_before > now:  # a retry a crash left waiting
            delay = (job.not_before - now).total_seconds()
            self._wait_to_retry(job, min(delay, job.config.backoff_max))
            return
        self._queue.append(job)
        self._hire()

    def close_feed(self) -> None:
        """No more jobs will be fed: the run ends once those it has are done."""
        if self._fed is not None:
            self._fed.set()

    def hold(self, reason: str) -> None:
        """No new item starts until `release` (running ones go on); the run stays open for
        the items left (a forecast waiting for a person's yes)."""
        self._held_for = reason
        if self._released is None and self._tg is not None:
            self._released = anyio.Event()
            self._tg.start_soon(self._released.wait)

    def release(self) -> None:
        """Let items start again after `hold`."""
        if self._held_for is None:
            return
        self._held_for = None
        if self._released is not None:
            self._released.set()
            self._released = None
        self._hire()

    @property
    def held_for(self) -> str | None:
        """Why no new item starts for now (`hold`), or None."""
        return self._held_for

    def stop_early(self, reason: str) -> None:
        """No new item starts (running ones finish): the queued ones are skipped."""
        self._stop_early(reason)

    async def run(self, jobs: list[Job], *, fed: bool = False) -> None:
        """Run every job; returns when all have ended (or the run was cancelled). `fed`: more
        jobs come through `feed` until `close_feed`."""
        for folder in {os.path.dirname(job.output) for job in jobs}:  # once per run
            with contextlib.suppress(OSError):  # if it can't be made, each item says why
                os.makedirs(folder, exist_ok=True)
        now = utcnow()
        # Retries a crashed run had scheduled keep their time (they wait, holding no slot).
        waiting = [job for job in jobs if job.not_before is not None and job.not_before > now]
        later = {id(job) for job in waiting}
        if jobs:
            self._batch_id = jobs[0].batch_id
            config = jobs[0].config
            self._failure_limit = config.failure_limit(len(jobs))
            if config.canary:
                self._canary = min(jobs, key=lambda job: job.index).item_id
        # The canary first; then items that never ran (skipped when a run stopped early)
        # before those that ran and failed: a retry runs them, however many of the failed ones
        # fail again.
        self._queue = deque(
            sorted(
                (job for job in jobs if id(job) not in later),
                key=lambda job: (job.item_id != self._canary, job.attempt > 1),
            )
        )
        self.finisher.begin()
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self._cancel_requested:
                    scope.cancel()
                async with anyio.create_task_group() as tg:
                    self._tg = tg
                    for job in waiting:
                        assert job.not_before is not None
                        # Never longer than a wait can be (a stored time far ahead: the clock
                        # went back).
                        delay = (job.not_before - now).total_seconds()
                        self._wait_to_retry(job, min(delay, job.config.backoff_max))
                    self._hire()
                    if fed:
                        self._fed = anyio.Event()
                        tg.start_soon(self._fed.wait)
        finally:
            self._thaw(restore_deadlines=False)
            self._tg = self._scope = None
            self.finisher.close()
            if self.slots is not None:  # (the run's: its descriptors close with it)
                self.slots.close()
            # Stopped before their turn came: they never started.
            while self._queue:
                self._never_started(self._queue.popleft())

    def _never_started(self, job: Job) -> None:
        if self._halt is not None and not self._cancel_requested:
            status, error = ItemStatus.SKIPPED, f"skipped: {self._halt}"
        else:
            status, error = ItemStatus.CANCELLED, f"{self._stop_reason} before it started"
        self.emit(ItemFinished(job.batch_id, job.item_id, status, utcnow(), error=error))

    @property
    def _room(self) -> int:
        """How many items may run now: one while a canary runs alone, else the limit."""
        return 1 if self._canary is not None else self._limit

    @property
    def _ready(self) -> bool:
        """Whether a queued job may start now: while the canary has not succeeded, only the
        canary may (it is queued first when its retry is due); nothing else starts while it
        waits out a backoff."""
        if not self._queue or self._held_for is not None:
            return False
        return self._canary is None or self._queue[0].item_id == self._canary

    def _hire(self) -> None:
        """Start workers up to the limit while there is work for them."""
        if self._tg is None or self._halt is not None:
            return
        if self._paused is not None:
            self._keep_alive()
            return
        while self._workers < self._room and self._ready:
            self._workers += 1
            self._tg.start_soon(self._work, self._worker_id())

    def _worker_id(self) -> int:
        number = 0
        while number in self._ids:
            number += 1
        self._ids.add(number)
        return number

    def set_priority(self, value: int) -> None:
        """This batch's priority from now on, for its items waiting now and later."""
        self.priority = value
        if self.slots is not None and self._batch_id is not None:
            self.slots.reprioritise(self._batch_id, value)

    @property
    def paused(self) -> PauseMode | None:
        """The pause this run obeys now, or None."""
        return self._paused

    def pause(self, mode: PauseMode | None) -> None:
        """Pause the run ("drain": no new item starts, nor asks for a slot; running ones
        finish. "now": also freeze the running items' process groups, their timeouts
        stopped) or resume it (None). Items waiting for a host slot give their turn back and
        wait here. A frozen item keeps its slot: nothing is let go that cannot come back.
        Items on a render farm are not frozen ("now" drains there)."""
        if mode == "now" and self.executor.host is None:
            mode = "drain"  # a farm's items cannot be frozen from here: said as it is
        if mode == self._paused:
            return
        self._paused = mode
        if mode == "now":
            self._freeze()
        else:
            self._thaw()
        if mode is None:
            if self._unpaused is not None:
                self._unpaused.set()
            self._hire()
            return
        for scope in list(self._slot_waits.values()):
            scope.cancel()
        self._keep_alive()

    def _freeze(self) -> None:
        if self._frozen or self._batch_id is None or self.executor.host is None:
            return
        self._frozen = True
        now = anyio.current_time()
        for item_id, attempt in self._running.items():
            scope = attempt.deadline
            if scope is not None and not math.isinf(scope.deadline):
                self._frozen_left[item_id] = scope.deadline - now
                scope.deadline = math.inf  # frozen time is not the item's
        freeze_batch(self._batch_id)
        if self._tg is not None:
            self._tg.start_soon(self._freeze_late_comers)

    async def _freeze_late_comers(self) -> None:
        """Freeze once more a moment later: an item whose process was being spawned as the
        run froze was not there to be found."""
        await anyio.sleep(0.5)
        if self._frozen and self._batch_id is not None:
            freeze_batch(self._batch_id)

    def _thaw(self, *, restore_deadlines: bool = True) -> None:
        if not self._frozen or self._batch_id is None:
            return
        self._frozen = False
        thaw_batch(self._batch_id)
        if restore_deadlines:
            now = anyio.current_time()
            for item_id, left in self._frozen_left.items():
                attempt = self._running.get(item_id)
                if attempt is not None and attempt.deadline is not None:
                    attempt.deadline.deadline = now + left
        self._frozen_left.clear()

    def _keep_alive(self) -> None:
        """While paused with items left to start, keep the run open for them (else it would
        end, its waiting items "never started")."""
        if self._tg is None or self._paused is None or self._keeping or not self._queue:
            return
        self._keeping = True
        self._tg.start_soon(self._held)

    async def _held(self) -> None:
        try:
            while self._paused is not None and self._queue:
                self._unpaused = anyio.Event()
                await self._unpaused.wait()
        finally:
            self._keeping = False
            self._unpaused = None

    def _wait_to_retry(self, job: Job, delay: float) -> None:
        """Queue `job` again after `delay` seconds; meanwhile it holds no slot."""
        assert self._tg is not None

        async def later() -> None:
            with anyio.CancelScope() as scope:
                self._delayed[job.item_id] = scope
                try:
                    await anyio.sleep(max(0.0, delay))
                except anyio.get_cancelled_exc_class():
                    if not scope.cancel_called:  # the run stopped: reported with the rest
                        self._queue.append(job)
                    raise
                finally:
                    self._delayed.pop(job.item_id, None)
            if scope.cancelled_caught or self._halt is not None:  # stopped early meanwhile
                self._never_started(job)
                return
            if job.item_id == self._canary:  # the canary goes before everything it holds back
                self._queue.appendleft(job)
            else:
                self._queue.append(job)
            self._hire()

        self._tg.start_soon(later)

    def _stop_early(self, reason: str) -> None:
        """No new item starts (running ones finish): the rest are skipped, not failed."""
        if self._halt is not None:
            return
        self._halt = reason
        while self._queue:
            self._never_started(self._queue.popleft())
        if self._released is not None:  # held: nothing is left to wait for
            self._released.set()
            self._released = None
        if self._unpaused is not None:  # nothing left to hold the run open for
            self._unpaused.set()
        for scope in list(self._delayed.values()):
            scope.cancel()

    async def _work(self, number: int) -> None:
        """One slot: take the next job until the queue is empty or the limit shrank below us."""
        try:
            while (
                self._ready
                and self._workers <= self._room
                and not self._cancel_requested
                and self._halt is None
                and self._paused is None
            ):
                stop = self.gate() if self.gate is not None else None
                if stop is not None:  # a limit of the run's own (its budget) is reached
                    self._stop_early(stop)
                    break
                job = self._queue.popleft()
                # Only a retried item can have a finished output its last runner never recorded
                # (and one asked for again on purpose wants a new one).
                if job.attempt > 1 and not job.rerender and await self.finisher.adopt(job):
                    self._finished(job, ItemStatus.SUCCEEDED, output=str(job.final_output))
                    self._succeeded(job)
                    continue
                if self._paused is not None:  # paused meanwhile: it waits here, no slot asked
                    self._back_in_queue(job, waited=False)
                    break
                if self.rates:  # a token first: waiting for one holds no host slot
                    try:
                        await self._rate_turn(job)
                    except anyio.get_cancelled_exc_class():
                        self._queue.appendleft(job)  # reported "before it started" by `run`
                        raise
                    if self._halt is not None:  # stopped early while it waited
                        self._never_started(job)
                        continue
                if self._paused is not None:  # paused while it waited for its token
                    self._back_in_queue(job, waited=True)
                    break
                if self.slots is None:
                    await self._attempt(job, number)
                    continue
                holding = False
                wait = self._slot_waits[number] = anyio.CancelScope()
                try:
                    with wait:
                        async with self.slots.hold(
                            functools.partial(self._waiting, job),
                            priority=self.priority,
                            batch_id=job.batch_id,
                            item_id=job.item_id,
                        ) as slot:
                            holding = True
                            del self._slot_waits[number]  # from here a pause lets it run
                            await self._attempt(job, slot)
                except anyio.get_cancelled_exc_class():
                    if not holding:  # cancelled while it waited for a slot: it never started
                        self._queue.appendleft(job)  # reported "before it started" by `run`
                    raise
                finally:
                    self._slot_waits.pop(number, None)
                if wait.cancelled_caught and not holding:  # paused while it waited
                    self._back_in_queue(job, waited=True)
        finally:
            self._workers -= 1
            self._ids.discard(number)

    def _back_in_queue(self, job: Job, *, waited: bool) -> None:
        """A pause took the item's turn back: first in the queue again, the run kept open for
        it; one that `waited` (for a token, a slot) is PENDING again, waiting for nothing."""
        self._queue.appendleft(job)
        if waited:
            self.emit(ItemWaiting(job.batch_id, job.item_id, ""))
        self._keep_alive()

    async def _rate_turn(self, job: Job) -> None:
        """Wait for a token of every rate limit the batch obeys, saying why meanwhile."""
        for bucket in self.rates:
            await bucket.take(functools.partial(self._rate_waiting, job))

    def _rate_waiting(self, job: Job, detail: str) -> None:
        self.emit(ItemWaiting(job.batch_id, job.item_id, detail))

    def _waiting(self, job: Job, position: int) -> None:
        assert self.slots is not None
        self.emit(
            ItemWaiting(
                job.batch_id,
                job.item_id,
                f"waiting for a host slot, {ordinal(position)} in line ({self.slots.limit_text})",
            )
        )

    async def _attempt(self, job: Job, slot: int = 0) -> None:
        started = utcnow()
        # The per-item file work (open the log; later move, manifest line, close) is a few
        # small local syscalls, done right here: measured, a worker-thread trip per item cost
        # more than the work (GIL hand-offs: 1,000 no-ops took 1.5 s instead of 0.95 s).
        log = _open_log(job, started)
        log.on_cost = functools.partial(self._cost, job)
        self.emit(
            ItemStarted(
                job.batch_id,
                job.item_id,
                job.attempt,
                started,
                str(job.log_path),
                self.executor.where,
                self.executor.host,
                # On a render farm the slot is the worker's, known only there.
                slot if self.executor.host is not None else None,
                job.stage,
            )
        )
        attempt = Attempt(job, log, lambda fraction: self._progress(job, fraction), started)
        attempt.slot = slot
        attempt.host = self.executor.host
        attempt.placed = functools.partial(self._placed, attempt)
        attempt.waiting = functools.partial(self._attempt_waits, attempt)
        self._running[job.item_id] = attempt
        try:
            error, kind = await self._run_attempt(attempt)
        except anyio.get_cancelled_exc_class():
            log.write(f"[batchtui: {self._stop_reason}]", "batchtui")
            with anyio.CancelScope(shield=True):
                cleanup(job, log)
            self._finished(job, self._stop_status, error=f"{self._stop_reason} while running")
            raise
        finally:
            self._running.pop(job.item_id, None)
            self._frozen_left.pop(job.item_id, None)
        if error is None:
            self._finished(job, ItemStatus.SUCCEEDED, output=str(job.final_output))
            self._succeeded(job)
            return
        if kind is FailureKind.RATE_LIMITED:
            final = await self._rate_limited(job, attempt.retry_after, error, log)
            if final is None:  # it runs again, using no retry
                return
            error, delay = final, None
        else:
            delay = self._retry_delay(job, kind)
        if delay is not None:
            retry = job.retries_used + 1
            log.write(
                f"[batchtui: FAILED: {error}; retry {retry}/{job.config.retries} in {delay:.1f}s]",
                "batchtui",
            )
            cleanup(job, log)
            now = utcnow()
            at = now + timedelta(seconds=delay)
            self.emit(
                ItemRetrying(job.batch_id, job.item_id, now, error, at, retry, job.config.retries)
            )
            self._wait_to_retry(self._next_attempt(job, retry, at), delay)
            return
        log.write(f"[batchtui: FAILED: {error}]", "batchtui")
        cleanup(job, log)
        self._finished(job, ItemStatus.FAILED, error=error)
        self._failed_for_good(job)

    async def _rate_limited(
        self, job: Job, retry_after: float | None, error: str, log: ItemLog
    ) -> str | None:
        """An attempt told "later": the rate limits slow down, and the item runs again after
        the time it asked for (else at the next token, else after a backoff) without using
        a retry; returns None then, else the reason it fails for good."""
        config = job.config
        if (
            self._cancel_requested
            or self._halt is not None
            or (config.retry_on and FailureKind.RATE_LIMITED.retry_name not in config.retry_on)
        ):
            return error
        waits = self._rate_waits.get(job.item_id, 0) + 1
        if waits > MAX_RATE_WAITS:
            return _one_line(f"rate limited {MAX_RATE_WAITS} times (last: {error})")
        self._rate_waits[job.item_id] = waits
        with anyio.CancelScope(shield=True):  # (a file lock held for a read and a write)
            for bucket in self.rates:
                await bucket.hold_off(
                    retry_after if retry_after is not None else bucket.rate.interval
                )
        if retry_after is not None:
            delay = min(retry_after, MAX_RETRY_AFTER)
        elif self.rates:
            delay = 0.0  # the token it takes next is the wait
        else:
            delay = config.retry_delay(waits, self._jitter.random())
        log.write(
            f"[batchtui: rate limited: {error}; runs again in {delay:.1f}s "
            f"(wait {waits}/{MAX_RATE_WAITS}, no retry used)]",
            "batchtui",
        )
        cleanup(job, log)
        now = utcnow()
        at = now + timedelta(seconds=delay)
        note = (
            f"rate limited: runs again at {local_time(at, now)} "
            f"(wait {waits} of {MAX_RATE_WAITS}, no retry used)"
        )
        self.emit(
            ItemRetrying(
                job.batch_id, job.item_id, now, error, at, job.retries_used, config.retries, note
            )
        )
        self._wait_to_retry(self._next_attempt(job, job.retries_used, at), delay)
        return None

    def _succeeded(self, job: Job) -> None:
        """A canary that succeeded (ran, or its earlier output was taken over): the others
        fan out to the full limit."""
        if self._canary == job.item_id:
            self._canary = None
            self._hire()

    def _retry_delay(self, job: Job, kind: FailureKind) -> float | None:
        """Seconds until the failed `job` is tried again, or None when it is not."""
        config = job.config
        if self._cancel_requested or self._halt is not None or job.retries_used >= config.retries:
            return None
        if config.retry_on and kind.retry_name not in config.retry_on:
            return None
        return config.retry_delay(job.retries_used + 1, self._jitter.random())

    @staticmethod
    def _next_attempt(job: Job, retry: int, at: datetime) -> Job:
        attempt = job.attempt + 1
        output = job.final_output.parent / part_name(job.final_output.name, attempt)
        return dataclasses.replace(
            job, attempt=attempt, output=output, retries_used=retry, not_before=at
        )

    def _failed_for_good(self, job: Job) -> None:
        """Count a failure that is final; stop early when the canary or too many failed."""
        self._failures += 1
        if self._canary == job.item_id:
            self._canary = None
            self._stop_early(f"the canary, item {job.label}, failed")
        elif self._failure_limit is not None and self._failures >= self._failure_limit:
            self._stop_early(
                f"{self._failures} items failed (max failures {job.config.max_failures})"
            )

    async def _run_attempt(self, attempt: Attempt) -> tuple[str | None, FailureKind]:
        """Run, verify and put in place one attempt's output: (the failure reason, or None;
        what kind of failure it was)."""
        job = attempt.job
        with anyio.CancelScope() as deadline:
            attempt.deadline = deadline
            if attempt.host is not None:  # it starts here and now (else: once it is placed)
                deadline.deadline = anyio.current_time() + job.config.timeout
            result = await self.executor.run(attempt)
            attempt.retry_after = result.retry_after
            if result.outcome is Outcome.OK:
                try:
                    await self.finisher.verify(job)
                except QaFailed as exc:  # valid, but not what the series' QA accepts
                    result = result.failed(str(exc), FailureKind.QA)
                except GeneratorError as exc:
                    result = result.failed(str(exc), FailureKind.INVALID_OUTPUT)
        if deadline.cancelled_caught:
            return f"timed out after {job.config.timeout:g}s", FailureKind.TIMEOUT
        if result.outcome is Outcome.OK:
            try:
                self.finisher.put_in_place(
                    job, attempt.started, attempt.log, worker=attempt.worker, host=attempt.host
                )
            except GeneratorError as exc:
                return _one_line(str(exc)), FailureKind.ERROR
            return None, FailureKind.ERROR
        kind = result.kind or FailureKind.ERROR
        error = _one_line(result.reason or "failed")
        if result.outcome is Outcome.HOST_LOST:
            return _one_line(f"host lost: {error}"), FailureKind.HOST_LOST
        if not job.output.parent.is_dir():
            if "was deleted" not in error:
                error = _one_line(
                    f"the output folder {job.output.parent} was deleted while the item ran "
                    f"({error})"
                )
            with contextlib.suppress(OSError):  # so the items after this one can go on
                job.output.parent.mkdir(parents=True, exist_ok=True)
        return error, kind

    def _placed(self, attempt: Attempt, worker: str, host: str) -> None:
        attempt.worker, attempt.host = worker, host
        job = attempt.job
        if attempt.deadline is not None:  # its time starts now, on its worker (again, when
            # a lost worker's attempt starts over elsewhere)
            attempt.deadline.deadline = anyio.current_time() + job.config.timeout
        self.emit(ItemPlaced(job.batch_id, job.item_id, worker, host))

    def _attempt_waits(self, attempt: Attempt, detail: str) -> None:
        attempt.worker = attempt.host = None
        if attempt.deadline is not None:  # waiting for a host is not the item's time
            attempt.deadline.deadline = math.inf
        job = attempt.job
        self.emit(ItemWaiting(job.batch_id, job.item_id, detail))

    def _cost(self, job: Job, amount: float) -> None:
        self.emit(ItemCost(job.batch_id, job.item_id, amount))

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
    stage = f" (stage {job.stage})" if job.stage is not None else ""
    log.note(f"=== attempt {job.attempt} of item {job.label}{stage} at {started.isoformat()} ===")
    return log


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
