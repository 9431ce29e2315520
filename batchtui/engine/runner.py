"""The anyio worker pool: run items in parallel under a limit, isolate every failure.

Each item runs in its own guarded scope: an exception, a non-zero exit, a timeout or an invalid
output fails that item only, with a one-line reason; the rest go on. Events go to a plain
callback, so the same engine runs under the CLI and inside the TUI.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import anyio
from anyio.abc import Process

from ..generators.base import Generator, GeneratorError, Job, LineHandler
from ..models import ItemStatus, utcnow
from .events import EngineEvent, ItemFinished, ItemProgress, ItemStarted
from .outputs import verify_output, write_sidecar
from .process import ItemLog, run_logged

Emit = Callable[[EngineEvent], None]


@dataclass
class _ItemContext:
    """The `Context` a generator sees for one item attempt."""

    job: Job
    log_file: ItemLog
    emit: Emit
    grace: float
    pids: set[int]
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
        pids: list[int] = []

        def started(process: Process) -> None:
            pids.append(process.pid)
            self.pids.add(process.pid)

        try:
            await run_logged(
                argv,
                self.log_file,
                cwd=cwd or Path(self.job.config.workdir),
                on_line=on_line,
                on_start=started,
                grace=self.grace,
                log_stdout=log_stdout,
            )
        finally:
            self.pids.difference_update(pids)


class Engine:
    """Runs jobs with at most `concurrency` at once; the limit can change while running."""

    def __init__(self, generator: Generator, emit: Emit, *, concurrency: int, grace: float = 3.0):
        self.generator = generator
        self.emit = emit
        self.grace = grace
        self.limiter = anyio.CapacityLimiter(concurrency)
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False
        self.running_pids: set[int] = set()

    @property
    def concurrency(self) -> int:
        return int(self.limiter.total_tokens)

    def set_concurrency(self, value: int) -> None:
        """Change the limit now: more slots start waiting items at once; fewer take effect as
        running items finish (nothing running is stopped)."""
        if value < 1 or math.isinf(value):
            raise ValueError("concurrency must be at least 1")
        self.limiter.total_tokens = value

    def cancel(self) -> None:
        """Stop the run: waiting items become CANCELLED, running ones are stopped and too."""
        self._cancel_requested = True
        if self._scope is not None:
            self._scope.cancel()

    async def run(self, jobs: list[Job]) -> None:
        """Run every job; returns when all have ended (or the run was cancelled)."""
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._cancel_requested:
                scope.cancel()
            async with anyio.create_task_group() as tg:
                for job in jobs:
                    tg.start_soon(self._run_one, job)
        self._scope = None

    async def _run_one(self, job: Job) -> None:
        began = False
        try:
            async with self.limiter:
                began = True
                await self._attempt(job)
        except anyio.get_cancelled_exc_class():
            if not began:  # cancelled while waiting for a slot: it never started
                self.emit(
                    ItemFinished(
                        job.batch_id,
                        job.item_id,
                        ItemStatus.CANCELLED,
                        utcnow(),
                        error="cancelled before it started",
                    )
                )
            raise

    async def _attempt(self, job: Job) -> None:
        started = utcnow()
        job.output.parent.mkdir(parents=True, exist_ok=True)
        log = ItemLog(job.log_path)
        log.write(
            f"=== attempt {job.attempt} of item {job.index} at {started.isoformat()} ===",
            "batchtui",
        )
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
        ctx = _ItemContext(job, log, self.emit, self.grace, self.running_pids)
        status, error, output = ItemStatus.FAILED, None, None
        try:
            with anyio.move_on_after(job.config.timeout) as deadline:
                job.scratch.mkdir(parents=True, exist_ok=True)
                await self.generator.generate(job, ctx)
                await verify_output(job.output, job.config)
            if deadline.cancelled_caught:
                error = f"timed out after {job.config.timeout:g}s"
            else:
                os.replace(job.output, job.final_output)
                write_sidecar(job.final_output, self._sidecar(job, started))
                status, output = ItemStatus.SUCCEEDED, str(job.final_output)
        except anyio.get_cancelled_exc_class():
            log.write("[batchtui: cancelled]", "batchtui")
            with anyio.CancelScope(shield=True):
                self._cleanup(job, log)
            self.emit(
                ItemFinished(
                    job.batch_id,
                    job.item_id,
                    ItemStatus.CANCELLED,
                    utcnow(),
                    error="cancelled while running",
                )
            )
            raise
        except GeneratorError as exc:
            error = _one_line(str(exc))
        except Exception as exc:  # isolation: a generator bug fails this item only
            log.write("".join(traceback.format_exception(exc)), "batchtui")
            error = _one_line(f"{type(exc).__name__}: {exc}")
        if error is not None:
            log.write(f"[batchtui: FAILED: {error}]", "batchtui")
        else:
            log.write(f"[batchtui: SUCCEEDED: {output}]", "batchtui")
        self._cleanup(job, log)
        self.emit(ItemFinished(job.batch_id, job.item_id, status, utcnow(), output, error))

    def _cleanup(self, job: Job, log: ItemLog) -> None:
        log.close()
        with contextlib.suppress(FileNotFoundError):
            job.output.unlink()
        shutil.rmtree(job.scratch, ignore_errors=True)

    def _sidecar(self, job: Job, started: datetime) -> dict[str, object]:
        return {
            "batch_id": job.batch_id,
            "batch_name": job.batch_name,
            "item_id": job.item_id,
            "position": job.index,
            "content": job.content,
            "config_hash": job.config.fingerprint(),
            "config": job.config.render_fields(),
            "generator": self.generator.name,
            "attempts": job.attempt,
            "started_at": started.isoformat(),
            "finished_at": utcnow().isoformat(),
            "log": str(job.log_path),
        }


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
