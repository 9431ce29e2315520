"""What runs on a Dask worker: one attempt of one item, as one Dask task.

The coordinator (the batch's runner, see `dask_executor.py`) submits `run_attempt` with an
explicit key. Here, on the worker, the task starts a keeper process (`keeper.py`, in a session
of its own, a subreaper) that runs the item's generator exactly as a local run does (the same
`LocalExecutor`); everything the attempt says comes up the keeper's pipe and travels on to the
coordinator live, as Dask structured events on the run's topic: where it runs, its log lines,
its progress, and a last word once every process it started has ended.

Dask cannot interrupt a running task, so the task watches for itself: once the scheduler no
longer wants it (the coordinator cancelled the future, the item timed out, or the coordinator
is gone), the worker's own state for the key leaves "executing", and the keeper is told to
stop. Should the worker itself die, the keeper sees its pipe end and stops on its own.

Outputs: when this worker sees the batch's output folder (shared storage, told apart from a
folder that merely has the same name by a probe file the coordinator wrote there), the output
is written in place under a name of this placement's own; when it does not, the attempt runs
in a private folder of the run's folder on this box (`farm_folders.py`) and the output stays
there, held by its keeper, until the coordinator has pulled it back in chunks (`transfer.py`)
and lets go of it (`let_go`), or the run ends (`end_of_run`), or the worker dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import select
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..generators.base import SIDECARS, Job, sidecar
from .farm_folders import attempt_folder, hold, release, scratch_folder, sweep
from .keeper import STOP, Spec
from .zygote import fork_keeper

SEND_EVERY = 0.1
"""Seconds between batches of log lines and progress sent to the coordinator."""
KEEPER_WAIT = 30.0
"""How long a stopped or let-go keeper has to end before it is killed (it ends in grace)."""
WATCH_EVERY = 0.1
"""Seconds between looks at whether the scheduler still wants this task."""
WANTED = frozenset({"executing", "long-running"})
WORKER_UP = frozenset({"running", "paused", "closing_gracefully"})


class _Relay:
    """Sends what the attempt says (its keeper's event batches) to the coordinator in
    numbered batches."""

    def __init__(self, send: Callable[[dict[str, Any]], None], key: str) -> None:
        self.send = send
        self.key = key
        self.buffer: list[list[Any]] = []
        self.sent = 0

    def flush(self, **extra: Any) -> None:
        if not self.buffer and not extra:
            return
        self.sent += 1
        events, self.buffer = self.buffer, []
        self.send({"k": self.key, "n": self.sent, "e": events, **extra})


def sees_shared_folder(probe: str | None, token: str) -> bool:
    """Whether this worker shares the coordinator's output folder: the probe file the
    coordinator wrote is here with its token (the same folder, not one of the same name), and
    this worker can write there (a folder seen read-only is not shared: the output comes back)."""
    if probe is None:
        return False
    try:
        with open(probe, encoding="utf-8") as handle:
            if handle.read(256) != token:
                return False
    except (OSError, UnicodeDecodeError):
        return False
    # A real write, not os.access: a read-only mount, an NFS export mapped to another user or
    # a full disk all say no only when a file is made.
    mine = f"{probe}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(mine, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    os.close(fd)
    try:
        os.unlink(mine)
    except OSError:
        return False
    return True


def _private_job(job: Job, folder: Path, scratch: Path) -> Job:
    """The job redirected into a private folder on this worker (no shared storage)."""
    config = job.config
    if not os.path.isdir(config.workdir):  # the coordinator's folder is not here
        config = config.model_copy(update={"workdir": str(folder)})
    return dataclasses.replace(
        job,
        config=config,
        output=folder / job.output.name,
        final_output=folder / job.final_output.name,
        scratch=scratch,
        log_path=folder / "item.log",
    )


@dataclasses.dataclass
class _Held:
    """A finished attempt's keeper, holding an output until the coordinator has pulled it."""

    topic: str
    keeper: _Keeper


_holding: dict[str, _Held] = {}
"""This worker's keepers holding outputs, by their attempt folder."""
_holding_guard = threading.Lock()


@dataclasses.dataclass
class _Keeper:
    """The task's side of one keeper: its pid and the two ends of its pipes."""

    pid: int
    down: Connection
    up: Connection

    @classmethod
    def start(cls, spec: Spec) -> _Keeper:
        down_read, down_write = os.pipe()
        up_read, up_write = os.pipe()
        try:
            pid = fork_keeper(down_read, up_write)
        except BaseException:
            for fd in (down_write, up_read):
                os.close(fd)
            raise
        finally:
            os.close(down_read)
            os.close(up_write)
        down, up = Connection(down_write, readable=False), Connection(up_read, writable=False)
        keeper = cls(pid, down, up)
        keeper.down.send(spec)
        return keeper

    def tell_stop(self) -> None:
        with contextlib.suppress(OSError):
            self.down.send(STOP)

    def end(self) -> None:
        """Tell the keeper to stop (it cleans up and exits) and wait for its pipe to end,
        bounded; a keeper that does not end in time is killed."""
        self.tell_stop()
        self.down.close()
        deadline = time.monotonic() + KEEPER_WAIT
        with contextlib.suppress(EOFError, OSError):
            while time.monotonic() < deadline:
                if self.up.poll(0.2):
                    self.up.recv()  # what it still says: nobody waits for it any more
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.up.close()


def run_attempt(job: Job, topic: str, probe: str | None, token: str, grace: float) -> dict:
    """Run one attempt of `job` on this worker (the body of one Dask task).

    Returns {"outcome", "reason", "kind", "sent" (event batches sent), "written" (the
    placement's own output name, in the shared output folder), "pull" (no shared folder: where
    the output waits on this worker, to be pulled back), "stopped" (the scheduler gave the
    task up and it was stopped)}.
    """
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()
    assert key is not None
    relay = _Relay(lambda message: worker.log_event(topic, message), str(key))
    shared = sees_shared_folder(probe, token)
    if shared:
        # A name of this placement's own: should this worker die and its attempt linger a
        # moment, its late writes never reach the file a re-run on another worker makes
        # (the coordinator renames the winner's); its keeper removes it.
        own = job.output.with_name(f"{job.output.stem}-{secrets.token_hex(3)}{job.output.suffix}")
        shared_job = dataclasses.replace(job, output=own)
        run_folder = None
        if not os.path.isdir(job.config.workdir):
            # It shares the outputs but not the coordinator's working folder: a private one,
            # in the run's folder on this box (removed with it, even if this worker dies).
            sweep()
            run = hold(topic)
            moved = run / f"work-{secrets.token_hex(4)}"
            moved.mkdir(mode=0o700)
            config = job.config.model_copy(update={"workdir": str(moved)})
            shared_job = dataclasses.replace(shared_job, config=config)
            run_folder = str(run)
        spec = Spec(shared_job, grace, run_folder, None, None)
    else:
        sweep()  # what dead workers and keepers left on this box
        run = hold(topic)
        folder, scratch = attempt_folder(run), scratch_folder(run, job.item_id)
        local_job = _private_job(job, folder, scratch)
        spec = Spec(local_job, grace, str(run), str(folder), str(scratch))
    placed = [str(worker.name), socket.gethostname()]
    if spec.job.config.workdir != job.config.workdir:  # said with the first word
        relay.buffer.append([
            "w", "batchtui",
            f"[batchtui: the working folder {job.config.workdir} is not on this worker; the "
            f"item runs in {spec.job.config.workdir}]",
        ])  # fmt: skip

    def wanted() -> bool:
        # Released by the scheduler (cancel, timeout, its client gone), or this worker is
        # closing (it lost the scheduler): stop, so no process of the item outlives either.
        if worker.status.name not in WORKER_UP:
            return False
        state = worker.state.tasks.get(key)
        return state is not None and state.state in WANTED

    said: dict[str, Any] = {}
    stopped = False
    keeper = _Keeper.start(spec)
    up = keeper.up
    try:
        sent_at = time.monotonic()
        while True:
            if not stopped and not wanted():
                stopped = True
                keeper.tell_stop()
            ready, _, _ = select.select([up], [], [], WATCH_EVERY)
            if ready:
                try:
                    message = up.recv()
                except (EOFError, OSError):
                    break  # the keeper ended
                if message.get("ready"):
                    # The first word, as the item starts: which worker and host it runs on
                    # (its time limit runs from here: the keeper's start-up is not its time).
                    relay.flush(placed=placed, shared=shared)
                relay.buffer.extend(message.get("e") or ())
                if "result" in message:
                    said = message
                    if message.get("pull"):
                        break  # it holds the output until it is let go
            if time.monotonic() - sent_at >= SEND_EVERY:
                relay.flush()
                sent_at = time.monotonic()
    finally:
        if said.get("pull") and not stopped:
            with _holding_guard:
                _holding[str(spec.attempt_folder)] = _Held(topic, keeper)
        else:
            keeper.end()
        if shared and spec.run_folder:  # the private working folder of a shared-output box
            shutil.rmtree(spec.job.config.workdir, ignore_errors=True)
        # The last word: every process of the attempt has ended (a cancel waits for it).
        relay.flush(end=time.time())
    result = said.get("result") or {
        "outcome": "failed",
        "reason": "the attempt's keeper process ended without a word",
        "kind": None,
    }
    pull = None
    if said.get("pull") and not stopped:
        output = spec.job.output
        pull = {
            "worker": worker.address,
            "folder": spec.attempt_folder,
            "output": [str(output), os.path.getsize(output)],
            "sidecars": {
                suffix: [str(sidecar(output, suffix)), os.path.getsize(sidecar(output, suffix))]
                for suffix in SIDECARS
                if os.path.exists(sidecar(output, suffix))
            },
        }
    return {
        **result,
        "sent": relay.sent,
        "written": str(spec.job.output) if shared else None,
        "pull": pull,
        "stopped": stopped or bool(said.get("stopped")),
    }


async def let_go(folder: str) -> bool:
    """The coordinator has what the keeper of `folder` held (or gave it up): end that keeper,
    which removes the folder. Runs on the worker (`Client.run`, off its event loop); whether
    it held one."""
    return await asyncio.to_thread(_let_go, folder)


def _let_go(folder: str) -> bool:
    with _holding_guard:
        held = _holding.pop(folder, None)
    if held is None:
        return False
    held.keeper.end()
    return True


async def end_of_run(topic: str) -> int:
    """The run `topic` ended: let go of every output still held for it, remove the run's
    folder on this box, and sweep what dead workers left; runs on every worker
    (`Client.run`, off its event loop). How many stale folders were swept."""
    return await asyncio.to_thread(_end_of_run, topic)


def _end_of_run(topic: str) -> int:
    with _holding_guard:
        mine = [folder for folder, held in _holding.items() if held.topic == topic]
    for folder in mine:
        _let_go(folder)
    release(topic)
    return sweep()
