"""Following a batch (or the whole list) as it changes: the one way every client does it.

A run belongs to a runner process; everyone else follows it through the store. This module
owns how: the cadence (a look every `POLL_SECONDS`), change detection (one stat of the batch's
file per look — read and validated only when it changed, shared by every follower in the
process; for the list, the store's version token), and runner liveness: every
`LIVENESS_SECONDS` the runners of PROCESSING batches are checked, and a dead one's run is ended
(its running items INTERRUPTED, its leftover processes killed), so a runner killed while
anyone watches is noticed by every client within a couple of seconds.

Every look that may block (a stat, a parse, a recovery waiting for the database lock) runs in a
worker thread, so a server streaming to many clients, or the TUI, never stalls its event loop.

Polling, not a file watch (inotify): a look costs one stat (microseconds), while a watch would
wake every follower on every flush of every running batch and still need this timer, because
a SIGKILLed runner writes nothing that a watch could see.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ..core.errors import BatchtuiError, NotFoundError
from ..core.states import ENDED_BATCH
from ..core.summary import BatchSummary
from .context import ServiceContext

if TYPE_CHECKING:
    from ..core.models import Batch, Progress

POLL_SECONDS = 0.2
"""Seconds between looks at the store (a runner flushes every 0.25 s)."""
LIVENESS_SECONDS = 1.0
"""Seconds between checks that the runners of running batches still live."""


@dataclass(frozen=True)
class Snapshot:
    """A batch as stored at one look (shared between followers: read it, never change it)."""

    batch: Batch
    runner_lost: bool = False
    """Its run was ended here because its runner had died (killed, crashed, rebooted)."""
    deleted: bool = False
    """The batch is gone; `batch` is how it was last seen (the last snapshot)."""
    quiet: bool = False
    """Nothing changed for the `keepalive` asked for: the same batch again, for streams that
    must show they are alive."""

    @property
    def ended(self) -> bool:
        """Whether this run is over (the batch ended or is gone): a follow ends after it."""
        return self.deleted or self.batch.status in ENDED_BATCH


class Follow:
    """Followers of batches and of the list, over one store; one liveness clock for all."""

    def __init__(
        self,
        ctx: ServiceContext,
        recover: Callable[[], list[Batch]],
        *,
        liveness: float = LIVENESS_SECONDS,
    ) -> None:
        self.ctx = ctx
        self._recover = recover
        self.liveness = liveness
        self._checked_at = -math.inf
        self._clock_lock = threading.Lock()  # followers check from worker threads
        self.lost: dict[str, object] = {}
        """Batches whose run this process ended because their runner had died (id → when
        that run ended: a later run of the batch is not taken for it)."""

    # ------------------------------------------------------------- liveness

    def check_runners(self, *, now: float | None = None) -> list[Batch]:
        """End the runs whose runner died, at most once per `liveness` seconds (whoever asks:
        every follower in the process shares this clock); the batches it ended. Quiet: a
        database busy or unreadable now is tried again at the next check."""
        now = time.monotonic() if now is None else now
        with self._clock_lock:
            if now - self._checked_at < self.liveness:
                return []
            self._checked_at = now
        try:
            recovered = self._recover()
        except BatchtuiError:
            return []
        self.lost.update((batch.id, batch.finished_at) for batch in recovered)
        return recovered

    def _due(self) -> bool:
        return time.monotonic() - self._checked_at >= self.liveness

    async def _check_runners(self) -> list[Batch]:
        """`check_runners` off the event loop, when a check is due (no thread hop otherwise)."""
        if not self._due():
            return []
        return await anyio.to_thread.run_sync(self.check_runners)

    async def _next_look(self, poll: float) -> None:
        """Wait until the next look: `poll` seconds, checking runners meanwhile (a run ended
        by a check is looked at at once)."""
        deadline = time.monotonic() + poll
        while True:
            now = time.monotonic()
            wake = min(deadline, self._checked_at + self.liveness)
            if wake > now:
                await anyio.sleep(wake - now)
            if await self._check_runners():
                return
            if time.monotonic() >= deadline:
                return

    # ---------------------------------------------------------------- reads

    def current(self, ref: str) -> Batch:
        """The batch as stored now, its runner's liveness checked first (the one cache: the
        store's snapshot, validated once per version of the batch's file)."""
        batch_id = self.ctx.resolve(ref)
        self.check_runners()
        batch = self.ctx.repo.shared(batch_id)
        if batch is None:
            raise NotFoundError(f"batch '{batch_id}' was deleted meanwhile")
        return batch

    def progress(self, ref: str) -> Progress:
        """Counts per status, percent, elapsed and ETA, as of now (runner liveness checked)."""
        return self.current(ref).progress(self.ctx.clock())

    # -------------------------------------------------------------- follows

    async def batch(
        self,
        ref: str,
        *,
        poll: float | None = None,
        until_ended: bool = True,
        keepalive: float | None = None,
    ) -> AsyncGenerator[Snapshot, None]:
        """The batch now, then again each time it changes; ends after the snapshot that shows
        it ended (`until_ended`; otherwise it goes on, through retries) or deleted.

        `poll`: seconds between looks (default `POLL_SECONDS`); `keepalive`: after this many
        quiet seconds, the same snapshot again marked `quiet`."""
        poll = POLL_SECONDS if poll is None else poll
        batch_id = await anyio.to_thread.run_sync(self.ctx.resolve, ref)
        await self._check_runners()
        last: Batch | None = None
        shown = time.monotonic()
        while True:
            # One stat unless the file changed (then a parse): in a thread, as it may block.
            batch = await anyio.to_thread.run_sync(self.ctx.repo.shared, batch_id)
            if batch is None:
                if last is None:
                    raise NotFoundError(f"no batch '{batch_id}'")
                yield Snapshot(last, deleted=True)
                return
            if batch is not last:
                last = batch
                shown = time.monotonic()
                lost = batch.status in ENDED_BATCH and self.lost.get(batch_id) == batch.finished_at
                snapshot = Snapshot(batch, runner_lost=lost)
                yield snapshot
                if until_ended and snapshot.ended:
                    return
            elif keepalive is not None and time.monotonic() - shown >= keepalive:
                shown = time.monotonic()
                yield Snapshot(batch, quiet=True)
            await self._next_look(poll)

    async def batches(
        self, *, poll: float | None = None
    ) -> AsyncGenerator[list[BatchSummary], None]:
        """Every batch as a list shows it (oldest first), now and each time the list changes;
        never ends by itself."""
        poll = POLL_SECONDS if poll is None else poll
        await self._check_runners()
        seen: object = object()
        last: list[BatchSummary] | None = None
        while True:
            # The version is taken first: a change while reading shows at the next look.
            version = await anyio.to_thread.run_sync(self.ctx.repo.signature)
            if version != seen:
                seen = version
                summaries = await anyio.to_thread.run_sync(self.ctx.repo.summaries)
                if summaries != last:
                    last = summaries
                    yield summaries
            await self._next_look(poll)
