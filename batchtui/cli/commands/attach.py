"""`batchtui attach ID`: follow a run from the database (any process's), until it ends or
ctrl+c detaches (the run goes on)."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

from ...core.errors import EXIT_OK, ValidationError
from ...core.states import BatchStatus
from ..context import Context
from ..options import batch_ref, json_option
from ..output import RunDisplay
from ..running import report_end
from .base import BaseCommand

if TYPE_CHECKING:
    from ...core.models import Batch

ATTACH_POLL = 0.2  # seconds between looks at the database while attached
LIVENESS_EVERY = 5  # polls between checks that the runner still lives (one second)


class Attach(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        import anyio  # the event loop loads for following, not for every command

        service = ctx.service
        batch = service.get(args.id)
        if batch.status in (BatchStatus.DRAFT, BatchStatus.LOCKED):
            raise ValidationError(
                f"batch '{batch.name}' is {batch.status.value}, not running — "
                f"start it: batchtui start {batch.id}"
            )
        detached = False
        lost = False

        async def follow() -> Batch:
            nonlocal detached, lost
            current = batch
            display = RunDisplay(current, sys.stderr if ctx.json else None)
            if current.runner is not None:
                from rich.text import Text

                display.console.print(
                    Text(f"attached to {current.runner.describe(service.clock())}"),
                    style="dim",
                )
            with display, anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                stop = anyio.Event()

                async def on_signal() -> None:
                    nonlocal detached
                    async for _ in signals:
                        detached = True
                        stop.set()
                        return

                async with anyio.create_task_group() as tg:
                    tg.start_soon(on_signal)
                    seen: object = None
                    display.show_snapshot(current)
                    polls = 0
                    while current.status is BatchStatus.PROCESSING and not stop.is_set():
                        with anyio.move_on_after(ATTACH_POLL):
                            await stop.wait()
                        polls += 1
                        # A runner killed while we watch: its run is ended (and shows as
                        # such) instead of being followed forever.
                        if polls % LIVENESS_EVERY == 0 and any(
                            b.id == current.id for b in service.recover_orphans()
                        ):
                            lost = True
                        signature = service.version()
                        if signature != seen:
                            seen = signature
                            current = service.find_by_id(current.id) or current
                            display.show_snapshot(current)
                    tg.cancel_scope.cancel()
            return current

        ended = anyio.run(follow)
        if detached:
            ctx.say(
                f"detached: '{ended.name}' goes on in the background — stop it: "
                f"batchtui cancel {ended.id}"
            )
            return EXIT_OK
        if lost and not ctx.json:
            ctx.say(
                f"the runner of '{ended.name}' stopped (killed, crashed or rebooted); its "
                f"running items are INTERRUPTED"
            )
        return report_end(ctx, ended, interrupted_by=None)
