"""`LocalExecutor`: an attempt runs here, its generator on this event loop and its child
processes in their own sessions (see `local_spawn.py`)."""

from __future__ import annotations

import copy
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core import subreaper
from ..core.failures import EX_TEMPFAIL, RateLimited
from ..generators.base import Generator, GeneratorError, LineHandler
from .executor import Attempt, AttemptResult, FailureKind
from .fdwatch import FdWatch
from .liveness import BATCH_ENV, ITEM_ENV, SLOT_ENV
from .local_spawn import ExitError, Programs, run_logged


@dataclass(slots=True)
class _ItemContext:
    """The `Context` a generator sees for one item attempt."""

    attempt: Attempt
    executor: LocalExecutor
    last_fraction: float = 0.0

    @property
    def slot(self) -> int:
        return self.attempt.slot

    def progress(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        # Ignore noise: only report a step of at least 1% (or the end).
        if fraction - self.last_fraction >= 0.01 or (fraction >= 1.0 > self.last_fraction):
            self.last_fraction = fraction
            self.attempt.progress(fraction)

    def log(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.attempt.log.write(line, "batchtui")

    def cost(self, amount: float) -> None:
        self.attempt.log.write(f"COST {float(amount)!r}", "batchtui")  # counted as it is logged

    async def run(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        on_line: LineHandler | None = None,
        log_stdout: bool = True,
    ) -> None:
        job = self.attempt.job
        executor = self.executor
        await run_logged(
            argv,
            self.attempt.log,
            cwd=cwd or executor.workdir(job.config.workdir),
            on_line=on_line,
            grace=executor.grace,
            log_stdout=log_stdout,
            # Inherited by grandchildren: how a crashed runner's leftovers are found.
            env={
                **executor.env,
                **executor.slot_env(self.attempt.slot),
                ITEM_ENV: job.item_id,
                BATCH_ENV: job.batch_id,
            },
            programs=executor.programs,
            adopting=executor.adopting,
            watch=executor.watch,
        )


class LocalExecutor:
    """Runs each attempt's generator in this process; children are killed by group on cancel.

    It changes nothing process-wide: whether orphans an item leaves (a setsid'd grandchild)
    become ours, to stop when it ends, is the entry point's choice (`core/subreaper.py`: a
    runner is a subreaper, a Dask worker is the cluster's and is not); asked once per run.
    """

    def __init__(
        self,
        generator: Generator,
        *,
        grace: float = 3.0,
        watch: FdWatch | None = None,
        slot_env: Callable[[int], dict[str, str]] | None = None,
    ) -> None:
        self.generator = generator
        self.grace = grace
        self.watch = watch
        """The run's epoll set for its children's descriptors (`fdwatch.py`; its owner closes
        it), or None: each is the loop's own reader."""
        self._where = f"pid {os.getpid()}"
        self._host = socket.gethostname()
        self.env = dict(os.environ)
        """The items' environment: copied once per run (os.environ decodes on every read),
        not once per process (a long-lived process sees changes)."""
        self.programs = Programs()
        """Where each command's program lives, looked up once per run."""
        self.adopting = subreaper.installed()
        """Whether orphans of items become this process's children (swept after each item)."""
        self._workdirs: dict[str, Path] = {}
        self._slot_env = slot_env
        self._slot_envs: dict[int, dict[str, str]] = {}

    def for_stage(self, generator: Generator) -> LocalExecutor:
        """An executor for one pipeline stage's `generator`, sharing this one's epoll set,
        environment, program lookups and working folders."""
        other = copy.copy(self)
        other.generator = generator
        return other

    def slot_env(self, slot: int) -> dict[str, str]:
        """What an item in slot `slot` adds to the environment: `BATCHTUI_SLOT` and the host
        settings' per-slot values (made once per slot and run)."""
        env = self._slot_envs.get(slot)
        if env is None:
            extra = self._slot_env(slot) if self._slot_env is not None else {}
            env = self._slot_envs[slot] = {**extra, SLOT_ENV: str(slot)}
        return env

    def workdir(self, folder: str) -> Path:
        """`folder` as a path, made once per run rather than once per item."""
        path = self._workdirs.get(folder)
        if path is None:
            path = self._workdirs[folder] = Path(folder)
        return path

    @property
    def where(self) -> str:
        return self._where

    @property
    def host(self) -> str | None:
        return self._host

    async def run(self, attempt: Attempt) -> AttemptResult:
        try:
            await self.generator.generate(attempt.job, _ItemContext(attempt, self))
        except RateLimited as exc:
            return AttemptResult.rate_limited(str(exc), exc.retry_after)
        except ExitError as exc:
            if exc.returncode == EX_TEMPFAIL:  # "try again later"
                return AttemptResult.rate_limited(str(exc))
            return AttemptResult.failed(
                str(exc), FailureKind.SIGNAL if exc.signalled else FailureKind.ERROR
            )
        except GeneratorError as exc:
            return AttemptResult.failed(str(exc))
        except Exception as exc:  # isolation: a generator bug fails this item only
            attempt.log.write("".join(traceback.format_exception(exc)), "batchtui")
            return AttemptResult.failed(f"{type(exc).__name__}: {exc}", FailureKind.CRASH)
        return AttemptResult.ok()
