"""The anyio worker pool: run items in parallel under a limit, isolate every failure.

Each item runs in its own guarded scope: an exception, a non-zero exit, a timeout or an invalid
output fails that item only, with a one-line reason; the rest go on. Events go to a plain
callback, so the same engine runs under the CLI and inside the TUI.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import anyio
from anyio.abc import TaskGroup

from ..core.models import BatchConfig, ItemStatus, utcnow
from ..generators.base import Generator, GeneratorError, Job, LineHandler
from .events import EngineEvent, ItemFinished, ItemProgress, ItemStarted
from .liveness import BATCH_ENV, ITEM_ENV, use_pidfd_child_watcher
from .manifest import Manifest, read_manifest
from .outputs import verify_output
from .process import ItemLog, run_logged

Emit = Callable[[EngineEvent], None]


@dataclass
class _ItemContext:
    """The `Context` a generator sees for one item attempt."""

    job: Job
    log_file: ItemLog
    emit: Emit
    grace: float
    last_fraction: float = 0.0

    def progress(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        # Ignore noise: only report a step of at least 1% (or the end).
        if fraction - self.last_fraction >= 0.01 or (fraction >= 1.0 > self.last_fraction):
            self.last_fraction = fraction
            self.emit(ItemProgress(self.job.batch_id, self.job.item_id, fraction))

    def log(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.log_file.write(line, "batchtui")

    async def run(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        on_line: LineHandler | None = None,
        log_stdout: bool = True,
    ) -> None:
        await run_logged(
            argv,
            self.log_file,
            cwd=cwd or Path(self.job.config.workdir),
            on_line=on_line,
            grace=self.grace,
            log_stdout=log_stdout,
            # Inherited by grandchildren: how a crashed runner's leftovers are found.
            env={**_base_env(), ITEM_ENV: self.job.item_id, BATCH_ENV: self.job.batch_id},
        )


class Engine:
    """Runs jobs with at most `concurrency` at once; the limit can change while running.

    A pool of worker tasks, one per slot, takes jobs from a queue: 10,000 queued items cost a
    deque entry each, not a waiting task and a lock waiter each.
    """

    def __init__(self, generator: Generator, emit: Emit, *, concurrency: int, grace: float = 3.0):
        self.generator = generator
        self.emit = emit
        self.grace = grace
        self._queue: deque[Job] = deque()
        self._workers = 0
        self._tg: TaskGroup | None = None
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False
        self._stop_status = ItemStatus.CANCELLED
        self._stop_reason = "cancelled"
        self._manifests: dict[Path, tuple[BatchConfig, Manifest]] = {}
        self._run_started = utcnow()
        self._adoptable: dict[Path, dict[str, dict]] = {}
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
        self._run_started = utcnow()  # the manifest's `run` line says when this run began
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
            for _, manifest in self._manifests.values():
                with contextlib.suppress(OSError):
                    manifest.close()
            self._manifests.clear()
            self._adoptable.clear()
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
                if job.attempt > 1 and await self._adopt(job):
                    continue
                await self._attempt(job)
        finally:
            self._workers -= 1

    async def _attempt(self, job: Job) -> None:
        started = utcnow()
        # The per-item file work (open the log; later move, manifest line, close) is a few
        # small local syscalls, done right here: measured, a worker-thread trip per item cost
        # more than the work (GIL hand-offs: 1,000 no-ops took 1.5 s instead of 0.95 s).
        log = self._open_log(job, started)
        self.emit(
            ItemStarted(
                job.batch_id,
                job.item_id,
                job.attempt,
                started,
                str(job.log_path),
                f"pid {os.getpid()}",
            )
        )
        ctx = _ItemContext(job, log, self.emit, self.grace)
        error = "failed"
        try:
            with anyio.move_on_after(job.config.timeout) as deadline:
                await self.generator.generate(job, ctx)
                await verify_output(job.output, job.config)
            if deadline.cancelled_caught:
                error = f"timed out after {job.config.timeout:g}s"
            else:
                self._succeed(job, started, log)
                self.emit(
                    ItemFinished(
                        job.batch_id,
                        job.item_id,
                        ItemStatus.SUCCEEDED,
                        utcnow(),
                        str(job.final_output),
                    )
                )
                return
        except anyio.get_cancelled_exc_class():
            log.write(f"[batchtui: {self._stop_reason}]", "batchtui")
            with anyio.CancelScope(shield=True):
                self._cleanup(job, log)
            self.emit(
                ItemFinished(
                    job.batch_id,
                    job.item_id,
                    self._stop_status,
                    utcnow(),
                    error=f"{self._stop_reason} while running",
                )
            )
            raise
        except GeneratorError as exc:
            error = _one_line(str(exc))
            if not job.output.parent.is_dir():
                if "was deleted" not in error:
                    error = _one_line(
                        f"the output folder {job.output.parent} was deleted while the item "
                        f"ran ({error})"
                    )
                with contextlib.suppress(OSError):  # so the items after this one can go on
                    job.output.parent.mkdir(parents=True, exist_ok=True)
        except Exception as exc:  # isolation: a generator bug fails this item only
            log.write("".join(traceback.format_exception(exc)), "batchtui")
            error = _one_line(f"{type(exc).__name__}: {exc}")
        log.write(f"[batchtui: FAILED: {error}]", "batchtui")
        self._cleanup(job, log)
        self.emit(ItemFinished(job.batch_id, job.item_id, ItemStatus.FAILED, utcnow(), error=error))

    @staticmethod
    def _open_log(job: Job, started: datetime) -> ItemLog:
        log = ItemLog(job.log_path)
        log.note(f"=== attempt {job.attempt} of item {job.index} at {started.isoformat()} ===")
        return log

    def _succeed(self, job: Job, started: datetime, log: ItemLog) -> None:
        """Move the checked output into place, record it in the manifest, close the log."""
        try:
            os.replace(job.output, job.final_output)
            manifest = self._manifest(job)
            manifest.append(self._record(job, started, log, manifest.run["config_hash"]))
        except OSError as exc:
            raise GeneratorError(
                f"could not put the output in {job.final_output.parent}: {exc.strerror} "
                "(was the output folder moved or deleted?)"
            ) from None
        log.note(f"[batchtui: SUCCEEDED: {job.final_output}]")
        self._cleanup(job, log, moved=True)

    async def _adopt(self, job: Job) -> bool:
        """Take over an output a previous attempt finished before its runner died.

        The manifest records an output only after it is complete and in place, so an output
        the manifest says this item made with this exact config is whole; it is checked once
        more and, if valid, recorded instead of rendered again.
        """
        folder = job.final_output.parent
        if folder not in self._adoptable:  # read once per run, and only when retrying
            self._adoptable[folder] = read_manifest(folder)
        record = self._adoptable[folder].get(job.final_output.name)
        if record is None or record.get("item_id") != job.item_id:
            return False
        if record.get("config_hash") != job.config.fingerprint():
            return False
        try:
            await verify_output(job.final_output, job.config)
        except GeneratorError:
            return False
        log = ItemLog(job.log_path)
        log.write(f"[batchtui: adopted the finished output {job.final_output}]", "batchtui")
        log.close()
        self.emit(
            ItemFinished(
                job.batch_id, job.item_id, ItemStatus.SUCCEEDED, utcnow(), str(job.final_output)
            )
        )
        return True

    def _cleanup(self, job: Job, log: ItemLog, *, moved: bool = False) -> None:
        log.close()
        if not moved:  # a partial output never stays behind
            with contextlib.suppress(FileNotFoundError):
                job.output.unlink()
        # Only generators that need a scratch folder make one; asking first is cheaper than
        # rmtree's FileNotFoundError on every item.
        if os.access(job.scratch, os.F_OK):
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(job.scratch)

    def _manifest(self, job: Job) -> Manifest:
        """The manifest of the job's batch folder, with this run's `run` record."""
        folder = job.final_output.parent
        entry = self._manifests.get(folder)
        if entry is not None and entry[0] is job.config:  # the same run: hashed once
            return entry[1]
        if entry is not None:
            entry[1].close()
        manifest = Manifest(
            folder,
            {
                "kind": "run",
                "started_at": self._run_started.isoformat(),
                "batch_id": job.batch_id,
                "batch_name": job.batch_name,
                "generator": self.generator.name,
                "config_hash": job.config.fingerprint(),
                "config": job.config.render_fields(),
            },
        )
        self._manifests[folder] = (job.config, manifest)
        return manifest

    @staticmethod
    def _record(job: Job, started: datetime, log: ItemLog, config_hash: str) -> dict[str, object]:
        """The manifest's line for this item's output."""
        return {
            "kind": "output",
            "output": job.final_output.name,
            "item_id": job.item_id,
            "position": job.index,
            "content": job.content,
            "attempts": job.attempt,
            "started_at": started.isoformat(),
            "finished_at": utcnow().isoformat(),
            "log": str(job.log_path) if log.exists else None,  # a quiet success has none
            "config_hash": config_hash,
        }


@functools.cache
def _base_env() -> dict[str, str]:
    """The environment children inherit, copied once (os.environ decodes on every read)."""
    return dict(os.environ)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
