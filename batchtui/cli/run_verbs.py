"""Verbs of runs: start and retry (here, or detached), attach, cancel, concurrency, and the
detached runner itself."""

from __future__ import annotations

import os
import signal
import sys
from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio

from ..core.errors import EXIT_OK, EXIT_RUN_FAILED, NotFoundError, ValidationError
from ..core.states import BatchStatus
from .base import CliBase
from .output import RunDisplay, batch_json

if TYPE_CHECKING:
    from ..core.models import Batch


class RunVerbs(CliBase):
    def do_start(self) -> int:
        return self._run(retry=False)

    def do_retry(self) -> int:
        return self._run(retry=True)

    def do_resume(self) -> int:
        return self._run(retry=True)

    def do_attach(self) -> int:
        """Follow a run from the database (any process's), until it ends or ctrl+c detaches."""
        batch = self.service.get(self.args.id)
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
            display = RunDisplay(current, sys.stderr if self.args.json else None)
            if current.runner is not None:
                from rich.text import Text

                display.console.print(
                    Text(f"attached to {current.runner.describe(self.service.clock())}"),
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
                    async with aclosing(self.service.follow(current.id)) as snapshots:
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
            self.say(
                f"detached: '{ended.name}' goes on in the background — stop it: "
                f"batchtui cancel {ended.id}"
            )
            return EXIT_OK
        if lost and not self.args.json:
            self.say(
                f"the runner of '{ended.name}' stopped (killed, crashed or rebooted); its "
                f"running items are INTERRUPTED"
            )
        return self._ended(ended, interrupted_by=None)

    def do__runner(self) -> int:
        """The detached runner itself (started by `start --detach`)."""
        now = self.service.clock().astimezone().isoformat(timespec="seconds")
        print(f"batchtui runner pid {os.getpid()} for batch {self.args.id}, {now}", flush=True)
        return self._execute(self.args.id, handover_wait=15.0)

    def do_cancel(self) -> int:
        batch = self.service.cancel(self.args.id)
        return self.batch_result(batch, f"cancel requested for '{batch.name}'")

    def do_concurrency(self) -> int:
        batch = self.service.set_concurrency(self.args.id, self.args.value)
        return self.batch_result(
            batch, f"'{batch.name}' now runs {batch.config.concurrency} at once"
        )

    def _run(self, *, retry: bool) -> int:
        cluster = getattr(self.args, "cluster", None)
        only = getattr(self.args, "items", None)
        if getattr(self.args, "detach", False):
            started = self.service.start_detached(
                self.args.id, retry=retry, cluster=cluster, only=only
            )
            batch = started.batch
            return self.emit(
                {**batch_json(batch), "runner_pid": started.pid, "log": str(started.log_path)},
                lambda: self.say(
                    f"started '{batch.name}' in the background (pid {started.pid}); it keeps "
                    f"running if you close this terminal.\n"
                    f"  watch: batchtui attach {batch.id}   (or open it in batchtui)\n"
                    f"  stop:  batchtui cancel {batch.id}\n"
                    f"  log:   {started.log_path}"
                ),
            )
        batch = self.service.begin(self.args.id, retry=retry, cluster=cluster, only=only)
        return self._execute(batch.id, begun=batch)

    def _execute(
        self, batch_id: str, handover_wait: float = 0.0, *, begun: Batch | None = None
    ) -> int:
        """Run a begun batch here with live progress; signals stop it cleanly (INTERRUPTED)."""
        # This process runs the items (a runner): it adopts the orphans they leave, to stop
        # them. Process-wide, so set here only.
        from ..core import subreaper

        subreaper.install()
        caught: signal.Signals | None = None

        async def main() -> Batch:
            nonlocal caught
            batch = begun or self.service.find_by_id(batch_id)
            assert batch is not None
            display = RunDisplay(batch, sys.stderr if self.args.json else None)

            async def watch_signals() -> None:
                nonlocal caught
                signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
                with anyio.open_signal_receiver(*signals) as received:
                    async for signum in received:
                        caught = signal.Signals(signum)
                        display.console.print(f"{caught.name}: stopping running items …")
                        self.service.interrupt_all_here(f"stopped by {caught.name}")

            with display:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(watch_signals)
                    ended = await self.service.run(
                        batch_id, display.on_event, handover_wait=handover_wait, begun=begun
                    )
                    tg.cancel_scope.cancel()
            return ended

        # uvloop: less CPU per item than asyncio's loop, and it watches its own children.
        ended = anyio.run(main, backend_options={"use_uvloop": True})
        return self._ended(ended, interrupted_by=caught)

    def _ended(self, ended: Batch, interrupted_by: signal.Signals | None) -> int:
        progress = ended.progress()

        def human() -> None:
            self.say(
                f"{ended.status.value}: {progress.succeeded}/{progress.total} succeeded"
                f" in {progress.elapsed or 0:.1f}s"
            )
            if ended.status is not BatchStatus.COMPLETE:
                self.say(
                    f"see why: batchtui failed {ended.id} — run them again: "
                    f"batchtui retry {ended.id}"
                )

        self.emit(batch_json(ended), human)
        if interrupted_by is not None:
            return 128 + int(interrupted_by)
        return EXIT_OK if ended.status is BatchStatus.COMPLETE else EXIT_RUN_FAILED
