"""A farm attempt that holds a `render` slot rather than one of its worker's threads.

Dask runs a task in its worker's thread pool, so a worker started with `--nthreads 1
--resources render=3` ran one item at a time, whatever its `render` said. An attempt mostly
waits on the item's processes, so it can leave the pool (`distributed.secede`): the worker
then starts the next task, and the `render` resource the task holds until it ends is what
bounds how many run at once. Only attempts that take a `render` slot do this; an attempt on a
worker without one keeps its thread (its threads are its slots).
"""

from __future__ import annotations

from ..generators.base import Job
from .dask_task import run_attempt


def run_in_render_slot(job: Job, topic: str, probe: str | None, token: str, grace: float) -> dict:
    """`run_attempt`, out of the worker's thread pool (its `render` slot bounds it)."""
    from distributed import secede

    secede()
    return run_attempt(job, topic, probe, token, grace)
