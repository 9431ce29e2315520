"""`batchtui attach ID`: follow a run from the database (any process's), until it ends or
ctrl+c detaches (the run goes on)."""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import aclosing
from typing import TYPE_CHECKING

from ...core.errors import EXIT_OK, NotFoundError, ValidationError
from ...core.states import BatchStatus
from ..context import Context
from ..options import batch_ref, json_option
from ..output import RunDisplay
from ..running import report_end
from .base import BaseCommand

if TYPE_CHECKING:
    from ...core.models import Batch


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
        deleted = False

        async def follow() -> Batch:
            nonlocal detached, lost, deleted
            current = batch
            display = RunDisplay(current, sys.stderr if ctx.json else None)
            if current.runner is not None:
                from rich.text import Text

                display.console.print(
                    Text(f"attached to {current.runner.describe(service.clock())}"),
                    style="dim",
                )
            with display, anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async with anyio.create_task_group() as tg:

                    async def on_signal() -> None:
                        nonlocal detached
                        async for _ in signals:
                            detached = True
                            tg.cancel_scope.cancel()
                            return

                    tg.start_soon(on_signal)
                    display.show_snapshot(current)
                    # The service follows it: a runner killed while we watch has its run
                    # ended (and shown as such) instead of being followed forever.
                    async with aclosing(service.follow(current.id)) as snapshots:
                        async for snapshot in snapshots:
                            current = snapshot.batch
                            deleted = snapshot.deleted
                            lost = lost or snapshot.runner_lost
                            display.show_snapshot(current)
                    tg.cancel_scope.cancel()
            return current

        ended = anyio.run(follow)
        if deleted:
            raise NotFoundError(f"batch '{ended.name}' was deleted while attached")
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
