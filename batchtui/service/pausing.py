"""Use-cases of pausing: pause or resume one batch's run, or every run on this host.

A batch's pause is stored on it (`Batch.paused`); the host's is a flag file in the slot
folder (`engine.host_pause`). Runners, in this process or another, obey both at their next
flush and write back what they obey (`Batch.holding`); `settled` waits for that, so a pause
that returned means no new item of the batch starts any more.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..core.errors import TransitionError
from ..core.models import Batch, BatchStatus
from ..core.pausing import PauseMode, stronger
from ..core.settings import load_host_settings
from ..engine.host_pause import read_host_pause, write_host_pause
from .context import ServiceContext

if TYPE_CHECKING:
    from .runs import Runs

SETTLE_SECONDS = 3.0
"""How long `pause` waits for the runner to say it obeys (about ten of its flushes)."""


def host_pause() -> PauseMode | None:
    """The host's pause (`pause --all`), or None."""
    return read_host_pause(load_host_settings().slots_dir)


class Pausing:
    """Pausing and resuming runs."""

    def __init__(self, ctx: ServiceContext, runs: Runs) -> None:
        self.ctx = ctx
        self.runs = runs

    def pause(self, ref: str, *, now: bool = False) -> Batch:
        """Pause a PROCESSING batch: no new item starts; with `now`, its running items are
        frozen too (a drain becomes a freeze; a freeze stays one)."""
        mode: PauseMode = "now" if now else "drain"

        def change(batch: Batch) -> Batch:
            if batch.paused == mode or (batch.paused == "now" and not now):
                already = "frozen" if batch.paused == "now" else "paused"
                raise TransitionError(
                    f"batch '{batch.name}' is already {already}; go on: batchtui resume {batch.id}"
                )
            batch.paused = mode
            return batch

        return self._obeyed(self.ctx.mutate(ref, "pause", change))

    def resume(self, ref: str) -> Batch:
        """Let a paused run go on (its frozen items too). A PARTIAL or FAILED batch keeps no
        pause for its next run (the CLI's `resume` then retries it)."""

        def change(batch: Batch) -> Batch:
            if batch.status is BatchStatus.PROCESSING and batch.paused is None:
                if batch.host_paused is not None:
                    raise TransitionError(
                        f"batch '{batch.name}' is held by the host's pause, not its own; "
                        "go on: batchtui resume --all"
                    )
                raise TransitionError(
                    f"batch '{batch.name}' is PROCESSING and not paused; pause it first: "
                    f"batchtui pause {batch.id}"
                )
            batch.paused = None
            return batch

        return self._obeyed(self.ctx.mutate(ref, "resume", change))

    def toggle(self, ref: str, *, now: bool = False, wait: bool = True) -> Batch:
        """Pause a running batch, or resume it if it is paused (`now` on a drained one:
        freeze it instead): decided under the lock from what is stored, so two quick presses
        pause and resume, whatever a screen showed. `wait=False` (a screen, on its event
        loop): return at once; the runner obeys at its next flush all the same."""

        def change(batch: Batch) -> Batch:
            if batch.paused is None or (now and batch.paused == "drain"):
                batch.paused = "now" if now else "drain"
            else:
                batch.paused = None
            return batch

        batch = self.ctx.mutate(ref, "pause", change)
        return self._obeyed(batch) if wait else batch

    def host_pause(self) -> PauseMode | None:
        """The host's pause (`pause --all`), or None."""
        return host_pause()

    def pause_host(self, *, now: bool = False) -> PauseMode:
        """Pause every run on this host, present and future, until `resume_host`."""
        mode: PauseMode = "now" if now else "drain"
        write_host_pause(load_host_settings().slots_dir, mode)
        self._apply_here()
        return mode

    def resume_host(self) -> bool:
        """Lift the host's pause; whether it was paused. Batches paused on their own stay so."""
        folder = load_host_settings().slots_dir
        was = read_host_pause(folder) is not None
        write_host_pause(folder, None)
        self._apply_here()
        return was

    def _apply_here(self) -> None:
        """Runs this process drives obey at once (others at their next flush)."""
        for batch_id in list(self.runs.active):
            batch = self.ctx.repo.get(batch_id)
            if batch is not None:
                self._obey_here(batch)

    def _obey_here(self, batch: Batch) -> None:
        scheduler = self.runs.active.get(batch.id)
        if scheduler is not None:
            scheduler.pause(stronger(batch.paused, host_pause()))

    def _obeyed(self, batch: Batch) -> Batch:
        """The batch once its runner obeys what was asked (bounded: a runner that does not
        say so in time obeys at its next flush all the same)."""
        self._obey_here(batch)
        if batch.status is not BatchStatus.PROCESSING or batch.id in self.runs.active:
            return batch

        def wanted(fresh: Batch) -> bool:
            return fresh.holding == stronger(fresh.paused, host_pause())

        deadline = time.monotonic() + SETTLE_SECONDS
        current = batch
        while time.monotonic() < deadline:
            fresh = self.ctx.repo.get(batch.id)
            if fresh is None or fresh.status is not BatchStatus.PROCESSING or wanted(fresh):
                return fresh or current
            current = fresh
            time.sleep(0.05)
        return current
