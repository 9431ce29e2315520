"""The keeper: one process of ours around one attempt on a farm worker.

A Dask worker is the cluster's process: it is not a subreaper, and when it is killed (-9, the
OOM killer, a crash) on a box that stays up, what it started lives on. So an attempt does not
run in the worker: `dask_task.run_attempt` has a keeper started (forked by the worker's
preloaded zygote, `zygote.py`, in a session of its own), and the keeper

- makes itself a child subreaper (`core/subreaper.py`): whatever the item's commands leave
  behind (a setsid'd grandchild, a double fork) becomes its child;
- runs the job's `LocalExecutor`, exactly as a local run does, and sends what the attempt says
  (log lines, notes, progress) up its pipe to the task, which relays it to the coordinator;
- stops when told to (the scheduler gave the task up: cancel, timeout) or when its pipe from
  the worker reaches its end (the worker died): the item's process groups are stopped, every
  remaining descendant is killed, and the attempt's partial or own-named outputs and private
  folder are removed before it says its last word and exits.

So no attempt batchtui has given up on writes into the output folder after it was given up,
and nothing it started outlives it. An output that must be pulled back (no shared folder)
stays in the attempt's private folder, which the keeper keeps until the task's worker lets go
of it (the coordinator pulled it, the run ended, or the worker died).

Messages on both pipes are `multiprocessing.connection` frames (length-prefixed pickles):
down, one `Spec` and later at most the word "stop"; up, `{"ready": True}` once it runs (the
attempt's time limit starts there, not while Python starts), `{"e": [events]}` batches and one
last `{"result": {...}}`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import anyio

from ..core import subreaper
from ..core.models import utcnow
from ..generators import get_generator
from ..generators.base import SIDECARS, Job, sidecar
from .executor import Attempt, AttemptResult, Outcome
from .farm_folders import remove_if_unused, share
from .itemlog import ItemLog
from .local import LocalExecutor

SEND_EVERY = 0.1
"""Seconds between batches of log lines and progress sent up the pipe."""
KILL_WAIT = 5.0
"""How long the keeper keeps killing and collecting descendants before it gives up on them."""
STOP = "stop"


@dataclasses.dataclass(frozen=True)
class Spec:
    """What the task tells its keeper: the job as it runs on this box, and where it lives."""

    job: Job
    grace: float
    run_folder: str | None
    """The run's folder on this box (no shared output folder), held while the keeper works."""
    attempt_folder: str | None
    """This attempt's private folder, removed unless its output is to be pulled back."""
    scratch: str | None
    """The item's scratch folder on this box, removed once the item succeeded here."""


