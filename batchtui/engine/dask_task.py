"""What runs on a Dask worker: one attempt of one item, as one Dask task.

The coordinator (the batch's runner, see `dask_executor.py`) submits `run_attempt` with an
explicit key. Here, on the worker, the item's generator runs exactly as it does locally (the
same `LocalExecutor`: its commands in their own process groups, killed by group when they are
stopped), and everything it says travels back live as Dask structured events on the run's
topic: where it runs, its log lines, its progress, and a last word once every process it
started has ended.

Dask cannot interrupt a running task, so the task watches for itself: once the scheduler no
longer wants it (the coordinator cancelled the future, the item timed out, or the coordinator
is gone), the worker's own state for the key leaves "executing", and the attempt is stopped.

Outputs: when this worker sees the batch's output folder (shared storage, told apart from a
folder that merely has the same name by a probe file the coordinator wrote there), the output
is written in place; when it does not, the attempt runs in a private temporary folder and the
output's bytes are the task's result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from ..core.models import utcnow
from ..generators import get_generator
from ..generators.base import SIDECARS, Job, sidecar
from .executor import Attempt, AttemptResult, Outcome
from .itemlog import ItemLog
from .local import LocalExecutor

SEND_EVERY = 0.1
"""Seconds between batches of log lines and progress sent to the coordinator."""
WATCH_EVERY = 0.1
"""Seconds between looks at whether the scheduler still wants this task."""
WANTED = frozenset({"executing", "long-running"})
WORKER_UP = frozenset({"running", "paused", "closing_gracefully"})


class _Relay:
    """Buffers what the attempt says and sends it to the coordinator in numbered batches."""

    def __init__(self, send: Callable[[dict[str, Any]], None], key: str) -> None:
        self.send = send
        self.key = key
        self.buffer: list[list[Any]] = []
        self.sent = 0
        self.last_progress: float | None = None

    def line(self, line: str, stream: str) -> None:
        self.buffer.append(["w", stream, line])

    def note(self, line: str) -> None:
        self.buffer.append(["n", line])

    def progress(self, fraction: float) -> None:
        self.last_progress = fraction

    def flush(self, **extra: Any) -> None:
        if self.last_progress is not None:
            self.buffer.append(["p", self.last_progress])
            self.last_progress = None
        if not self.buffer and not extra:
            return
        self.sent += 1
        events, self.buffer = self.buffer, []
        self.send({"k": self.key, "n": self.sent, "e": events, **extra})


class _RelayedLog(ItemLog):
    """The item's log as the generator sees it on a worker: each line goes to the coordinator
    (which writes the real log); the last lines stay here to explain a failure in one line."""

    def __init__(self, relay: _Relay) -> None:
        super().__init__(Path(os.devnull))
        self.relay = relay

    def note(self, line: str) -> None:
        self.relay.note(line.rstrip("\r\n"))

    def write(self, line: str, stream: str = "") -> None:
        self.relay.line(self.remember(line, stream), stream)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


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


def _private_job(job: Job, folder: Path | None) -> Job:
    """The job as it runs on this worker: redirected into the private `folder` when the output
    folder is not shared (None: it is), and, either way, with a working folder that exists
    here (the coordinator's `workdir` may be missing on this box even when the output folder
    is shared): a private one then, said in the item's log by the caller."""
    config = job.config
    if not os.path.isdir(config.workdir):  # the coordinator's folder is not here
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="batchtui-work-"))
            config = config.model_copy(update={"workdir": str(folder)})
            return dataclasses.replace(job, config=config)
        config = config.model_copy(update={"workdir": str(folder)})
    if folder is None:
        return job
    return dataclasses.replace(
        job,
        config=config,
        output=folder / job.output.name,
        final_output=folder / job.final_output.name,
        scratch=folder / "scratch",
        log_path=folder / "item.log",
    )


