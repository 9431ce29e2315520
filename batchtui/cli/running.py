"""A run in this process with live progress, and how a run's end is told: shared by `start`,
`retry`, `resume`, the detached runner and `attach`."""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

from ..core.errors import EXIT_OK, EXIT_RUN_FAILED
from ..core.forecast import money_words
from ..core.states import BatchStatus
from .output import RunDisplay, batch_json

if TYPE_CHECKING:
    from ..core.models import Batch
    from .context import Context


def run_here(
    ctx: Context, batch_id: str, handover_wait: float = 0.0, *, begun: Batch | None = None
) -> int:
    """Run a begun batch here with live progress; signals stop it cleanly (INTERRUPTED)."""
    import anyio  # the event loop loads for a run, not for every command

    # This process runs the items (a runner): it adopts the orphans they leave, to stop
    # them. Process-wide, so set here only.
    from ..core import child_watcher, heap, subreaper

    subreaper.install()
    child_watcher.install()  # the children it starts through asyncio: a pidfd each, no thread
    caught: signal.Signals | None = None

    async def main() -> Batch:
        nonlocal caught
        batch = begun or ctx.service.find_by_id(batch_id)
        assert batch is not None
        display = RunDisplay(batch, sys.stderr if ctx.json else None)

        async def watch_signals() -> None:
            nonlocal caught
            signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
            with anyio.open_signal_receiver(*signals) as received:
                async for signum in received:
                    caught = signal.Signals(signum)
                    display.console.print(f"{caught.name}: stopping running items …")
                    ctx.service.interrupt_all_here(f"stopped by {caught.name}")

        with display:
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch_signals)
                ended = await ctx.service.run(
                    batch_id, display.on_event, handover_wait=handover_wait, begun=begun
                )
                tg.cancel_scope.cancel()
        return ended

    # asyncio's own loop: uvloop measured no faster here (bench/ab_dispatch.py, 9 rounds: wall
    # 0.98x, rounds 0.81-1.12x; CPU 1.01x), so it is not worth a dependency.
    with heap.frozen():  # what is loaded by now outlives the run: no collection walks it
        ended = anyio.run(main)
    return report_end(ctx, ended, interrupted_by=caught)


def report_end(ctx: Context, ended: Batch, interrupted_by: signal.Signals | None) -> int:
    """Say how a run ended; its exit code (0 COMPLETE, 1 otherwise, 128+N for signal N)."""
    progress = ended.progress()

    def human() -> None:
        money = money_words(progress.cost, progress.budget)
        ctx.say(
            f"{ended.status.value}: {progress.succeeded}/{progress.total} succeeded"
            f" in {progress.elapsed or 0:.1f}s" + (f", {money}" if money else "")
        )
        if ended.status is not BatchStatus.COMPLETE:
            ctx.say(
                f"see why: batchtui failed {ended.id} — run them again: batchtui retry {ended.id}"
            )

    ctx.emit(batch_json(ended) if ctx.json else None, human)  # (made only to be printed)
    if interrupted_by is not None:
        return 128 + int(interrupted_by)
    return EXIT_OK if ended.status is BatchStatus.COMPLETE else EXIT_RUN_FAILED
