"""The run loop of a runner process: one batch's jobs through the scheduler, every event
folded into the batch and persisted (coalesced) by the recorder.

Whoever calls this owns the run: the foreground `batchtui start`, or a detached runner. A
client (the TUI, the API server) never does; it starts a runner and watches the store.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio

from ..core.errors import ValidationError
from ..core.events import EngineEvent
from ..core.models import Batch
from ..core.models.config import for_stage
from ..core.pausing import stronger
from ..core.settings import HostSettings, load_host_settings
from ..engine import LocalExecutor, OutputFinisher, Scheduler
from ..engine.executor import Executor
from ..engine.fdwatch import fd_watch
from ..engine.host_pause import read_host_pause
from ..engine.layout import jobs_for, remove_empty_work, remove_partials
from ..engine.pipeline import Pipeline
from ..engine.rates import rate_buckets
from ..engine.run_control import RunControl
from ..engine.scheduler import Emit
from ..engine.slots import POOLS_FOLDER, HostSlots
from ..engine.stage_cache import StageCache, cache_root
from ..generators import Generator, get_generator
from ..store import Repository
from .money import RunMoney
from .notify.run_news import RunNews
from .recorder import Listener, RunRecorder


async def run_batch(
    repo: Repository,
    batch: Batch,
    *,
    clock: Callable[[], datetime],
    listener: Listener | None = None,
    flush_interval: float = 0.25,
    active: dict[str, RunControl] | None = None,
) -> Batch:
    """Run a PROCESSING batch this process owns until it ends; returns the ended batch.

    `active` maps batch ids to the schedulers running in this process, for cancel and
    concurrency changes from the same process.
    """
    config = batch.config
    generator = get_generator(config.generator)
    cluster = batch.runner.cluster if batch.runner else None
    host = load_host_settings()  # afresh for every run: a long-lived process sees edits
    news = RunNews(repo.path, batch, clock)
    if news.host is not None:
        listener = _both(listener, news.heard)
    money = RunMoney(batch, host.slots if host.slots and not cluster else None, clock)
    listener = _both(listener, money.heard)
    held: list[Scheduler] = []  # the scheduler a forecast's hold is on, once known
    recorder = RunRecorder(
        repo,
        batch,
        clock,
        listener,
        flush_interval,
        host.slots_dir,
        on_final=news.ending,
        on_confirmed=lambda: _release(held),
    )
    news.started(batch)
    try:
        async with _executor(generator, cluster, host) as (executor, lost):
            scheduler: RunControl
            if config.stages:
                scheduler = _pipeline(batch, recorder.apply, executor, cluster, host)
            else:
                # Items on a render farm take the farm's slots, not this host's.
                slots = (
                    HostSlots(host.slots, host.slots_dir) if host.slots and not cluster else None
                )
                scheduler = Scheduler(
                    executor,
                    OutputFinisher(generator.name),
                    recorder.apply,
                    concurrency=config.concurrency,
                    slots=slots,
                    priority=batch.priority or 0,
                    rates=rate_buckets(config, host),
                )
            lost.append(lambda reason: scheduler.cancel(interrupt=True, reason=reason))
            if batch.cancel_requested:  # cancelled between the hand-over and our first read
                scheduler.cancel()
            else:  # a paused batch (or host) starts paused: not one item starts before
                scheduler.pause(stronger(batch.paused, read_host_pause(host.slots_dir)))
            if active is not None:
                active[batch.id] = scheduler
            jobs = jobs_for(batch, _output_ext(batch, generator))
            if config.canary and jobs:
                money.canary = min(jobs, key=lambda job: job.index).item_id
            first = scheduler.schedulers[0] if isinstance(scheduler, Pipeline) else scheduler
            first.gate = money.gate  # no new item past the budget
            held.append(first)
            money.on_hold = functools.partial(first.hold, "waiting for a yes to the forecast")
            remove_partials(jobs)
            async with anyio.create_task_group() as tg:
                tg.start_soon(recorder.flush_loop, scheduler)
                try:
                    await scheduler.run(jobs)
                finally:
                    tg.cancel_scope.cancel()
    finally:
        if active is not None:
            active.pop(batch.id, None)
        with anyio.CancelScope(shield=True):
            batch = recorder.finish()
        news.ended()
        remove_empty_work(batch)
    return batch


def _release(held: list[Scheduler]) -> None:
    """A yes to the forecast: the items held back start."""
    for scheduler in held:
        scheduler.release()


def _both(first: Listener | None, second: Listener) -> Listener:
    """A listener that tells `first` (when there is one), then `second`."""
    if first is None:
        return second

    def both(event: EngineEvent, batch: Batch) -> None:
        first(event, batch)
        second(event, batch)

    return both


def _output_ext(batch: Batch, generator: Generator) -> str:
    """The extension of the batch's outputs (a pipeline's: its last stage's)."""
    if batch.config.stages:
        return batch.config.output_ext
    return generator.output_ext(batch.config)


