"""Deferred starts: queue a LOCKED batch to start after another one ends (`after`, `after_ok`)
or at a time (`at`, `delay`); the waiting process's side (wait, then begin); cancelling a
queued start; and taking up the starts whose waiting process died (at every command, as
crash recovery of runs).

The truth is the batch's `deferred` field (stored under the lock); the store keeps a marker per
deferred batch so recovery finds them with one folder listing. A waiter (`runners.waiter`)
owns a deferred start while its pid is recorded in `deferred.waiter`; any other process that
finds that pid dead on this host starts another waiter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from ..core.actions import require
from ..core.deferral import parse_at, parse_delay
from ..core.errors import (
    BatchtuiError,
    BusyError,
    StoreError,
    TransitionError,
    ValidationError,
)
from ..core.models import Batch, BatchStatus
from ..core.models.deferred import Deferred, Waiter
from ..core.states import ENDED_BATCH
from ..core.textsafe import one_line
from ..engine.cluster import cluster_address
from ..engine.liveness import process_token, same_process_alive
from ..runners.detached import runner_log
from ..runners.waiter import POLL, spawn_waiter
from .context import ServiceContext
from .validation import run_problems

if TYPE_CHECKING:
    from ..store import Transaction
    from .runs import Runs

SCHEDULED_POLL = 5.0
"""Seconds a waiter for a time sleeps at most between two looks (the last sleep ends at the
time itself): a long wait costs one look every few seconds, and a start taken back by hand
(`start` now, `unlock`) lets its waiter go soon."""
UNCLAIMED = timedelta(seconds=10)
"""How long a deferred start may stand without a recorded waiter (its starter records it at
once) before recovery gives it one."""
MAX_CHAIN = 10_000
"""How far a cycle check walks (more batches than any chain has)."""


class NotQueuedError(TransitionError):
    """A waiter came to begin a batch whose queued start is no longer its own (cancelled,
    started by hand, taken by another waiter): it leaves quietly."""


def _here(waiter: Waiter | None) -> bool:
    return waiter is not None and waiter.host == socket.gethostname()


def _alive(waiter: Waiter) -> bool:
    return same_process_alive(waiter.pid, waiter.token)


class Deferrals:
    """Queued and scheduled starts."""

    def __init__(self, ctx: ServiceContext, runs: Runs) -> None:
        self.ctx = ctx
        self.runs = runs

    # ---------------------------------------------------------------- queueing

    def queue(
        self,
        ref: str,
        *,
        after: str | None = None,
        after_ok: bool = False,
        at: str | None = None,
        delay: str | None = None,
        cluster: str | None = None,
    ) -> Batch:
        """Queue the start of a LOCKED batch: after batch `after` ends (`after_ok`: only if it
        ends COMPLETE; otherwise the start is dropped with a note), at `at` (`02:00`: the next
        one, local time; or an ISO date-time) or after `delay` (`90s`, `15m`, `3h`, `1d`).
        One of the three; a waiting process is started that starts the batch then.

        Refused (nothing changed): a batch that cannot start now, one already queued, an
        unknown `after`, the batch itself, a cycle, an `after` that already ended other than
        COMPLETE with `after_ok`, a bad time."""
        if after_ok and not after:
            raise ValidationError("--after-ok goes with --after ID")
        given = (("--after", after), ("--at", at), ("--in", delay))
        chosen = [name for name, value in given if value]
        if len(chosen) != 1:
            raise ValidationError(
                "a start waits for one thing: --after ID, --at TIME or --in DELAY, not "
                + " and ".join(chosen)
                if chosen
                else "nothing to wait for: give --after ID, --at TIME or --in DELAY"
            )
        now = self.ctx.clock()
        when = None
        if delay:
            when = now + parse_delay(delay)
        elif at:
            when = parse_at(at, now)
        address = cluster_address(cluster)
        batch_id = self.ctx.resolve(ref)
        after_id = self.ctx.resolve(after) if after else None
        stamp = now.strftime("%Y%m%d-%H%M%S")
        log_path = runner_log(self.ctx.repo.path, batch_id, stamp)  # refused before a change
        with self.ctx.repo.transaction() as tx:
            batch = self.ctx.in_tx(tx, batch_id)
            require(batch, "start")
            if batch.deferred is not None:
                raise TransitionError(
                    f"batch '{batch.name}' is already {batch.shown_status}; cancel that first: "
                    f"batchtui cancel {batch.id}"
                )
            self._check_startable(batch, on_farm=address is not None)
            after_name = self._check_after(tx, batch, after_id, after_ok) if after_id else None
            batch.deferred = Deferred(
                after=after_id,
                after_name=after_name,
                after_ok=after_ok,
                at=when,
                cluster=address,
                queued_at=now,
            )
            batch.start_note = None
            batch.updated_at = now
            tx.save(batch)
        self._spawn(batch, log_path, previous=None)
        return self.ctx.find(batch.id)

    @staticmethod
    def _check_startable(batch: Batch, *, on_farm: bool) -> None:
        """What `begin` would refuse now, refused when the start is queued instead of later
        (`on_farm`: the run goes to a render farm, whose workers' resources are its pools)."""
        if batch.config_hash != batch.config.fingerprint():
            raise ValidationError(
                f"batch '{batch.name}' config changed since it was locked; unlock and lock it"
            )
        problems = run_problems(batch, on_farm=on_farm)
        if problems:
            raise ValidationError(f"cannot run '{batch.name}': {'; '.join(problems)}")

    @staticmethod
    def _check_after(tx: Transaction, batch: Batch, after_id: str, after_ok: bool) -> str:
        """The name of the batch to wait for, once waiting for it is sound."""
        if after_id == batch.id:
            raise ValidationError(f"batch '{batch.name}' cannot start after itself")
        first = tx.get(after_id)
        if first is None:
            raise ValidationError(f"no batch '{after_id}' to start after")
        if after_ok and first.status in ENDED_BATCH and first.status is not BatchStatus.COMPLETE:
            raise ValidationError(
                f"batch '{first.name}' already ended {first.status.value}; --after-ok waits for "
                "a COMPLETE end (retry it, or start without --after-ok)"
            )
        # A cycle: what `first` waits for (and so on) leads back to `batch`.
        path = [batch.name, first.name]
        current: Batch | None = first
        for _ in range(MAX_CHAIN):
            if current is None or current.status is not BatchStatus.LOCKED:
                break
            waits = current.deferred.after if current.deferred else None
            if waits is None:
                break
            if waits == batch.id:
                chain = " → ".join(f"'{one_line(name, 40)}'" for name in [*path, batch.name])
                raise ValidationError(f"a cycle: {chain} would wait for each other for ever")
            current = tx.get(waits)
            if current is not None:
                path.append(current.name)
        return first.name

    # ----------------------------------------------------------------- waiters

    def _spawn(self, batch: Batch, log_path: os.PathLike[str] | None, previous: int | None) -> None:
        """Start a waiter for `batch` and record it, unless the record changed meanwhile
        (`previous`: the dead waiter's pid it replaces; None: none was recorded). A waiter that
        cannot be started leaves the start queued for recovery, and says so."""
        from pathlib import Path

        if log_path is None:
            stamp = self.ctx.clock().strftime("%Y%m%d-%H%M%S")
            log_path = runner_log(self.ctx.repo.path, batch.id, stamp)
        path = Path(log_path)
        try:
            pid = spawn_waiter(self.ctx.repo.path, batch.id, path, batch.config.workdir)
        except OSError as exc:
            raise StoreError(
                f"queued, but its waiting process could not start ({exc.strerror or exc}); the "
                "next batchtui command tries again"
            ) from None
        waiter = Waiter(
            pid=pid, host=socket.gethostname(), token=process_token(pid), log_path=str(path)
        )
        recorded = False
        with self.ctx.repo.transaction() as tx:
            current = tx.get(batch.id)
            deferred = current.deferred if current is not None else None
            if current is not None and current.status is BatchStatus.LOCKED and deferred:
                now_recorded = deferred.waiter.pid if deferred.waiter else None
                if now_recorded == pid:  # it claimed itself already
                    recorded = True
                elif now_recorded == previous:
                    deferred.waiter = waiter
                    current.deferred = deferred
                    tx.save(current)
                    recorded = True
        if not recorded:  # another process gave it a waiter first, or it was cancelled
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def take_up(self) -> list[str]:
        """Give a new waiter to every deferred start on this host whose waiter is dead (killed,
        crashed, rebooted): it starts the batch at once if its turn has come. Ids taken up."""
        now = self.ctx.clock()
        taken = []
        for batch_id in self.ctx.repo.queued_ids():
            try:
                batch = self.ctx.repo.get(batch_id)
            except StoreError:  # malformed: reported when it is opened
                continue
            if batch is None or batch.status is not BatchStatus.LOCKED or not batch.deferred:
                continue
            waiter = batch.deferred.waiter
            if waiter is None:
                queued = batch.deferred.queued_at or now
                if now - queued < UNCLAIMED:
                    continue  # its starter is recording one
            elif not _here(waiter) or _alive(waiter):
                continue
            with contextlib.suppress(BatchtuiError):
                self._spawn(batch, None, waiter.pid if waiter else None)
                taken.append(batch_id)
        return taken

    def cancel(self, ref: str) -> Batch | None:
        """Cancel a queued or scheduled start (the batch stays LOCKED, its waiter ends); None
        when the batch has none (then it is cancelled as a run, or refused)."""
        with self.ctx.repo.transaction() as tx:
            batch = self.ctx.in_tx(tx, ref)
            if batch.status is not BatchStatus.LOCKED or batch.deferred is None:
                return None
            waiter = batch.deferred.waiter
            batch.deferred = None
            batch.start_note = None
            batch.updated_at = self.ctx.clock()
            tx.save(batch)
        if waiter is not None and _here(waiter) and _alive(waiter):
            with contextlib.suppress(ProcessLookupError):
                os.kill(waiter.pid, signal.SIGTERM)
        return batch

    # --------------------------------------------------- the waiter's own side

    def wait_turn(self, batch_id: str, log_path: str | None = None) -> Batch | None:
        """In a waiter: wait until the batch's turn comes, then begin it as this process's run
        (as `start --detach` would, this process its runner); the begun batch. None when the
        start is no longer this waiter's (cancelled, started by hand, given to another
        waiter) or was dropped (with its note stored). `log_path`: where this process logs
        (its run's record names it)."""
        me = os.getpid()
        if not self._claim(batch_id, me, log_path):
            return None
        while True:
            batch = self.ctx.repo.get(batch_id)
            deferred = batch.deferred if batch is not None else None
            if (
                batch is None
                or deferred is None
                or batch.status is not BatchStatus.LOCKED
                or deferred.waiter is None
                or deferred.waiter.pid != me
            ):
                return None
            wait, note = self._turn(deferred)
            if note is not None:
                self.drop(batch_id, note, me)
                return None
            if wait > 0:
                time.sleep(wait)
                continue
            try:
                return self.runs.begin(
                    batch_id,
                    detached=True,
                    log_path=deferred.waiter.log_path,
                    cluster=deferred.cluster,
                    queued_by=me,
                )
            except NotQueuedError:
                return None
            except BusyError:  # the database is busy for now: its turn has still come
                time.sleep(POLL)
                continue
            except BatchtuiError as exc:
                self.drop(batch_id, f"did not start: {exc}", me)
                return None

    def _turn(self, deferred: Deferred) -> tuple[float, str | None]:
        """(seconds to wait before looking again — 0: start now, a note: it never will)."""
        if deferred.at is not None:
            left = (deferred.at - self.ctx.clock()).total_seconds()
            return (max(0.0, min(left, SCHEDULED_POLL)), None)
        if deferred.after is None:
            return (0.0, None)
        first = self.ctx.repo.get(deferred.after)
        name = deferred.after_name or deferred.after
        if first is None:
            return (0.0, f"did not start: '{name}', which it waited for, was deleted")
        if first.status not in ENDED_BATCH:
            return (POLL, None)
        if deferred.after_ok and first.status is not BatchStatus.COMPLETE:
            return (
                0.0,
                f"did not start: '{first.name}' ended {first.status.value}, not COMPLETE "
                "(--after-ok)",
            )
        return (0.0, None)

    def _claim(self, batch_id: str, me: int, log_path: str | None) -> bool:
        """Record this process as the batch's waiter, unless a live one is recorded."""
        with self.ctx.repo.transaction() as tx:
            batch = tx.get(batch_id)
            if batch is None or batch.status is not BatchStatus.LOCKED or not batch.deferred:
                return False
            waiter = batch.deferred.waiter
            if waiter is not None and waiter.pid == me:
                return True
            if waiter is not None and not (_here(waiter) and not _alive(waiter)):
                return False  # a live one (or one on another host) has it
            batch.deferred.waiter = Waiter(
                pid=me, host=socket.gethostname(), token=process_token(me), log_path=log_path
            )
            tx.save(batch)
        return True

    def drop(self, batch_id: str, note: str, waiter_pid: int | None = None) -> None:
        """End a queued start that will not happen: the batch stays LOCKED with `note`, and
        every start queued after it is dropped too (it will not end either)."""
        with self.ctx.repo.transaction() as tx:
            self._drop_in(tx, batch_id, note, waiter_pid, depth=0)

    def _drop_in(
        self, tx: Transaction, batch_id: str, note: str, waiter_pid: int | None, depth: int
    ) -> None:
        batch = tx.get(batch_id)
        if batch is None or batch.status is not BatchStatus.LOCKED or batch.deferred is None:
            return
        waiter = batch.deferred.waiter
        if waiter_pid is not None and (waiter is None or waiter.pid != waiter_pid):
            return  # no longer this waiter's to drop
        batch.deferred = None
        batch.start_note = one_line(note, 300)
        batch.updated_at = self.ctx.clock()
        tx.save(batch)
        if waiter is not None and waiter.pid != os.getpid() and _here(waiter) and _alive(waiter):
            with contextlib.suppress(ProcessLookupError):
                os.kill(waiter.pid, signal.SIGTERM)
        if depth >= MAX_CHAIN:
            return
        for other in self.ctx.repo.queued_ids():
            if other == batch_id:
                continue
            try:
                queued = tx.get(other)
            except StoreError:
                continue
            if (
                queued is not None
                and queued.deferred is not None
                and queued.deferred.after == batch_id
            ):
                self._drop_in(
                    tx, other, f"did not start: '{batch.name}' did not start", None, depth + 1
                )
