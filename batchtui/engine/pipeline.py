"""A batch made in stages: one scheduler per stage, each item handed from one to the next.

Each stage has its own scheduler — its own concurrency, host pool, rate and retries — so item
1's mux runs while item 2 renders, and a GPU limit of 1 never throttles the API stages. An
item enters its first stage; each stage's output is verified, then kept in the stage cache
under the hash of what made it (`stage_keys.py`), and the item moves on. Before a stage runs,
the cache is asked: an output made from the same inputs (by an earlier run of this batch, a
crashed one, or another batch on the same output folder) is verified and taken instead. So a
retry resumes at the stage that failed, and changing only the last stage re-makes only that.

The canary and the failure limit are the pipeline's (an item is the unit): the canary runs
through every stage alone first; once too many items failed for good, no new item enters the
first stage, and the ones already in the pipeline finish.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import anyio
from anyio.abc import TaskGroup

from ..core.events import (
    EngineEvent,
    ItemFinished,
    ItemProgress,
    ItemRetrying,
    ItemStarted,
    ItemWaiting,
    StageEnded,
)
from ..core.models import BatchConfig, ItemStatus, utcnow
from ..core.models.config import any_length, for_stage
from ..core.models.stages import StageConfig
from ..core.pausing import PauseMode
from ..core.run import retry_note
from ..generators.base import POSTER, GeneratorError, Job, sidecar
from .finish import OutputFinisher
from .itemlog import ItemLog
from .layout import part_name
from .scheduler import Emit, Scheduler
from .stage_cache import StageCache
from .stage_finish import LastStageFinisher, StageFinisher
from .stage_keys import stage_key
from .verify import verify_output

MakeScheduler = Callable[[int, Emit, OutputFinisher], Scheduler]
"""Builds stage `index`'s scheduler (its executor, pool, rate) around an emit and finisher."""


@dataclass
class _Flow:
    """One item on its way through the stages."""

    job: Job
    """The item's job as the run made it (its final output, log, attempt to start from)."""
    stage: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    attempt: int = 0
    """The item's last attempt number (every stage's attempt is one of the item's)."""
    started: datetime | None = None
    ended: bool = False
    made: bool = False
    """A stage's job was made for it in this run (the first one takes the item's stored
    retry time and count)."""
    fed: Job | None = None
    """The job of the stage it is in, as it was queued (its key and output names)."""


