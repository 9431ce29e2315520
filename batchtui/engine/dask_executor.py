"""`DaskExecutor`: item attempts run on the workers of a Dask cluster (a render farm).

The coordinator, the batch's runner, keeps everything it keeps for a local run: the queue, the
concurrency limit, timeouts, the database, the manifest and the events. Only the attempt itself
moves: one attempt is one Dask task (`dask_task.run_attempt`) with an explicit key, Dask's own
retries off (batchtui owns retries). Dask re-runs a task whose worker died on another worker;
that is recorded (a new placement, a line in the log), never counted as the item's failure. Only
a task whose workers keep dying (Dask's `allowed-failures`) ends as "host lost".

Where an attempt may run: every worker is used, each with its `render` slots when it declares
them, else one slot per thread; an attempt goes to the kind with the most free slots (a
`render` one leaves its worker's thread pool, `dask_slot`; a thread one names the workers it may
use). Workers are checked (versions) the first time they are seen, at start or mid-run; one of
other versions gets no item. When none of an attempt's workers is left, it is sent to the
others; with no worker left at all it waits (shown WAITING, its clock stopped) for up to
`NO_WORKER_WAIT`, then ends as host lost.

A pipeline stage with a pool (`pool = "gpu"`) sees the farm through `for_pool`: each of its
attempts is one task that takes one unit of the workers' Dask resource of that name
(`dask worker --resources gpu=1`), placed by the Dask scheduler on whichever worker offers it
(and out of its thread pool, as a `render` slot is). With no worker offering it, the attempt
waits the same way, said ("no worker offers gpu; start one with --resources gpu=1"). A stage
with no pool is placed as an item of a batch without stages is.

Lines, progress and placements arrive live as structured events on the run's topic. Cancelling
(a user's cancel, a timeout) releases the task; the task sees it and stops the item's process
group on its worker, and the coordinator waits for its word that every process has ended.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ..generators.base import SIDECARS, Job, sidecar
from .cluster import (
    MATCHED,
    RESOURCE,
    ClusterInfo,
    check,
    connect,
    relevant_versions,
    worker_mismatch,
)
from .dask_slot import run_in_render_slot
from .dask_task import end_of_run, run_attempt
from .executor import Attempt, AttemptResult, Executor, FailureKind
from .layout import remove_partials
from .transfer import fetch_output

if TYPE_CHECKING:
    from distributed import Client, Future

STOP_WAIT = 10.0
SCHEDULER_CHECK = 5.0
"""Seconds the scheduler has to answer before a lost result counts as the scheduler lost."""
"""How long a cancel waits for the worker's word that the item's processes ended."""
LINES_WAIT = 2.0
"""How long a finished attempt waits for log lines still on their way."""
PROBE_PREFIX = ".batchtui-probe-"
END_WAIT = 10.0
"""How long the end-of-run cleanup on the workers may take."""
THREADS = "threads"
"""The pool of the threads of workers that declare no `render` (see `_Pool`)."""
FARM_LOOK = 1.0
"""Seconds between looks at the farm's workers while an attempt is out there."""
NO_WORKER_WAIT = 60.0
"""How long an attempt waits for a worker to join once the farm has none left; then it ends
as "host lost" (a failure kind a retry takes up). Its item's own time stops meanwhile."""


@dataclass(frozen=True)
class _Pool:
    """Where an attempt may run: on the `render` slots of the workers that declare them
    (`name` 'render'), or on the threads of checked workers that declare none (`name`
    'threads', `workers` naming them)."""

    name: str
    capacity: int
    workers: list[str] | None = None
    named: bool = False
    """A pipeline stage's pool: the workers' resource of that name, and no other place."""


@dataclass
class _Live:
    """What the coordinator knows of one submitted attempt."""

    attempt: Attempt
    received: int = 0
    placements: list[tuple[str, str]] = field(default_factory=list)
    """(worker, host) of each run of the attempt: more than one when a worker was lost."""
    ended: anyio.Event = field(default_factory=anyio.Event)
    changed: anyio.Event = field(default_factory=anyio.Event)
    gave_up: str | None = None
    """Why the coordinator gave the attempt up (no worker left on the farm for too long)."""
    pool: _Pool | None = None
    """Where its task may run."""
    move: bool = False
    """None of the workers its task may run on is left, and others are: submit it again."""


