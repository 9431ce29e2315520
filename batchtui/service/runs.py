"""Use-cases of runs: begin one (start or retry), hand it to a runner, run it here, cancel,
change its concurrency, and end runs whose runner died."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..core import run as fold
from ..core.actions import require
from ..core.errors import (
    BusyError,
    NotFoundError,
    StoreError,
    TransitionError,
    ValidationError,
)
from ..core.limits import (
    CONCURRENCY_RULE,
    HANDOVER_WAIT,
    MAX_CONCURRENCY,
    MAX_PRIORITY,
    MIN_CONCURRENCY,
    MIN_PRIORITY,
    PRIORITY_RULE,
)
from ..core.models import Batch, BatchStatus, RunnerInfo
from ..core.review import rejected_items
from ..core.settings import load_host_settings
from ..engine.cluster import cluster_address, preflight
from ..engine.liveness import kill_batch_processes, same_process_alive
from ..engine.slots import check_host_slots, reprioritise_in
from ..runners.detached import runner_log, spawn_runner
from ..runners.in_process import run_batch
from ..runners.notify.announce import announce
from ..runners.recorder import Listener, runner_info
from .begun import BEGUN_HERE, BegunRuns
from .context import ServiceContext
from .deferred import NotQueuedError
from .refs import resolve_items
from .reviewing import keep_take, put_back
from .validation import run_problems

if TYPE_CHECKING:
    from ..engine.run_control import RunControl

STALE_RUNNER = timedelta(minutes=5)


@dataclass(frozen=True)
class Detached:
    """A run handed to a background runner."""

    batch: Batch
    pid: int
    log_path: Path


class Runs:
    """Starting, running, stopping and recovering runs."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.active: dict[str, RunControl] = {}
        """Runs this process drives now, by batch id."""
        self.beginning: BegunRuns = BEGUN_HERE
        """Runs begun here and not yet active or handed over (shared process-wide)."""

    def is_running_here(self, batch_id: str) -> bool:
        """Whether this process is running the batch right now."""
        return batch_id in self.active

    def begin(
        self,
        ref: str,
        *,
        retry: bool = False,
        detached: bool = False,
        log_path: str | None = None,
        cluster: str | None = None,
        only: Collection[str | int] | None = None,
        queued_by: int | None = None,
        rejected: bool = False,
    ) -> Batch:
        """Move a batch into PROCESSING for a run by this process (start or retry).

        `queued_by`: the pid of the waiter beginning a queued start; refused
        (`NotQueuedError`) unless the batch's queued start is still that waiter's. A plain
        start of a queued batch starts it now (its queued start ends with the move).

        `only` (a retry): run exactly these items (ids or 1-based positions), a succeeded
        one too, on purpose; the batch's other items keep what they have. `rejected` (a
        retry): the items whose output was rejected, each as its next take (its output kept
        as `NN-topic.v1.mp4` until the new one is approved: `core.review`).

        Exactly one process wins this (it happens under the database lock); any other is told
        who owns the batch. A detached run is begun here and then handed to its runner.
        `cluster` sends the items to a Dask scheduler (None: `BATCHTUI_CLUSTER`, if set;
        'local': here); it is checked (reachable, workers, versions) before anything changes.
        """
        self.recover_orphans()
        address = cluster_address(cluster)
        if address is not None:
            # A batch that cannot run is said before a slow look at the cluster (the look
            # under the lock, below, decides).
            require(self.ctx.find(ref), "retry" if retry else "start")
            preflight(address)

        if (only is not None or rejected) and not retry:
            raise ValidationError("only a retry runs chosen items")
        if only is not None and rejected:
            raise ValidationError("--rejected chooses the items: name no --item with it")
        action = "rerun" if only is not None or rejected else "retry" if retry else "start"
        moved: list[tuple[str, str]] = []  # a retake's kept outputs: put back if refused

        def change(batch: Batch) -> Batch:
            if queued_by is not None:
                waiter = batch.deferred.waiter if batch.deferred else None
                if waiter is None or waiter.pid != queued_by:
                    raise NotQueuedError(f"batch '{batch.name}' is no longer queued here")
            if rejected:
                todo = rejected_items(batch.items)
                if not todo:
                    raise ValidationError(
                        f"batch '{batch.name}' has no rejected output to make again"
                    )
            elif only is not None:  # these items, whatever they are now
                chosen = {item.id for item in resolve_items(batch, only)}
                if not chosen:
                    raise ValidationError("no item chosen to run again")
                todo = [it for it in batch.items if it.id in chosen]
            else:
                todo = fold.runnable(batch)
                if retry and not todo:
                    raise ValidationError(f"batch '{batch.name}' has nothing to retry")
            if not retry and batch.config_hash != batch.config.fingerprint():
                raise ValidationError(
                    f"batch '{batch.name}' config changed since it was locked; unlock and lock it"
                )
            problems = run_problems(batch, on_farm=address is not None)
            if problems:
                raise ValidationError(f"cannot run '{batch.name}': {'; '.join(problems)}")
            if address is None:  # on this host: its slot folder must be usable
                try:
                    check_host_slots()
                except ValidationError as exc:
                    raise ValidationError(f"cannot run '{batch.name}': {exc}", [str(exc)]) from None
            now = self.ctx.clock()
            runner = runner_info(now, detached=detached, log_path=log_path, cluster=address)
            if rejected:  # last: nothing above refused, so the outputs may move aside
                for item in todo:
                    moved.extend(keep_take(item))
            return fold.begin(batch, todo, now, runner, again=only is not None or rejected)

        try:
            begun = self.ctx.mutate(ref, action, change)
        except BaseException as exc:
            put_back(moved)
            if isinstance(exc, TransitionError):
                self._refused_transition(ref)
            raise
        self.beginning.add(begun.id)
        return begun

    def _refused_transition(self, ref: str) -> None:
        """A start found the batch in a state it cannot leave: when a runner has it, say who
        (raises); else nothing to add to the refusal."""
        current = self.ctx.find(ref)
        if current.status is BatchStatus.PROCESSING and current.runner is not None:
            raise TransitionError(
                f"batch '{current.name}' is already being processed by "
                f"{current.runner.describe(self.ctx.clock())} — watch it: batchtui attach "
                f"{current.id}; stop it: batchtui cancel {current.id}"
            ) from None

    def start_detached(
        self,
        ref: str,
        *,
        retry: bool = False,
        cluster: str | None = None,
        only: Collection[str | int] | None = None,
        rejected: bool = False,
    ) -> Detached:
        """Begin a run of `ref` (a start, or a retry; `only` as for `begin`) and hand it to a
        new background runner, which outlives this process; returns at once."""
        repo = self.ctx.repo
        stamp = self.ctx.clock().strftime("%Y%m%d-%H%M%S")
        batch_id = self.ctx.resolve(ref)
        log_path = runner_log(repo.path, batch_id, stamp)  # refused here, before any change
        batch = self.begin(
            batch_id,
            retry=retry,
            detached=True,
            log_path=str(log_path),
            cluster=cluster,
            only=only,
            rejected=rejected,
        )
        try:
            try:
                pid = spawn_runner(repo.path, batch.id, log_path, batch.config.workdir)
            except OSError as exc:
                raise StoreError(f"could not start a runner: {exc.strerror or exc}") from None
            try:
                batch = self.hand_over(batch.id, pid)
            except BaseException:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                raise
        except BaseException as exc:
            # Never leave a batch begun for a runner that is not there: end the run at once
            # (retry takes it from there), or, if even that cannot be written, leave it to
            # recovery, which ends a run this process began but no longer drives.
            self.beginning.discard(batch.id)
            with contextlib.suppress(Exception):
                self._abandon(batch.id, f"its runner could not start: {exc}")
            raise
        self.beginning.discard(batch.id)
        return Detached(batch, pid, log_path)

    def _abandon(self, batch_id: str, reason: str) -> None:
        with self.ctx.repo.transaction() as tx:
            batch = tx.get(batch_id)
            runner = batch.runner if batch is not None else None
            if batch is None or batch.status is not BatchStatus.PROCESSING:
                return
            if runner is not None and runner.pid != os.getpid():
                return  # the runner took it after all
            fold.end(batch, self.ctx.clock(), reason)
            tx.save(batch)

    def hand_over(self, batch_id: str, pid: int) -> Batch:
        """Make process `pid` (a detached runner on this host) the owner of a PROCESSING batch
        this process began.

        It waits for the lock as long as a runner would, whatever this process's own patience:
        the batch is begun and its runner started, so giving up here would strand both.
        """
        with self.ctx.repo.transaction(
            timeout=max(HANDOVER_WAIT, self.ctx.repo.lock_timeout)
        ) as tx:
            batch = tx.get(batch_id)
            if batch is None or batch.status is not BatchStatus.PROCESSING or not batch.runner:
                raise NotFoundError(f"batch '{batch_id}' is not waiting for a runner")
            if batch.runner.pid != os.getpid():
                raise BusyError(f"batch '{batch.name}' belongs to pid {batch.runner.pid}")
            batch.runner = runner_info(
                self.ctx.clock(),
                pid,
                detached=True,
                log_path=batch.runner.log_path,
                cluster=batch.runner.cluster,
            )
            tx.save(batch)
        return batch

    async def _await_ownership(self, batch_id: str, patience: float) -> Batch:
        """The batch, once its runner record names this process (a detached runner may start
        before its parent has handed the batch over)."""
        with anyio.move_on_after(patience):
            while True:
                batch = self.ctx.repo.get(batch_id)
                if batch is None:
                    raise NotFoundError(f"no batch '{batch_id}'")
                runner = batch.runner
                if runner is not None and runner.pid == os.getpid():
                    return batch
                if batch.status is not BatchStatus.PROCESSING:
                    break
                await anyio.sleep(0.05)
        raise BusyError(f"batch '{batch_id}' was not handed to this runner (pid {os.getpid()})")

    async def run(
        self,
        batch_id: str,
        listener: Listener | None = None,
        *,
        handover_wait: float = 0.0,
        begun: Batch | None = None,
    ) -> Batch:
        """Run a PROCESSING batch that `begin` handed to this process (this process is its
        runner); returns the ended batch.

        `begun` is what `begin` returned, when this process called it: the batch as stored, so
        it is not read and validated again (10,000 items: ~0.15 s).
        """
        self.beginning.discard(batch_id)  # from here it is active (or ends, or is recovered)
        if handover_wait:
            await self._await_ownership(batch_id, handover_wait)
        batch = begun if begun is not None and not handover_wait else self.ctx.repo.get(batch_id)
        if batch is None:
            raise NotFoundError(f"no batch '{batch_id}'")
        if batch.status is not BatchStatus.PROCESSING:
            raise ValidationError(f"batch '{batch.name}' is {batch.status.value}, not PROCESSING")
        return await run_batch(
            self.ctx.repo,
            batch,
            clock=self.ctx.clock,
            listener=listener,
            flush_interval=self.ctx.flush_interval,
            active=self.active,
        )

    def set_concurrency(self, ref: str, value: int, *, relative: bool = False) -> Batch:
        """Change how many items run at once (`relative`: by `value`, counted from the stored
        value under the lock, so two quick steps from two windows both count); takes effect
        at once when running (a runner in another process picks it up at its next flush)."""
        if not isinstance(value, int) or not (
            relative or MIN_CONCURRENCY <= value <= MAX_CONCURRENCY
        ):
            raise ValidationError(f"concurrency must be {CONCURRENCY_RULE}, not {value}")

        def change(batch: Batch) -> Batch:
            new = batch.config.concurrency + value if relative else value
            if not MIN_CONCURRENCY <= new <= MAX_CONCURRENCY:
                raise ValidationError(
                    f"concurrency stays {CONCURRENCY_RULE} (now {batch.config.concurrency})"
                )
            batch.config.concurrency = new
            return batch

        batch = self.ctx.mutate(ref, "concurrency", change)
        scheduler = self.active.get(batch.id)
        if scheduler is not None:
            scheduler.set_concurrency(batch.config.concurrency)
        return batch

    def set_priority(self, ref: str, value: int, *, relative: bool = False) -> Batch:
        """Set the batch's priority on this host (higher: its waiting items are served first;
        `relative`: by `value`, from the stored value under the lock); takes effect at once:
        the items waiting now move in line, and a runner in another process asks with it
        from its next flush."""
        if not isinstance(value, int) or not (relative or MIN_PRIORITY <= value <= MAX_PRIORITY):
            raise ValidationError(f"priority must be {PRIORITY_RULE}, not {value}")

        def change(batch: Batch) -> Batch:
            new = (batch.priority or 0) + value if relative else value
            if not MIN_PRIORITY <= new <= MAX_PRIORITY:
                raise ValidationError(f"priority stays {PRIORITY_RULE} (now {batch.priority or 0})")
            batch.priority = new or None
            return batch

        batch = self.ctx.mutate(ref, "priority", change)
        value = batch.priority or 0
        scheduler = self.active.get(batch.id)
        if scheduler is not None:
            scheduler.set_priority(value)
        elif batch.status is BatchStatus.PROCESSING:  # its items waiting now move at once
            host = load_host_settings()
            if host.slots:
                reprioritise_in(host.slots_dir, batch.id, value)
        return batch

    def confirm(self, ref: str) -> Batch:
        """Say yes to the forecast a run waits on (`confirm_forecast`, after its canary): the
        other items start (its runner takes the yes at its next write). `cancel` is the no."""

        def change(batch: Batch) -> Batch:
            if not batch.awaiting_confirm:
                raise ValidationError(
                    f"batch '{batch.name}' is not waiting for a yes: a run waits after its "
                    "canary only with --confirm-forecast"
                )
            batch.confirmed = True
            return batch

        return self.ctx.mutate(ref, "confirm", change)

    def cancel(self, ref: str) -> Batch:
        """Stop a PROCESSING batch: waiting items are cancelled, running ones stopped. A
        LOCKED batch's queued or scheduled start is cancelled instead (it stays LOCKED)."""
        from .deferred import Deferrals

        unqueued = Deferrals(self.ctx, self).cancel(ref)
        if unqueued is not None:
            return unqueued

        def change(batch: Batch) -> Batch:
            batch.cancel_requested = True
            batch.paused = None  # a cancelled run keeps no pause for the next one
            return batch

        batch = self.ctx.mutate(ref, "cancel", change)
        scheduler = self.active.get(batch.id)
        if scheduler is not None:
            scheduler.cancel()
        return batch

    def cancel_all_here(self) -> None:
        """Cancel every run this process is driving (the user asked: items become CANCELLED)."""
        for scheduler in list(self.active.values()):
            scheduler.cancel()

    def interrupt_all_here(self, reason: str) -> None:
        """Stop every run this process drives because the process is going away (a signal):
        running items are stopped cleanly and recorded INTERRUPTED, for retry to resume."""
        for scheduler in list(self.active.values()):
            scheduler.cancel(interrupt=True, reason=reason)

    def recover_orphans(self) -> list[Batch]:
        """End PROCESSING batches whose runner is gone: RUNNING items become INTERRUPTED.

        Cheap enough to ask often (the TUI and `attach` do, to notice a runner killed while
        they watch): each running batch's runner is checked from its raw document, and only
        an orphan is validated and changed."""
        now = self.ctx.clock()
        host = socket.gethostname()

        def dead(batch_id: str, status: object, runner: RunnerInfo | None) -> bool:
            if status != BatchStatus.PROCESSING.value or batch_id in self.active:
                return False
            if runner is None:
                return True
            if runner.host == host and runner.pid == os.getpid():
                return batch_id not in self.beginning  # begun here: about to run, or failed
            if runner.host == host:
                # Here the process table is the truth: a runner suspended (ctrl+z) past the
                # heartbeat window is alive and owns its run; only a dead one is recovered.
                return not same_process_alive(runner.pid, runner.token)
            return now - runner.heartbeat > STALE_RUNNER

        def orphaned(batch: Batch) -> bool:
            return dead(batch.id, batch.status.value, batch.runner)

        snapshot = []
        for batch_id in self.ctx.repo.processing_ids():
            try:
                doc = self.ctx.repo.get_raw(batch_id)
            except StoreError:  # unreadable: named when listed or opened, never every command
                continue
            if doc is None:
                continue
            raw_runner = doc.get("runner")
            try:
                runner = RunnerInfo.model_validate(raw_runner) if raw_runner else None
            except ValueError:
                continue  # malformed: reported when it is opened, never "recovered" blindly
            if dead(batch_id, doc.get("status"), runner):
                snapshot.append(batch_id)
        if not snapshot:
            return []
        recovered = []
        logs: dict[str, str | None] = {}
        with self.ctx.repo.transaction() as tx:
            for stale in snapshot:
                try:
                    batch = tx.get(stale)
                except StoreError:  # malformed: left for `show` to report, and deletable
                    continue
                if batch is None or not orphaned(batch):
                    continue
                if batch.runner is None or batch.runner.host == host:
                    # Every process of the batch the dead runner left behind: also those of
                    # items it started but had not recorded RUNNING before it died.
                    kill_batch_processes(batch.id)
                logs[batch.id] = batch.runner.log_path if batch.runner else None
                fold.end(batch, now, "its runner stopped (killed, crashed or rebooted)")
                tx.save(batch)
                recovered.append(batch)
        for batch in recovered:  # the end its runner did not live to announce (same id)
            announce(self.ctx.repo.path, batch, "ended", now, replace=True, log_path=logs[batch.id])
        return recovered