def run_attempt(job: Job, topic: str, probe: str | None, token: str, grace: float) -> dict:
    """Run one attempt of `job` on this worker (the body of one Dask task).

    Returns {"outcome", "reason", "kind", "sent" (event batches sent), "data" (the output's
    bytes when the output folder is not shared, else None), "stopped" (the scheduler gave the
    task up and it was stopped)}.
    """
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()
    assert key is not None
    relay = _Relay(lambda message: worker.log_event(topic, message), str(key))
    shared = sees_shared_folder(probe, token)
    private = None if shared else Path(tempfile.mkdtemp(prefix="batchtui-item-"))
    if private is None:
        # A name of this placement's own: should this worker die while its processes live
        # on (a killed worker on a box that stays up), their late writes never reach the
        # file a re-run on another worker makes (the coordinator renames the winner's).
        own = job.output.with_name(f"{job.output.stem}-{secrets.token_hex(3)}{job.output.suffix}")
        local_job = dataclasses.replace(_private_job(job, None), output=own)
    else:
        local_job = _private_job(job, private)
    # The first word, sent at once: which worker and host this attempt runs on.
    relay.flush(placed=[str(worker.name), socket.gethostname()], shared=shared)
    moved = local_job.config.workdir != job.config.workdir
    if moved:
        relay.line(
            f"[batchtui: the working folder {job.config.workdir} is not on this worker; the "
            f"item runs in {local_job.config.workdir}]",
            "batchtui",
        )

    def wanted() -> bool:
        # Released by the scheduler (cancel, timeout, its client gone), or this worker is
        # closing (it lost the scheduler): stop, so no process of the item outlives either.
        if worker.status.name not in WORKER_UP:
            return False
        state = worker.state.tasks.get(key)
        return state is not None and state.state in WANTED

    stopped = False

    async def attempt() -> AttemptResult:
        executor = LocalExecutor(get_generator(job.config.generator), grace=grace)
        log = _RelayedLog(relay)
        result = AttemptResult.failed("stopped")
        async with anyio.create_task_group() as tg:

            async def send_loop() -> None:
                while True:
                    await anyio.sleep(SEND_EVERY)
                    relay.flush()

            async def watch() -> None:
                nonlocal stopped
                while wanted():
                    await anyio.sleep(WATCH_EVERY)
                stopped = True
                tg.cancel_scope.cancel()  # the generator's processes are stopped by group

            tg.start_soon(send_loop)
            tg.start_soon(watch)
            result = await executor.run(Attempt(local_job, log, relay.progress, utcnow()))
            tg.cancel_scope.cancel()
        return result

    data: bytes | None = None
    extras: dict[str, bytes] = {}
    result = AttemptResult.failed("the attempt did not end")
    try:
        result = anyio.run(attempt)
        if result.outcome is Outcome.OK and private is not None:
            try:
                data = local_job.output.read_bytes()
                for suffix in SIDECARS:  # a poster travels with its output
                    beside = sidecar(local_job.output, suffix)
                    if beside.exists():
                        extras[suffix] = beside.read_bytes()
            except OSError as exc:
                result = AttemptResult.failed(
                    f"the worker could not read its output: {exc.strerror or exc}"
                )
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
        elif moved:  # the private working folder of a worker that shares only the outputs
            shutil.rmtree(local_job.config.workdir, ignore_errors=True)
        elif result.outcome is not Outcome.OK:
            for path in (local_job.output, *(sidecar(local_job.output, x) for x in SIDECARS)):
                with contextlib.suppress(OSError):  # a partial output never stays behind
                    path.unlink()
        # The last word: every process of the attempt has ended (a cancel waits for it).
        relay.flush(end=time.time())
    return {
        "outcome": result.outcome.value,
        "reason": result.reason,
        "kind": result.kind.value if result.kind else None,
        "sent": relay.sent,
        "data": data,
        "sidecars": extras,
        "written": str(local_job.output) if private is None else None,
        "stopped": stopped,
    }