class DaskExecutor:
    """Runs attempts as Dask tasks on the cluster at `address`; open it with `async with`."""

    def __init__(
        self,
        address: str,
        *,
        grace: float = 3.0,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.address = address
        self.grace = grace
        self.on_lost = on_lost
        """Called once when the scheduler is lost mid-run (the runner interrupts the run)."""
        self.client: Client | None = None
        self.info: ClusterInfo | None = None
        self.topic = f"batchtui-{secrets.token_hex(8)}"
        self.token = secrets.token_hex(16)
        self._live: dict[str, _Live] = {}
        self._probes: dict[Path, str | None] = {}
        self._lost = False
        self._finished: dict[str, Job] = {}
        """Jobs whose task ended, by item: their placements' leftovers go at the run's end."""
        self._farm_lock = anyio.Lock()
        self._farm_seen: tuple[float, dict[str, Any] | None] = (-math.inf, None)
        self._busy = {RESOURCE: 0, THREADS: 0}
        """Attempts out on each pool now."""
        self._checked: set[str] = set()
        """Workers whose versions are this host's (every worker is checked once)."""
        self._refused: dict[str, str] = {}
        """Workers that joined with other versions, and the line that said so."""

    @property
    def where(self) -> str:
        return f"dask {self.address}"

    @property
    def host(self) -> str | None:
        return None  # each attempt says where it runs, once it does

    async def __aenter__(self) -> DaskExecutor:
        self.client = await connect(self.address)
        try:
            self.info = await check(self.client, self.address)
            self.client.subscribe_topic(self.topic, self._on_event)
        except BaseException:
            await self.client.close()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.client is not None and not self._lost:
            # Nothing of this run stays on the workers: each removes the run's folder on its
            # box (scratch, outputs not pulled) and sweeps what dead workers left there.
            with (
                anyio.CancelScope(shield=True),
                anyio.move_on_after(END_WAIT),
                contextlib.suppress(Exception),
            ):
                await self.client.run(end_of_run, self.topic, on_error="return")
        # An own-named output whose result was lost with its worker (the task ran again
        # elsewhere) stays in a shared output folder: nothing of the run outlives it.
        remove_partials(list(self._finished.values()))
        for probe in self._probes.values():
            if probe:
                with contextlib.suppress(OSError):
                    os.unlink(probe)
        client, self.client = self.client, None
        if self._lost:  # its reconnection attempts are cut short: not an error worth a trace
            logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
        if client is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                with contextlib.suppress(Exception):
                    client.unsubscribe_topic(self.topic)
                await client.close()

    def _probe(self, folder: Path) -> str | None:
        """A file in the output folder that only a worker sharing that folder can read."""
        if folder not in self._probes:
            path = folder / f"{PROBE_PREFIX}{self.topic}"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(self.token)
            except OSError:
                self._probes[folder] = None  # no folder to share: outputs come back
            else:
                self._probes[folder] = str(path)
        return self._probes[folder]

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        """One batch of what a task said (called on this event loop by the Dask client)."""
        _, message = event
        live = self._live.get(str(message.get("k")))
        if live is None:
            return
        attempt = live.attempt
        placed = message.get("placed")
        if placed:
            worker, host = str(placed[0]), str(placed[1])
            if live.placements:
                previous = live.placements[-1]
                attempt.log.write(
                    f"[batchtui: worker {previous[0]} ({previous[1]}) was lost; the attempt "
                    f"runs again on worker {worker} ({host})]",
                    "batchtui",
                )
            live.placements.append((worker, host))
            live.received = 0  # a re-run numbers its batches afresh
            attempt.placed(worker, host)
        for kind, *rest in message.get("e") or ():
            if kind == "w":
                attempt.log.write(str(rest[1]), str(rest[0]))
            elif kind == "n":
                attempt.log.note(str(rest[0]))
            elif kind == "p":
                attempt.progress(float(rest[0]))
        live.received = max(live.received, int(message.get("n") or 0))
        if message.get("end") is not None:
            live.ended.set()
        live.changed.set()
        live.changed = anyio.Event()

    def for_pool(self, pool: str | None) -> Executor:
        """This executor for a pipeline stage whose attempts take one unit of the workers'
        resource `pool` (`dask worker --resources gpu=1`); None: placed as items are."""
        return self if pool is None else _PoolView(self, pool)

    async def run(self, attempt: Attempt, *, named: str | None = None) -> AttemptResult:
        """Run one attempt on the farm (`named`: on the workers offering that resource)."""
        client = self.client
        assert client is not None and self.info is not None, "open the executor first"
        job = attempt.job
        live = _Live(attempt)
        probe = self._probe(job.output.parent)
        keys: list[str] = []
        try:
            while True:  # again when the workers it may run on are gone and others are there
                key = f"batchtui-{job.batch_id[:8]}-{job.item_id}-a{job.attempt}-"
                key += secrets.token_hex(3)
                keys.append(key)
                self._live[key] = live
                live.pool = pool = await (
                    self._choose_pool() if named is None else self._named_pool(named)
                )
                # Render slots and named pools are resources: their tasks leave the worker's
                # thread pool (the resource bounds them); threads are slots. (A stage's pool
                # may itself be called 'threads' or 'render': `named` tells them apart.)
                held = pool.named or pool.name == RESOURCE
                busy = f"pool:{pool.name}" if pool.named else pool.name
                self._busy[busy] = self._busy.get(busy, 0) + 1
                try:
                    future = client.submit(
                        run_in_render_slot if held else run_attempt,
                        job,
                        self.topic,
                        probe,
                        self.token,
                        self.grace,
                        key=key,
                        pure=False,
                        retries=0,
                        resources={pool.name: 1} if held else None,
                        workers=pool.workers,
                        allow_other_workers=False,
                    )
                    result, failure = await self._outcome(future, live)
                finally:
                    self._busy[busy] -= 1
                if live.move or live.gave_up is not None:
                    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                        await client.cancel([future])
                if live.move:
                    live.move = False
                    continue
                if live.gave_up is not None and result is None and failure is None:
                    live.attempt.log.write(f"[batchtui: {live.gave_up}]", "batchtui")
                    return AttemptResult.host_lost(live.gave_up)
                return await self._result(future, live, result, failure)
        finally:
            for key in keys:
                self._live.pop(key, None)

    async def _outcome(
        self, future: Future, live: _Live
    ) -> tuple[dict[str, Any] | None, Exception | None]:
        """The task's result or error, while the farm is watched for the attempt; (None,
        None) when the watch took it back (`live.move`, `live.gave_up`)."""
        result: dict[str, Any] | None = None
        failure: Exception | None = None
        async with anyio.create_task_group() as watching:
            watching.start_soon(self._watch_farm, live, watching.cancel_scope)
            try:
                result = await future
            except anyio.get_cancelled_exc_class():
                if live.gave_up is None and not live.move:  # a user's cancel, a timeout
                    with anyio.CancelScope(shield=True):
                        await self._stop(future, live)
                raise
            except Exception as exc:  # the task's error, a cancel we did not ask for, a loss
                failure = exc
            finally:
                watching.cancel_scope.cancel()
        return result, failure

    async def _look(self) -> dict[str, Any] | None:
        """The farm's workers an attempt may use now, by address (None: the scheduler did not
        say); one look a `FARM_LOOK` for all the attempts out there. A worker seen for the
        first time is checked first: one with other versions is refused, in one line."""
        async with self._farm_lock:
            at, workers = self._farm_seen
            if anyio.current_time() - at < FARM_LOOK:
                return workers
            workers = None
            client = self.client
            if client is not None and client.scheduler is not None:
                with anyio.move_on_after(SCHEDULER_CHECK), contextlib.suppress(Exception):
                    identity = await client.scheduler.identity()
                    seen = dict(identity.get("workers") or {})
                    await self._check_new(seen)
                    workers = {a: w for a, w in seen.items() if a in self._checked}
            self._farm_seen = (anyio.current_time(), workers)
            return workers

    async def _check_new(self, seen: dict[str, Any]) -> None:
        """Check the versions of the workers in `seen` not met before: a worker that joins
        mid-run with other versions gets no item (its `render` is set to 0 at the scheduler,
        and no item names it), and every attempt out there says so in its log."""
        new = [a for a in seen if a not in self._checked and a not in self._refused]
        client = self.client
        if not new or client is None:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mismatches are ours to judge
            versions = await client.get_versions(packages=list(MATCHED))  # type: ignore[misc]
        mine = relevant_versions((versions.get("client") or {}).get("packages") or {})
        theirs = versions.get("workers") or {}
        for address in new:
            if address not in theirs:  # it joined after the scheduler asked: next look
                continue
            problem = worker_mismatch(mine, theirs[address])
            if problem is None:
                self._checked.add(address)
                continue
            name = (seen.get(address) or {}).get("name") or address
            line = (
                f"worker {name} ({address}) joined with {problem}: it gets no item (install "
                "the same versions on every render box)"
            )
            self._refused[address] = line
            with contextlib.suppress(Exception):
                assert client.scheduler is not None
                # Every resource it offers (a pipeline stage's pool too) goes to 0.
                offered = (seen.get(address) or {}).get("resources") or {}
                zeroed = {**dict.fromkeys(offered, 0), RESOURCE: 0}
                await client.scheduler.set_resources(resources=zeroed, worker=address)
            logging.getLogger(__name__).warning("batchtui: %s", line)
            for live in {id(v): v for v in self._live.values()}.values():
                live.attempt.log.write(f"[batchtui: {line}]", "batchtui")

    async def _named_pool(self, name: str) -> _Pool:
        """The workers' resource `name` (a pipeline stage's pool): every worker offering it."""
        workers = await self._look() or {}
        return _Pool(name, sum(_resource(w, name) for w in workers.values()), named=True)

    async def _choose_pool(self) -> _Pool:
        """The pool this attempt goes to: every worker is used, each with as many slots as its
        `render` says, or as its threads when it declares none; the attempt takes the pool
        with the most free slots (Dask cannot mix the two in one task's restrictions)."""
        pools = _pools(await self._look() or {})
        if not pools:  # no worker now: it waits (and moves once one is there)
            return _Pool(RESOURCE, 0)
        return max(pools, key=lambda pool: (pool.capacity - self._busy[pool.name], pool.name))

    async def _watch_farm(self, live: _Live, scope: anyio.CancelScope) -> None:
        """While the attempt is out: when none of the workers it may run on is left, send it
        to the others (`live.move`), or, with no worker left at all, say so in its log, show
        it waiting, and give it up after `NO_WORKER_WAIT` unless a worker joins."""
        attempt = live.attempt
        since: float | None = None
        placements = 0
        while not live.ended.is_set():
            await anyio.sleep(FARM_LOOK)
            workers = await self._look()
            if workers is None:  # a scheduler that does not answer is the run's loss, not ours
                continue
            if _usable(live.pool, workers):
                since = None
                continue
            named = live.pool is not None and live.pool.named
            if not named and _pools(workers):  # others can take it (joined, or the other kind)
                live.move = True
                scope.cancel()
                return
            if since is not None and len(live.placements) > placements:
                since = None  # placed again (and lost again) meanwhile: a new wait
            if since is None:
                since = anyio.current_time()
                placements = len(live.placements)
                lost = (
                    f"worker {live.placements[-1][0]} ({live.placements[-1][1]}) was lost and "
                    if live.placements
                    else ""
                )
                if named:
                    assert live.pool is not None
                    none = (
                        f"no worker on the farm at {self.address} offers {live.pool.name} "
                        f"(start one with --resources {live.pool.name}=1)"
                    )
                    said = (
                        f"no worker offers {live.pool.name}; start one with --resources "
                        f"{live.pool.name}=1 (waits up to {NO_WORKER_WAIT:g} s)"
                    )
                else:
                    none = f"no worker is left on the farm at {self.address}"
                    said = f"no worker left on the farm; waits up to {NO_WORKER_WAIT:g} s"
                attempt.log.write(
                    f"[batchtui: {lost}{none}; waiting up to {NO_WORKER_WAIT:g} s for one to join]",
                    "batchtui",
                )
                attempt.waiting(said)
            elif anyio.current_time() - since >= NO_WORKER_WAIT:
                what = (
                    f"offering {live.pool.name}"
                    if live.pool is not None and live.pool.named
                    else "was left"
                )
                live.gave_up = (
                    f"no worker {what} on the farm at {self.address} for {NO_WORKER_WAIT:g} s"
                )
                scope.cancel()
                return

    async def _scheduler_answers(self) -> bool:
        return await _scheduler_answers_within(self.client, SCHEDULER_CHECK)

    async def _stop(self, future: Future, live: _Live) -> None:
        """Release the task and wait until its worker says every process of it ended."""
        client = self.client
        if client is None or future.done():
            return
        with contextlib.suppress(Exception):
            await client.cancel([future])
        if live.placements and not self._lost:
            with anyio.move_on_after(STOP_WAIT + self.grace * 2):
                await live.ended.wait()
            if not live.ended.is_set():
                worker = live.placements[-1][0]
                live.attempt.log.write(
                    f"[batchtui: worker {worker} did not confirm the item stopped]", "batchtui"
                )

    async def _result(
        self,
        future: Future,
        live: _Live,
        result: dict[str, Any] | None,
        failure: Exception | None,
    ) -> AttemptResult:
        job = live.attempt.job
        self._finished[job.item_id] = job
        status = future.status
        if status == "finished":
            if result is None:  # its worker died as the result was fetched
                return AttemptResult.host_lost(f"the result could not be fetched: {failure}")
            with anyio.move_on_after(LINES_WAIT):
                while live.received < int(result.get("sent") or 0):
                    await live.changed.wait()
            if result.get("outcome") != "ok":
                kind = result.get("kind")
                return AttemptResult.failed(
                    str(result.get("reason") or "failed on its worker"),
                    FailureKind(kind) if kind else FailureKind.ERROR,
                )
            written = result.get("written")
            if written and written != str(job.output):  # the winning placement's own name
                try:
                    os.replace(written, job.output)
                    for suffix in SIDECARS:  # and what it wrote beside it (a poster)
                        beside = sidecar(Path(written), suffix)
                        if beside.exists():
                            os.replace(beside, sidecar(job.output, suffix))
                except OSError as exc:
                    return AttemptResult.failed(
                        f"the output the worker wrote is not in the output folder: "
                        f"{exc.strerror or exc}"
                    )
            pull = result.get("pull")
            if pull:  # no shared folder: the output waits on its worker, pulled in chunks
                return await fetch_output(self.client, pull, job.output)
            return AttemptResult.ok()
        if status == "error":
            if type(failure).__name__ == "KilledWorker":
                return AttemptResult.host_lost(
                    f"every worker that ran it died ({_places(live)}); Dask gave it up"
                )
            return AttemptResult.failed(f"{type(failure).__name__}: {failure}", FailureKind.CRASH)
        # Cancelled without our asking, or lost. A worker that died as it handed the result
        # over loses that one result, not the farm: only a scheduler that no longer answers
        # interrupts the whole run.
        if not self._lost and await self._scheduler_answers():
            return AttemptResult.host_lost(
                f"its worker was lost as it handed the result over ({_places(live)}); "
                "the scheduler is fine"
            )
        reason = f"the Dask scheduler at {self.address} was lost"
        live.attempt.log.write(f"[batchtui: {reason}]", "batchtui")
        if self.on_lost is not None:
            if not self._lost:
                self._lost = True
                self.on_lost(reason)
            await anyio.lowlevel.checkpoint()  # the run is being interrupted: let it land
        return AttemptResult.host_lost(reason)


async def _scheduler_answers_within(client: Any, seconds: float) -> bool:
    """Whether the scheduler behind `client` still answers (within `seconds`)."""
    if client is None or getattr(client, "status", None) != "running":
        return False
    with anyio.move_on_after(seconds):
        try:
            await client.scheduler.identity()
        except Exception:  # a closed comm, a lost connection: it does not
            return False
        return True
    return False


def _render(worker: Any) -> int:
    """The `render` slots a worker (its identity) declares; 0 when none."""
    return _resource(worker, RESOURCE)


def _resource(worker: Any, name: str) -> int:
    """How much of the resource `name` a worker (its identity) declares; 0 when none."""
    try:
        return int((worker.get("resources") or {}).get(name) or 0)
    except (AttributeError, TypeError, ValueError):
        return 0


def _pools(workers: dict[str, Any]) -> list[_Pool]:
    """The pools of slots of the (checked) `workers`: the `render` slots of those that declare
    them, and the threads of those that do not, named (so no other worker gets the item)."""
    render = sum(_render(w) for w in workers.values())
    plain = {a: w for a, w in workers.items() if RESOURCE not in (w.get("resources") or {})}
    pools = [_Pool(RESOURCE, render)] if render else []
    if plain:
        threads = sum(int(w.get("nthreads") or 1) for w in plain.values())
        pools.append(_Pool(THREADS, threads, sorted(plain)))
    return pools


def _usable(pool: _Pool | None, workers: dict[str, Any]) -> int:
    """How many of `workers` the attempt's `pool` lets its task run on."""
    if pool is None:
        return len(workers)
    if pool.named:
        return sum(1 for w in workers.values() if _resource(w, pool.name) > 0)
    if pool.name == RESOURCE:
        return sum(1 for w in workers.values() if _render(w) > 0)
    return sum(1 for address in pool.workers or () if address in workers)


def _places(live: _Live) -> str:
    return ", ".join(f"{worker} on {host}" for worker, host in live.placements) or "none"


class _PoolView:
    """A `DaskExecutor` as one pipeline stage sees it: its attempts take a unit of the
    workers' resource `pool` (the stage's host pool, on a farm)."""

    def __init__(self, farm: DaskExecutor, pool: str) -> None:
        self.farm = farm
        self.pool = pool

    @property
    def where(self) -> str:
        return self.farm.where

    @property
    def host(self) -> str | None:
        return self.farm.host

    async def run(self, attempt: Attempt) -> AttemptResult:
        return await self.farm.run(attempt, named=self.pool)