class _Outbox:
    """Buffers what the attempt says; `flush` sends it up the pipe as one batch."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.buffer: list[list[Any]] = []
        self.last_progress: float | None = None
        self.broken = False

    def line(self, line: str, stream: str) -> None:
        self.buffer.append(["w", stream, line])

    def note(self, line: str) -> None:
        self.buffer.append(["n", line])

    def progress(self, fraction: float) -> None:
        self.last_progress = fraction

    def send(self, message: dict[str, Any]) -> None:
        if self.broken:
            return
        try:
            self.conn.send(message)
        except OSError:  # the worker is gone: nobody to tell
            self.broken = True

    def flush(self) -> None:
        if self.last_progress is not None:
            self.buffer.append(["p", self.last_progress])
            self.last_progress = None
        if self.buffer:
            events, self.buffer = self.buffer, []
            self.send({"e": events})


class RelayedLog(ItemLog):
    """The item's log as the generator sees it on a worker: each line goes to the coordinator
    (which writes the real log); the last lines stay here to explain a failure in one line."""

    def __init__(self, outbox: _Outbox) -> None:
        super().__init__(Path(os.devnull))
        self.outbox = outbox

    def note(self, line: str) -> None:
        self.outbox.note(line.rstrip("\r\n"))

    def write(self, line: str, stream: str = "") -> None:
        self.outbox.line(self.remember(line, stream), stream)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class Keeper:
    """One attempt, kept: run, stop on word or on the worker's death, leave nothing behind."""

    def __init__(self, spec: Spec, inbox: Connection, outbox: Connection) -> None:
        self.spec = spec
        self.inbox = inbox
        self.out = _Outbox(outbox)
        self.stopped = False

    async def _attempt(self) -> AttemptResult:
        job = self.spec.job
        executor = LocalExecutor(get_generator(job.config.generator), grace=self.spec.grace)
        result = AttemptResult.failed("stopped")
        async with anyio.create_task_group() as tg:

            async def send_loop() -> None:
                while True:
                    await anyio.sleep(SEND_EVERY)
                    self.out.flush()

            async def watch() -> None:
                # A word from the task ("stop"), or the end of the pipe: the worker is gone.
                await anyio.wait_readable(self.inbox.fileno())
                self.stopped = True
                tg.cancel_scope.cancel()  # the generator's processes are stopped by group

            tg.start_soon(send_loop)
            tg.start_soon(watch)
            attempt = Attempt(job, RelayedLog(self.out), self.out.progress, utcnow())
            result = await executor.run(attempt)
            tg.cancel_scope.cancel()
        return result

    def run(self) -> int:
        spec = self.spec
        lock = share(Path(spec.run_folder)) if spec.run_folder else None
        result = AttemptResult.failed("the attempt did not end")
        pull = False
        try:
            try:
                result = anyio.run(self._attempt)
            except Exception as exc:  # a bug of ours: the attempt fails, the box stays clean
                result = AttemptResult.failed(f"{type(exc).__name__}: {exc}")
            kill_descendants()
            ok = result.outcome is Outcome.OK and not self.stopped
            pull = ok and spec.attempt_folder is not None
            if not ok:
                self._remove_outputs()
            elif spec.scratch:  # the item succeeded here: its scratch has done its job
                shutil.rmtree(spec.scratch, ignore_errors=True)
            self.out.flush()
            self.out.send(
                {
                    "result": {
                        "outcome": result.outcome.value,
                        "reason": result.reason,
                        "kind": result.kind.value if result.kind else None,
                    },
                    "stopped": self.stopped,
                    "pull": pull,
                }
            )
            if pull:
                # The output waits here until the worker lets go of it (pulled, or the run
                # ended, or the worker died: the pipe's end says each).
                with contextlib.suppress(EOFError, OSError):
                    while self.inbox.recv() != STOP:
                        pass
        finally:
            if spec.attempt_folder:
                shutil.rmtree(spec.attempt_folder, ignore_errors=True)
            if lock is not None:
                os.close(lock)
                # The last user of the run's folder on a box whose worker died: remove it.
                remove_if_unused(Path(spec.run_folder or ""))
        return 0

    def _remove_outputs(self) -> None:
        """A given-up or failed attempt's output (and what it wrote beside it) never stays."""
        output = self.spec.job.output
        for path in (output, *(sidecar(output, suffix) for suffix in SIDECARS)):
            with contextlib.suppress(OSError):
                path.unlink()


def _children(pid: int) -> list[int]:
    """The children of `pid`, of every thread of it."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.scandir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"{task.path}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
    return found


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants(limit: float = KILL_WAIT) -> int:
    """SIGKILL every process below this one (orphans it adopted as a subreaper included) and
    collect them, until none is left or `limit` seconds passed; how many were killed."""
    killed = 0
    deadline = time.monotonic() + limit
    while True:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        below = _descendants(os.getpid())
        if not below or time.monotonic() > deadline:
            return killed
        for pid in below:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.01)


def serve(down: int, up: int) -> int:
    """A keeper's life (in a process the zygote forked): its spec from `down`, its messages
    up `up`; the exit code."""
    subreaper.install()
    inbox = Connection(down, writable=False)
    outbox = Connection(up, readable=False)
    try:
        spec = inbox.recv()
    except (EOFError, OSError):
        return 1
    assert isinstance(spec, Spec)
    keeper = Keeper(spec, inbox, outbox)
    keeper.out.send({"ready": True})  # running: the item's time begins now
    return keeper.run()
