"""`DaskExecutor`: item attempts run on the workers of a Dask cluster (a render farm).

The coordinator, the batch's runner, keeps everything it keeps for a local run: the queue, the
concurrency limit, timeouts, the database, the manifest and the events. Only the attempt itself
moves: one attempt is one Dask task (`dask_task.run_attempt`) with an explicit key, Dask's own
retries off (batchtui owns retries). Dask re-runs a task whose worker died on another worker;
that is recorded (a new placement, a line in the log), never counted as the item's failure. Only
a task whose workers keep dying (Dask's `allowed-failures`) ends as "host lost".

Lines, progress and placements arrive live as structured events on the run's topic. Cancelling
(a user's cancel, a timeout) releases the task; the task sees it and stops the item's process
group on its worker, and the coordinator waits for its word that every process has ended.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ..generators.base import SIDECARS, Job, sidecar
from .cluster import ClusterInfo, check, connect
from .dask_task import end_of_run, run_attempt
from .executor import Attempt, AttemptResult, FailureKind
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


@dataclass
class _Live:
    """What the coordinator knows of one submitted attempt."""

    attempt: Attempt
    received: int = 0
    placements: list[tuple[str, str]] = field(default_factory=list)
    """(worker, host) of each run of the attempt: more than one when a worker was lost."""
    ended: anyio.Event = field(default_factory=anyio.Event)
    changed: anyio.Event = field(default_factory=anyio.Event)


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

    async def run(self, attempt: Attempt) -> AttemptResult:
        client = self.client
        assert client is not None and self.info is not None, "open the executor first"
        job = attempt.job
        key = f"batchtui-{job.batch_id[:8]}-{job.item_id}-a{job.attempt}-{secrets.token_hex(3)}"
        live = _Live(attempt)
        self._live[key] = live
        probe = self._probe(job.output.parent)
        future = client.submit(
            run_attempt,
            job,
            self.topic,
            probe,
            self.token,
            self.grace,
            key=key,
            pure=False,
            retries=0,
            resources=self.info.resources,
        )
        try:
            result: dict[str, Any] | None = None
            failure: Exception | None = None
            try:
                result = await future
            except anyio.get_cancelled_exc_class():
                with anyio.CancelScope(shield=True):
                    await self._stop(future, live)
                raise
            except Exception as exc:  # the task's error, a cancel we did not ask for, a loss
                failure = exc
            return await self._result(future, live, result, failure)
        finally:
            self._live.pop(key, None)

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


def _places(live: _Live) -> str:
    return ", ".join(f"{worker} on {host}" for worker, host in live.placements) or "none"
