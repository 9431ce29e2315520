"""Persists a run: engine events are folded into the batch in memory (`core.run.apply`) and
written out, coalesced.

TinyDB rewrites the whole file on every write, so writing once per event would make a
1,000-item batch cost a million item-writes. The recorder keeps the running batch in memory,
marks it dirty, and flushes on a short timer (and at the end). Each flush is also when the
runner hears from other processes: a cancel request, a new concurrency limit or priority, a
pause or resume (the batch's, or the host's flag file). Between flushes a cheap stat of the
batch's file and of the host's flag notices such a change, so the runner hears of it within
an interval even while nothing of its own changes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import anyio

from ..core import run
from ..core.errors import BusyError, StoreError
from ..core.events import EngineEvent
from ..core.models import Batch, BatchStatus, RunnerInfo
from ..core.notify_rules import ANY_STATE_FIELDS
from ..core.pausing import PauseMode, mode_of, stronger
from ..engine.host_pause import host_pause_stamp, read_host_pause
from ..engine.liveness import process_token
from ..engine.run_control import RunControl
from ..store import Repository
from ..store.repository import stored_form

log = logging.getLogger("batchtui.runner")

Listener = Callable[[EngineEvent, Batch], None]
HEARTBEAT_SECONDS = 2.0
FINAL_WRITE_TRIES = 8
"""How many lock timeouts the end of a run outwaits before it gives up (then the next
command's recovery ends the batch, and a retry adopts the outputs the manifest records)."""


def runner_info(
    now: datetime,
    pid: int | None = None,
    *,
    detached: bool = False,
    log_path: str | None = None,
    cluster: str | None = None,
) -> RunnerInfo:
    """This process (or `pid` on this host) as a batch's runner (its items on `cluster`, a
    Dask scheduler's address, or here)."""
    pid = pid or os.getpid()
    return RunnerInfo(
        pid=pid,
        host=socket.gethostname(),
        started_at=now,
        heartbeat=now,
        token=process_token(pid),
        detached=detached,
        log_path=log_path,
        cluster=cluster,
    )


class Stored(NamedTuple):
    """What other processes may have changed in the stored batch (and the host's pause)."""

    cancel: bool
    concurrency: int | None
    priority: int
    paused: PauseMode | None
    host_paused: PauseMode | None
    confirmed: bool = False
    """A yes to the forecast this run waits for, given since (taken: cleared in the write)."""


class RunRecorder:
    """The single writer of a PROCESSING batch's item states while its run lasts.

    Costs stay proportional to the work: events find their item through an index, only
    changed items are serialised again, the stored copy is read raw (not re-validated), and
    the flush interval stretches with the size of a write, so persistence never takes more than
    about a tenth of the run however large the batch or the database grows.
    """

    def __init__(
        self,
        repo: Repository,
        batch: Batch,
        clock: Callable[[], datetime],
        listener: Listener | None = None,
        flush_interval: float = 0.25,
        host_pause_dir: Path | None = None,
        on_final: Callable[[Batch], None] | None = None,
        on_confirmed: Callable[[], None] | None = None,
    ) -> None:
        self.repo = repo
        self.on_confirmed = on_confirmed
        """Called (on the event loop) when a yes to the forecast came."""
        self.on_final = on_final
        """Called with the ended batch inside the final write, once ownership is confirmed and
        before the write (the run's end announced durably with it)."""
        self.host_pause_dir = host_pause_dir
        """The slot folder, whose `paused` flag pauses every run on the host (None: none)."""
        self.batch = batch
        self.clock = clock
        self.listener = listener
        self.flush_interval = flush_interval
        self.dirty = False
        self.lost = False
        self.owner = batch.runner.model_copy() if batch.runner else None
        self._items = {item.id: item for item in batch.items}
        self._dumped: dict[str, dict] = {}
        self._changed: set[str] = set(self._items)
        self._last_write = 0.0
        self._interval = flush_interval
        self._last_failure: tuple[object, ...] | None = None
        self._say_now = False
        """A pause just obeyed, to be written at once (what `pause` waits for)."""
        self._seen: tuple[object, ...] | None = None
        """The batch file and host flag as this runner last wrote or read them."""

    def apply(self, event: EngineEvent) -> None:
        """Fold one engine event into the in-memory batch (called on the event loop) and
        mark what changed for the next flush."""
        item = run.apply(self.batch, event, self._items)
        if item is None:
            return
        self._changed.add(item.id)
        self.dirty = True
        if self.listener is not None:
            self.listener(event, self.batch)

    def _document(self) -> dict:
        """The batch as stored, re-serialising only the items that changed since last time."""
        for item_id in self._changed:
            self._dumped[item_id] = stored_form(self._items[item_id])
        self._changed.clear()
        doc = stored_form(self.batch, exclude={"items"})
        doc["items"] = [self._dumped[item.id] for item in self.batch.items]
        return doc

    def _commit(self, doc: dict, final: bool) -> Stored | None:
        """Write `doc` under the lock, merged with what other processes may change meanwhile
        (a cancel request, the concurrency, the priority, the pause). Returns those as stored
        (and the host's pause), or None when this runner no longer owns the batch (then
        nothing is written)."""
        with self.repo.transaction() as tx:
            stored = tx.get_raw(self.batch.id)
            if not self._still_owner(stored):
                return None
            assert stored is not None
            cancel = bool(stored.get("cancel_requested"))
            concurrency = stored.get("config", {}).get("concurrency")
            if not isinstance(concurrency, int):
                concurrency = None
            news = _stored_news(stored)  # who hears of the run: others may change it
            if news != {key: doc["config"].get(key) for key in ANY_STATE_FIELDS}:
                for key in ANY_STATE_FIELDS:
                    doc["config"].pop(key, None)
                doc["config"].update({k: v for k, v in news.items() if v is not None})
                # (validated where it was saved; a plain swap of the config, whole)
                self.batch.config = self.batch.config.model_copy(update=news)
            _keep_reviews(stored, doc)
            if not final:
                doc["cancel_requested"] = doc["cancel_requested"] or cancel
            elif self.on_final is not None:
                self.on_final(self.batch)
            if concurrency is not None:
                doc["config"]["concurrency"] = concurrency

            priority = stored.get("priority")
            if not isinstance(priority, int) or isinstance(priority, bool):
                priority = 0
            if priority:
                doc["priority"] = priority
            else:
                doc.pop("priority", None)
            confirmed = bool(stored.get("confirmed")) and bool(self.batch.awaiting_confirm)
            doc.pop("confirmed", None)  # a yes is taken once
            if confirmed:
                self.batch.awaiting_confirm = None
                doc.pop("awaiting_confirm", None)
            paused = mode_of(stored.get("paused"))  # asked by others: theirs to change
            if paused:
                doc["paused"] = paused
            else:
                doc.pop("paused", None)
            tx.save_raw(doc)
        host = read_host_pause(self.host_pause_dir) if self.host_pause_dir else None
        self._seen = self._outside()
        return Stored(cancel, concurrency, priority, paused, host, confirmed)

    def _outside(self) -> tuple[object, ...]:
        """A cheap fingerprint of what others change: the batch file and the host's flag."""
        try:
            stat = os.stat(self.repo.batches.path(self.batch.id))
            batch_file: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            batch_file = None
        flag = host_pause_stamp(self.host_pause_dir) if self.host_pause_dir else None
        return batch_file, flag

    def _prepare(self) -> dict:
        now = self.clock()
        if self.batch.runner is not None:
            self.batch.runner.heartbeat = now
        self.batch.updated_at = now
        self.dirty = False
        return self._document()

    def _apply(self, stored: Stored | None, scheduler: RunControl | None) -> None:
        """Act on what the store said: lost ownership, a cancel request, a new limit, a
        pause or resume."""
        if stored is None:
            # Another process declared this run dead (say, after a long suspend) and took
            # the batch over: stop, and never overwrite what it recorded.
            self.lost = True
            if scheduler is not None:
                scheduler.cancel(interrupt=True)
            return
        cancel, concurrency, priority, paused, host_paused, confirmed = stored
        if confirmed and self.on_confirmed is not None and scheduler is not None:
            self.on_confirmed()
        self.batch.paused = paused
        if scheduler is not None:
            if not cancel:
                scheduler.pause(stronger(paused, host_paused))
            if (scheduler.paused, host_paused) != (self.batch.holding, self.batch.host_paused):
                self.batch.holding = scheduler.paused
                self.batch.host_paused = host_paused
                self.dirty = self._say_now = True  # said by a flush at once
        if priority != (self.batch.priority or 0):
            self.batch.priority = priority or None
            if scheduler is not None:
                scheduler.set_priority(priority)
        if scheduler is not None and cancel and not self.batch.cancel_requested:
            self.batch.cancel_requested = True
            scheduler.cancel()
        if concurrency is not None and concurrency != self.batch.config.concurrency:
            self.batch.config.concurrency = concurrency
            if scheduler is not None:
                scheduler.set_concurrency(concurrency)

    def _pace(self, cost: float) -> None:
        # Spend at most ~5% of the time persisting: a slow write spaces the next ones out.
        self._last_write = anyio.current_time()
        self._interval = min(5.0, max(self.flush_interval, 20 * cost))

    async def _flush(self, scheduler: RunControl) -> None:
        """One coalesced write, done in a worker thread so the event loop keeps running items.

        A database another process holds locked (past the lock timeout) costs this flush, not
        the run: items go on, and the next flush writes everything since.
        """
        started = time.perf_counter()
        doc = self._prepare()
        try:
            stored = await anyio.to_thread.run_sync(self._commit, doc, False)
        except StoreError as exc:
            # Held locked past the timeout, or the disk refused the write (full, read-only):
            # the run goes on, and the next flush writes everything since. The owner of a run
            # never gives it up over a write it can try again.
            self.dirty = True
            self._pace(0.0)
            if not isinstance(exc, BusyError) and exc.args != self._last_failure:
                self._last_failure = exc.args
                log.warning("could not save progress (will try again): %s", exc)
            return
        self._last_failure = None
        self._apply(stored, scheduler)
        self._pace(time.perf_counter() - started)
        if self._say_now:
            self._say_now = False
            await self._flush(scheduler)

    def _still_owner(self, stored: dict | None) -> bool:
        mine = self.owner
        runner = (stored or {}).get("runner") or {}
        return (
            stored is not None
            and stored.get("status") == BatchStatus.PROCESSING.value
            and mine is not None
            and (runner.get("pid"), runner.get("host")) == (mine.pid, mine.host)
        )

    async def flush_loop(self, scheduler: RunControl) -> None:
        """Flush while the run lasts: when dirty, every interval; a heartbeat anyway."""
        while True:
            await anyio.sleep(self._interval)
            if (
                self.dirty
                or anyio.current_time() - self._last_write >= HEARTBEAT_SECONDS
                or self._outside() != self._seen
            ):
                await self._flush(scheduler)

    def finish(self) -> Batch:
        """End the run: items left mid-flight become INTERRUPTED, the end state is derived."""
        run.end(self.batch, self.clock(), "the run stopped while it was running")
        self._changed.update(self._items)  # the end may have touched any item
        doc = self._prepare()
        for attempt in range(FINAL_WRITE_TRIES):
            try:
                stored = self._commit(doc, True)
                break
            except StoreError:  # locked past its timeout, or a write refused: the end must
                if attempt == FINAL_WRITE_TRIES - 1:  # be written (else recovery ends it)
                    raise
                time.sleep(min(2.0, 0.1 * 2**attempt))
        self._apply(stored, None)
        return self.batch


def _stored_news(stored: dict) -> dict[str, object]:
    """The fields saying who hears of the run, as the stored document has them."""
    config = stored.get("config")
    config = config if isinstance(config, dict) else {}
    return {key: config.get(key) for key in ANY_STATE_FIELDS}


def _keep_reviews(stored: dict, doc: dict) -> None:
    """Reviews are the people's (`core.review`): whatever the stored items say wins over this
    runner's copy, so a verdict given mid-run is never written over."""
    given = {
        item.get("id"): item["review"]
        for item in stored.get("items") or ()
        if isinstance(item, dict) and item.get("review") is not None
    }
    for item in doc["items"]:
        review = given.get(item["id"])
        if review is not None:
            item["review"] = review
        elif "review" in item:
            del item["review"]