class Pipeline:
    """Runs a batch with stages; controlled like a `Scheduler` (cancel, pause, priority,
    concurrency) by the runner."""

    def __init__(
        self,
        config: BatchConfig,
        emit: Emit,
        make_scheduler: MakeScheduler,
        cache: StageCache,
        generator_names: list[str],
        versions: list[str] | None = None,
    ) -> None:
        assert config.stages
        self.config = config
        self.stages: list[StageConfig] = list(config.stages)
        self.emit = emit
        self.cache = cache
        self.configs = [for_stage(config, index) for index in range(len(self.stages))]
        """Each stage's config, made once: the finisher's manifest knows a run by it."""
        self.versions = versions or ["1"] * len(self.stages)
        """Each stage's generator version (in its cache key)."""
        self.free = [any_length(config, index) for index in range(len(self.stages))]
        """Whether each stage's videos may last any length (`any_length`)."""
        last = len(self.stages) - 1
        self.last_finisher = LastStageFinisher(
            generator_names[last], cache, any_length=self.free[last]
        )
        self.schedulers: list[Scheduler] = []
        for index in range(len(self.stages)):
            finisher: OutputFinisher = (
                self.last_finisher
                if index == last
                else StageFinisher(
                    generator_names[index],
                    cache,
                    self._stage_made,
                    any_length=self.free[index],
                )
            )
            self.schedulers.append(make_scheduler(index, self._emitter(index), finisher))
        self._flows: dict[str, _Flow] = {}
        self._open = 0
        self._tg: TaskGroup | None = None
        self._held: list[_Flow] = []
        """Items held back until the canary came through (`canary`)."""
        self._canary: str | None = None
        self._failures = 0
        self._failure_limit: int | None = None
        self._halt: str | None = None
        self._cancelled = False
        self._stopped: str | None = None
        """Why the run was interrupted (not a user's cancel), if it was."""
        self._concurrency = config.concurrency
        self._checks = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))
        """Cached outputs verified at once (a video's check runs a probe)."""

    # ---------------------------------------------------------------- control (the runner's)

    @property
    def concurrency(self) -> int:
        return self._concurrency

    def set_concurrency(self, value: int) -> None:
        """The batch's concurrency: the stages that have no concurrency of their own."""
        self._concurrency = value
        for stage, scheduler in zip(self.stages, self.schedulers, strict=True):
            if stage.concurrency is None:
                scheduler.set_concurrency(value)

    def cancel(self, *, interrupt: bool = False, reason: str | None = None) -> None:
        self._cancelled = True
        if interrupt and self._stopped is None:
            self._stopped = reason or "interrupted"
        for scheduler in self.schedulers:
            scheduler.cancel(interrupt=interrupt, reason=reason)

    @property
    def paused(self) -> PauseMode | None:
        return self.schedulers[0].paused

    def pause(self, mode: PauseMode | None) -> None:
        for scheduler in self.schedulers:
            scheduler.pause(mode)

    def set_priority(self, value: int) -> None:
        for scheduler in self.schedulers:
            scheduler.set_priority(value)

    # ------------------------------------------------------------------------------ run

    async def run(self, jobs: list[Job]) -> None:
        """Run every item through the stages; returns when all have ended (or the run was
        cancelled)."""
        # (Each with the last stage's config: the manifest's run line is that of the outputs.)
        flows = [
            _Flow(dataclasses.replace(job, config=self.configs[-1]), attempt=job.attempt - 1)
            for job in jobs
        ]
        self._flows = {flow.job.item_id: flow for flow in flows}
        self._open = len(flows)
        self._failure_limit = self.config.failure_limit(len(jobs))
        if self.config.canary and flows:
            first = min(flows, key=lambda flow: flow.job.index)
            self._canary = first.job.item_id
            self._held = [flow for flow in flows if flow is not first]
            flows = [first]
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                for scheduler in self.schedulers:
                    tg.start_soon(self._run_stage, scheduler)
                if not self._open:
                    self._close()
                for flow in flows:
                    tg.start_soon(self._advance, flow)
        finally:
            self._tg = None
            self.last_finisher.close()
            # Items no stage had when the run stopped (held back, or between two stages).
            for flow in self._flows.values():
                self._never_started(flow)
            self._held = []

    async def _run_stage(self, scheduler: Scheduler) -> None:
        await scheduler.run([], fed=True)

    def _close(self) -> None:
        for scheduler in self.schedulers:
            scheduler.close_feed()

    # ----------------------------------------------------------------------- the stages

    def _stage_job(self, flow: _Flow, index: int) -> Job:
        """The job of stage `index` for the item of `flow` (its inputs the earlier stages')."""
        stage, config, base = self.stages[index], self.configs[index], flow.job
        wanted = stage.inputs if stage.inputs is not None else list(flow.outputs)
        inputs = {name: flow.outputs[name] for name in wanted if name in flow.outputs}
        previous = self.stages[index - 1].name if index else None
        last = index == len(self.stages) - 1
        attempt = flow.attempt + 1
        # An earlier stage's output is kept in the item's scratch folder until it is cached.
        final = base.final_output if last else base.scratch / f"{stage.name}.{config.output_ext}"
        output = final.parent / part_name(final.name, attempt)
        first, flow.made = not flow.made, True
        job = dataclasses.replace(
            base,
            config=config,
            stage=stage.name,
            inputs=inputs,
            input=flow.outputs.get(previous) if previous else None,
            attempt=attempt,
            output=output,
            final_output=final,
            not_before=base.not_before if first else None,
            retries_used=base.retries_used if first else 0,
        )
        keys = {name: flow.keys[name] for name in inputs}
        key = stage_key(stage, config, job, keys, self.versions[index])
        return dataclasses.replace(job, cache_key=key)

    async def _advance(self, flow: _Flow) -> None:
        """Take the item's next stages from the cache while they are there; queue the first
        one that is not (or put the finished output in place)."""
        while flow.stage < len(self.stages) and not self._cancelled:
            index = flow.stage
            job = self._stage_job(flow, index)
            found = None if job.rerender else await self._cached(job, index)
            if found is None:
                if index == 0 and self._halt is not None:
                    self._skip(flow)
                    return
                flow.fed = job
                self.schedulers[index].feed(job)
                return
            if index == len(self.stages) - 1:
                await self._adopt_last(flow, job, found)
                return
            self._stage_done(flow, job, found, cached=True)

    async def _cached(self, job: Job, index: int) -> Path | None:
        """The stage's output from the cache, verified (a damaged entry is dropped)."""
        assert job.cache_key is not None
        path = self.cache.lookup(job.cache_key, job.config.output_ext)
        if path is None:
            return None
        # A few checks at a time: a retry of 1,000 video items must not start 1,000 probes.
        async with self._checks:
            with anyio.move_on_after(job.config.timeout):
                try:
                    await verify_output(path, job.config, any_length=self.free[index])
                except GeneratorError:
                    with contextlib.suppress(OSError):
                        path.unlink()
                    return None
                return path
        return None

    async def _adopt_last(self, flow: _Flow, job: Job, found: Path) -> None:
        """The whole item from the cache: its output into place (a link, else a copy)."""
        final = job.final_output
        try:
            _place_copy(found, final)
            if os.path.exists(sidecar(found, POSTER)):  # its poster comes with it
                _place_copy(sidecar(found, POSTER), sidecar(final, POSTER))
        except OSError:
            flow.stage = len(self.stages) - 1
            flow.fed = dataclasses.replace(job, rerender=True)
            self.schedulers[-1].feed(flow.fed)
            return
        log = ItemLog(job.log_path)
        log.write(f"[batchtui: stage {job.stage}: taken from the cache ({found})]", "batchtui")
        log.close()
        self.last_finisher.record_adopted(job, log)
        self._stage_done(flow, job, final, cached=True)
        flow.ended = True
        self._ended(flow)
        self.emit(
            ItemFinished(job.batch_id, job.item_id, ItemStatus.SUCCEEDED, utcnow(), str(final))
        )
        self._came_through(flow)

    def _stage_done(self, flow: _Flow, job: Job, output: Path, *, cached: bool) -> None:
        assert job.stage is not None and job.cache_key is not None
        index = flow.stage
        flow.keys[job.stage] = job.cache_key
        flow.outputs[job.stage] = output
        flow.stage += 1
        now = utcnow()
        seconds = None
        if not cached and flow.started is not None:
            seconds = max(0.0, (now - flow.started).total_seconds())
        self.emit(
            StageEnded(
                job.batch_id,
                job.item_id,
                job.stage,
                ItemStatus.SUCCEEDED,
                now,
                key=job.cache_key,
                cached=cached,
                output=str(output),
                seconds=seconds,
                progress=(index + 1) / len(self.stages),
            )
        )
        if cached:
            self.last_finisher.record_stage(flow.job, job, output, cached=True)

    def _stage_made(self, job: Job, kept: Path) -> None:
        """A StageFinisher kept stage output `kept` (called before its ItemFinished)."""
        flow = self._flows.get(job.item_id)
        if flow is not None:
            flow.outputs[str(job.stage)] = kept
            self.last_finisher.record_stage(flow.job, job, kept, cached=False)

    # ------------------------------------------------------------------- the events

    def _emitter(self, index: int) -> Emit:
        return lambda event: self._on_event(index, event)

    def _on_event(self, index: int, event: EngineEvent) -> None:
        flow = self._flows.get(event.item_id)
        if flow is None:
            return
        stage = self.stages[index]
        share = 1 / len(self.stages)
        if isinstance(event, ItemStarted):
            flow.attempt = max(flow.attempt, event.attempt)
            flow.started = event.at
            self.emit(event)
        elif isinstance(event, ItemProgress):
            self.emit(dataclasses.replace(event, fraction=(index + event.fraction) * share))
        elif isinstance(event, ItemWaiting):
            detail = f"{stage.name}: {event.detail}" if event.detail else ""
            self.emit(dataclasses.replace(event, detail=detail))
        elif isinstance(event, ItemRetrying):
            note = event.note or retry_note(event.retry, event.retries, event.retry_at, event.at)
            self.emit(
                dataclasses.replace(
                    event, error=f"{stage.name}: {event.error}", note=f"{stage.name}: {note}"
                )
            )
        elif isinstance(event, ItemFinished):
            self._stage_finished(flow, index, event)
        else:
            self.emit(event)

    def _stage_finished(self, flow: _Flow, index: int, event: ItemFinished) -> None:
        stage = self.stages[index]
        last = index == len(self.stages) - 1
        if event.status is ItemStatus.SUCCEEDED:
            job = flow.fed  # (a retry's attempt has other part names: the same key and place)
            assert job is not None and job.stage == stage.name
            output = job.final_output if last else flow.outputs[stage.name]
            self._stage_done(flow, job, output, cached=False)
            if not last:
                assert self._tg is not None
                self._tg.start_soon(self._advance, flow)
                return
            flow.ended = True
            self._ended(flow)
            self.emit(event)
            self._came_through(flow)
            return
        error = event.error
        if error and (event.status is ItemStatus.FAILED or flow.started is not None):
            error = f"{stage.name}: {error}"  # where it failed, or was stopped
        if event.status is ItemStatus.FAILED:
            self.emit(
                StageEnded(
                    event.batch_id,
                    event.item_id,
                    stage.name,
                    event.status,
                    event.at,
                    error=event.error,
                )
            )
        flow.ended = True
        self._ended(flow)
        self.emit(dataclasses.replace(event, error=error))
        if event.status is ItemStatus.FAILED:
            self._failed_for_good(flow)

    def _ended(self, flow: _Flow) -> None:
        self._open -= 1
        if self._open <= 0:
            self._close()

    def _came_through(self, flow: _Flow) -> None:
        """An item succeeded: a canary that did lets the others in."""
        if flow.job.item_id != self._canary:
            return
        self._canary = None
        held, self._held = self._held, []
        assert self._tg is not None
        for other in held:
            self._tg.start_soon(self._advance, other)

    def _failed_for_good(self, flow: _Flow) -> None:
        self._failures += 1
        if flow.job.item_id == self._canary:
            self._canary = None
            self._stop(f"the canary, item {flow.job.label}, failed")
        elif self._failure_limit is not None and self._failures >= self._failure_limit:
            self._stop(f"{self._failures} items failed (max failures {self.config.max_failures})")

    def _stop(self, reason: str) -> None:
        """No new item enters the pipeline; those in it go on."""
        self._halt = reason
        self.schedulers[0].stop_early(reason)
        held, self._held = self._held, []
        for flow in held:
            self._skip(flow)

    def _skip(self, flow: _Flow) -> None:
        flow.ended = True
        self._ended(flow)
        job = flow.job
        self.emit(
            ItemFinished(
                job.batch_id,
                job.item_id,
                ItemStatus.SKIPPED,
                utcnow(),
                error=f"skipped: {self._halt}",
            )
        )

    def _never_started(self, flow: _Flow) -> None:
        """The run stopped while no stage had the item: cancelled (or interrupted) where it
        was."""
        if flow.ended:
            return
        flow.ended = True
        self._ended(flow)
        job = flow.job
        running = flow.started is not None  # (the item is RUNNING between two stages)
        where = "between two stages" if running else "before it started"
        status = ItemStatus.CANCELLED
        reason = "cancelled"
        if self._stopped is not None:
            reason = self._stopped
            status = ItemStatus.INTERRUPTED if running else ItemStatus.CANCELLED
        self.emit(
            ItemFinished(job.batch_id, job.item_id, status, utcnow(), error=f"{reason} {where}")
        )


def _place_copy(source: Path, target: Path) -> None:
    """`target` becomes a file with `source`'s bytes: a hard link when the file system allows
    (no space used), else a copy; written beside it and renamed, so it is whole or absent."""
    target.parent.mkdir(parents=True, exist_ok=True)  # (the batch's first output, maybe)
    temporary = target.with_name(f".{target.name}.from-cache")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)


__all__ = ["Pipeline"]
