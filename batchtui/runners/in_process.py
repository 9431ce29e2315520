"""The run loop of a runner process: one batch's jobs through the scheduler, every event
folded into the batch and persisted (coalesced) by the recorder.

Whoever calls this owns the run: the foreground `batchtui start`, or a detached runner. A
client (the TUI, the API server) never does; it starts a runner and watches the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio

from ..core.models import Batch
from ..core.settings import HostSettings, load_host_settings
from ..engine import LocalExecutor, OutputFinisher, Scheduler
from ..engine.executor import Executor
from ..engine.fdwatch import fd_watch
from ..engine.layout import jobs_for, remove_empty_work, remove_partials
from ..engine.rates import rate_buckets
from ..engine.slots import HostSlots
from ..generators import Generator, get_generator
from ..store import Repository
from .recorder import Listener, RunRecorder


async def run_batch(
    repo: Repository,
    batch: Batch,
    *,
    clock: Callable[[], datetime],
    listener: Listener | None = None,
    flush_interval: float = 0.25,
    active: dict[str, Scheduler] | None = None,
) -> Batch:
    """Run a PROCESSING batch this process owns until it ends; returns the ended batch.

    `active` maps batch ids to the schedulers running in this process, for cancel and
    concurrency changes from the same process.
    """
    generator = get_generator(batch.config.generator)
    cluster = batch.runner.cluster if batch.runner else None
    recorder = RunRecorder(repo, batch, clock, listener, flush_interval)
    host = load_host_settings()  # afresh for every run: a long-lived process sees edits
    try:
        async with _executor(generator, cluster, host) as (executor, lost):
            # Items on a render farm take the farm's slots, not this host's.
            slots = HostSlots(host.slots, host.slots_dir) if host.slots and not cluster else None
            scheduler = Scheduler(
                executor,
                OutputFinisher(generator.name),
                recorder.apply,
                concurrency=batch.config.concurrency,
                slots=slots,
                priority=batch.priority or 0,
                rates=rate_buckets(batch.config, host),
            )
            lost.append(lambda reason: scheduler.cancel(interrupt=True, reason=reason))
            if batch.cancel_requested:  # cancelled between the hand-over and our first read
                scheduler.cancel()
            if active is not None:
                active[batch.id] = scheduler
            jobs = jobs_for(batch, generator.output_ext(batch.config))
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
        remove_empty_work(batch)
    return batch


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