def _pipeline(
    batch: Batch, emit: Emit, executor: Executor, cluster: str | None, host: HostSettings
) -> Pipeline:
    """The stages of `batch` as a pipeline: a scheduler each, with the stage's generator,
    host pool (on this host: its slots; on a farm: the workers' resource), concurrency and
    rate."""
    config = batch.config
    assert config.stages
    names = [stage.program for stage in config.stages]
    versions = [get_generator(name).version for name in names]

    def make(index: int, emit: Emit, finisher: OutputFinisher) -> Scheduler:
        assert config.stages
        stage, stage_config = config.stages[index], for_stage(config, index)
        slots = None
        if not cluster:
            if stage.pool is not None:
                count = host.pools.get(stage.pool)
                if count is None:  # (checked at lock and start: settings.toml changed since)
                    raise ValidationError(
                        f"stage '{stage.name}': pool '{stage.pool}' is not one this host names"
                    )
                slots = HostSlots(count, host.slots_dir / POOLS_FOLDER / stage.pool, stage.pool)
            elif host.slots:
                slots = HostSlots(host.slots, host.slots_dir)
        rates = rate_buckets(stage_config, host)
        if index == 0:  # the batch's own rate paces its items' starts
            rates = [*rate_buckets(config, host), *rates]
        stage_executor = executor
        if isinstance(executor, LocalExecutor):  # (a farm's tasks find their stage's program)
            stage_executor = executor.for_stage(get_generator(stage.program))
        elif cluster and stage.pool is not None:  # a pool on a farm: the workers' resource
            from ..engine.dask_executor import DaskExecutor

            assert isinstance(executor, DaskExecutor)
            stage_executor = executor.for_pool(stage.pool)
        return Scheduler(
            stage_executor,
            finisher,
            emit,
            concurrency=stage_config.concurrency,
            slots=slots,
            priority=batch.priority or 0,
            rates=rates,
        )

    cache = StageCache(cache_root(config.output_dir))
    return Pipeline(config, emit, make, cache, names, versions)


@contextlib.asynccontextmanager
async def _executor(
    generator: Generator, cluster: str | None, host: HostSettings
) -> AsyncIterator[tuple[Executor, list[Callable[[str], None]]]]:
    """The run's executor (on this host, or on the Dask cluster at `cluster`), and a list the
    caller puts the scheduler's interrupt in, for a scheduler lost mid-run."""
    lost: list[Callable[[str], None]] = []
    if cluster is None:
        with fd_watch() as watch:
            yield LocalExecutor(generator, watch=watch, slot_env=host.env_for), lost
        return
    from ..engine.dask_executor import DaskExecutor  # Dask loads only for a cluster run

    def on_lost(reason: str) -> None:
        for interrupt in lost:
            interrupt(reason)

    async with DaskExecutor(cluster, on_lost=on_lost) as executor:
        yield executor, lost
