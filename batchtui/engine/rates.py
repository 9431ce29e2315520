"""Rate limits: a token bucket per batch (`rate`) and one per named host-wide rate
(`rate_key`, `[rates]` in settings.toml) shared by every runner on the host.

Every bucket has a burst of 1: a rate of 30/min lets one attempt start every 2 s, never a
bunch at once (an API's "30 a minute" is often enforced over shorter windows too). The state
is when the next token is free (the "theoretical arrival time" of GCRA): a taker reserves it
and moves it one interval on, then sleeps until its time; a rate-limited answer (`hold_off`)
holds every token until the time the service asked for.

A host-wide bucket keeps that number in a small file in the slot folder (`rates/<name>`),
read, changed and written under `flock`: the kernel drops the lock when its holder dies, and
the lock is held only for the read and the write (never while a waiter sleeps), so a crash
can leave nothing wrong: at worst the token a dead waiter had reserved goes unused. The times
are CLOCK_MONOTONIC (shared by every process of the host, never set back); the file also
names the boot it was written in, as the clock restarts with the machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from ..core.errors import ValidationError
from ..core.limits import MAX_RETRY_AFTER
from ..core.models import BatchConfig
from ..core.rates import Rate, parse_rate
from ..core.settings import HostSettings
from .slots import FOLDER_MODE

RATES_FOLDER = "rates"
"""Where the host-wide buckets' files live, inside the slot folder."""
STATE_FILE_MODE = 0o666
"""A bucket's file: every user who shares the slot folder takes tokens from it."""
LOCK_RETRY_SECONDS = 0.002
"""How long a taker waits before it tries a busy file lock again (it is held for a read and
a write: microseconds, unless its holder was stopped)."""

MAX_WAITERS = 1024
"""The most processes that may wait for one shared bucket at once (each reserves one token):
a due time further ahead than they could make is a damaged file's."""

OnWait = Callable[[str], None]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


_BOOT = _boot_id()


@dataclass(slots=True)
class _State:
    due: float = 0.0
    """When the next token is free (CLOCK_MONOTONIC): a taker reserves it and moves it on."""
    held: float = 0.0
    """No token before this (a service said "later"): a reservation made before the hold
    is taken again after it."""


class RateBucket:
    """One rate limit: `take` waits for a token; `hold_off` makes the next one wait longer.

    `path` None: the bucket lives in this process only (a batch's own rate: its one runner
    is the only one that takes from it); else the file every runner of the host shares.
    Takers in one process queue on a lock (first come, first served), and only the first
    reserves a token in the shared state: the processes take turns, and a process killed
    while it waits loses the host at most the one token it had reserved.
    """

    def __init__(self, rate: Rate, what: str, path: Path | None = None) -> None:
        self.rate = rate
        self.what = what
        """How a waiting item names it: "the rate limit tts (30/min)"."""
        self.path = path
        self._state = _State()  # (a bucket of this process only)
        self._turn = anyio.Lock()
        if path is not None:
            _make_folder(path.parent)

    async def take(self, on_wait: OnWait | None = None) -> None:
        """Wait for a token and take it; `on_wait(detail)` when it must wait (saying how
        long)."""
        interval = self.rate.interval

        def reserve(state: _State, now: float) -> float:
            at = max(state.due, state.held, now)
            state.due = at + interval
            return at - now

        if self._turn.locked() and on_wait is not None:  # others of this run are ahead
            on_wait(f"waiting for {self.what}, after this run's earlier items")
        async with self._turn:
            while True:
                wait = await self._update(reserve)
                if wait <= 0:
                    return
                if on_wait is not None:
                    on_wait(f"waiting for {self.what}: next in {wait:.1f} s")
                await anyio.sleep(wait)
                if await self._update(lambda state, now: state.held - now) <= 0:
                    return  # (else a hold came meanwhile: a new turn after it)

    async def hold_off(self, seconds: float) -> None:
        """No token for `seconds` from now (a service said "later": slow down for everyone
        who shares this limit)."""
        seconds = min(max(seconds, 0.0), MAX_RETRY_AFTER)

        def hold(state: _State, now: float) -> float:
            state.held = max(state.held, now + seconds)
            state.due = max(state.due, state.held)
            return 0.0

        await self._update(hold)

    async def next_in(self) -> float:
        """Seconds until the next token is free (0: now)."""
        return await self._update(lambda state, now: max(0.0, state.due - now, state.held - now))

    async def _update(self, change: Callable[[_State, float], float]) -> float:
        """Apply `change(state, now) -> answer` to the state, atomically across the host;
        returns the answer."""
        if self.path is None:
            now = time.monotonic()
            self._clamp(self._state, now)
            return change(self._state, now)
        fd = await self._locked()
        try:
            now = time.monotonic()
            state = _read_state(fd)
            self._clamp(state, now)
            before = dataclasses.replace(state)
            answer = change(state, now)
            if state != before:
                _write_state(fd, state)
            return answer
        finally:
            os.close(fd)  # (and with it the lock)

    def _clamp(self, state: _State, now: float) -> None:
        """Times no further ahead than any wait can be (a damaged file)."""
        state.held = min(state.held, now + MAX_RETRY_AFTER)
        state.due = min(state.due, now + MAX_RETRY_AFTER + MAX_WAITERS * self.rate.interval)

    async def _locked(self) -> int:
        assert self.path is not None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, STATE_FILE_MODE)
        except OSError as exc:
            raise ValidationError(
                f"rate file {self.path} cannot be used: {exc.strerror} (make the slot folder "
                "writable by every user who shares it)"
            ) from None
        with contextlib.suppress(OSError):  # the umask must not keep other users out
            if os.fstat(fd).st_uid == os.getuid():
                os.fchmod(fd, STATE_FILE_MODE)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                        raise
                await anyio.sleep(LOCK_RETRY_SECONDS)
        except BaseException:
            os.close(fd)
            raise


def _read_state(fd: int) -> _State:
    """The state the file holds (none: empty, unreadable, or from another boot)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        if data.get("boot") == _BOOT:
            return _State(float(data["due"]), float(data["held"]))
    except (ValueError, TypeError, KeyError, AttributeError, OSError):
        pass
    return _State()


def _write_state(fd: int, state: _State) -> None:
    blob = json.dumps({"boot": _BOOT, "due": state.due, "held": state.held}).encode()
    os.pwrite(fd, blob, 0)
    os.ftruncate(fd, len(blob))


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        with contextlib.suppress(OSError):  # as open to other users as the slot folder is
            if folder.stat().st_uid == os.getuid():
                os.chmod(folder, os.stat(folder.parent).st_mode & 0o7777)
    except OSError as exc:
        raise ValidationError(f"rate folder {folder} cannot be made: {exc.strerror}") from None


def rate_buckets(config: BatchConfig, host: HostSettings) -> list[RateBucket]:
    """The buckets a run of a batch with `config` takes a token from at every attempt's start
    (its own rate, then its host-wide one); ValidationError, one line, for a `rate_key` the
    host settings do not name."""
    buckets: list[RateBucket] = []
    if config.rate:
        rate = parse_rate(config.rate)
        buckets.append(RateBucket(rate, f"the batch's rate limit ({rate})"))
    if config.rate_key:
        rate = host.rate_for(config.rate_key)
        path = host.slots_dir / RATES_FOLDER / config.rate_key
        buckets.append(RateBucket(rate, f"the rate limit {config.rate_key} ({rate})", path))
    return buckets
