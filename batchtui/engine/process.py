"""Running one child process for an item: own session, capped log, clean group kill.

Children start with `start_new_session=True`, so the child and everything it spawns share one
process group; on cancel or timeout the whole group gets SIGTERM, then SIGKILL after a grace
period. Output goes line by line to the item's log file, capped so a runaway child cannot fill
the disk or the memory; the last lines are kept to explain a failure in one line.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import anyio

from ..generators.base import GeneratorError

LOG_CAP_BYTES = 4 * 1024 * 1024
MAX_LINE = 16 * 1024
TAIL_LINES = 20
FLUSH_SECONDS = 0.2


class ItemLog:
    """An append-only, size-capped log file for one item (shared by all its attempts)."""

    def __init__(self, path: Path, cap: int = LOG_CAP_BYTES) -> None:
        self.path = path
        self.cap = cap
        self.written = 0
        self.truncated = False
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.stderr_tail: deque[str] = deque(maxlen=TAIL_LINES)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115
        self._flushed = 0.0

    def write(self, line: str, stream: str = "") -> None:
        """Log one line (kept in the tail even once the file cap is reached)."""
        line = line.rstrip("\r\n")
        if stream == "stderr":
            self.stderr_tail.append(line)
        if stream in ("stdout", "stderr"):
            self.tail.append(line)
        if self.truncated:
            return
        data = line + "\n"
        if self.written + len(data) > self.cap:
            self.truncated = True
            self._handle.write(f"[batchtui: log capped at {self.cap // 1024} KiB; rest dropped]\n")
            self._handle.flush()
            return
        self._handle.write(data)
        self.written += len(data)
        now = time.monotonic()
        if now - self._flushed >= FLUSH_SECONDS:  # readers follow the log live
            self._handle.flush()
            self._flushed = now

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        if self.truncated and self.tail:
            self._handle.write("[batchtui: last lines before exit]\n")
            self._handle.write("\n".join(self.tail) + "\n")
        with contextlib.suppress(OSError):
            self._handle.close()

    def last_error_line(self) -> str | None:
        """The most telling line for a failure: last stderr line, else last stdout line."""
        for source in (self.stderr_tail, self.tail):
            for line in reversed(source):
                if line.strip():
                    return line.strip()
        return None


class _LineSplitter:
    """Turns a stream of byte chunks into lines (\n, \r\n or a lone \r end a line)."""

    def __init__(self, name: str, emit: Callable[[str, str], None]) -> None:
        self.name = name
        self.emit = emit
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buffer = ""

    def feed(self, chunk: bytes) -> None:
        buffer = self.buffer + self.decoder.decode(chunk)
        # ffmpeg ends progress lines with \r; treat it as a line end too.
        buffer = buffer.replace("\r\n", "\n").replace("\r", "\n")
        *lines, buffer = buffer.split("\n")
        if len(buffer) > MAX_LINE:  # a line with no end in sight: take it in pieces
            lines.append(buffer)
            buffer = ""
        self.buffer = buffer
        for line in lines:
            self.emit(self.name, line)

    def close(self) -> None:
        rest = self.buffer + self.decoder.decode(b"", final=True)
        self.buffer = ""
        if rest:
            self.emit(self.name, rest)


class _ChildProtocol(asyncio.SubprocessProtocol):
    """Receives a child's output by callbacks (no reader task per pipe): each line goes to the
    log and to `on_line`; `done` resolves once the child has exited and closed its pipes."""

    def __init__(self, emit: Callable[[str, str], None]) -> None:
        self.splitters = {1: _LineSplitter("stdout", emit), 2: _LineSplitter("stderr", emit)}
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.splitters[fd].feed(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.splitters[fd].close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


@functools.cache
def _devnull() -> int:
    """One read-only /dev/null descriptor for every child's stdin (not an open per child)."""
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)


def kill_group(pid: int, sig: int) -> None:
    """Send `sig` to the process group led by `pid` (ignore it if already gone)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def describe_exit(returncode: int, log: ItemLog) -> str:
    """One line explaining a failed exit, with the child's last words when it left some."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        reason = f"killed by {name}"
    elif returncode == 137:
        reason = "exit code 137 (killed: SIGKILL, often out of memory)"
    else:
        reason = f"exit code {returncode}"
    last = log.last_error_line()
    if last:
        reason = f"{reason}: {last}"
    return reason


async def run_logged(
    argv: list[str],
    log: ItemLog,
    *,
    cwd: Path | None = None,
    on_line: Callable[[str, str], None] | None = None,
    grace: float = 3.0,
    log_stdout: bool = True,
    env: dict[str, str] | None = None,
) -> None:
    """Run argv to completion, logging its output; raise GeneratorError on failure.

    Cancellation (batch cancel, item timeout) terminates the child's whole process group.
    Output arrives through asyncio's subprocess protocol: no reader tasks, so a batch of
    thousands of tiny commands costs little more than the commands themselves.
    """
    log.write(f"$ {' '.join(argv)}", "batchtui")

    def emit(stream: str, line: str) -> None:
        if stream == "stderr" or log_stdout:
            log.write(line, stream)
        if on_line is not None:
            on_line(stream, line)

    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: _ChildProtocol(emit),
            *argv,
            stdin=_devnull(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GeneratorError(f"executable not found: {argv[0]}") from None
    except PermissionError:
        raise GeneratorError(f"executable not runnable (permission denied): {argv[0]}") from None
    except OSError as exc:
        raise GeneratorError(f"could not start {argv[0]}: {exc.strerror or exc}") from None
    pid = transport.get_pid()
    try:
        await protocol.done
    finally:
        if transport.get_returncode() is None:
            with anyio.CancelScope(shield=True):
                kill_group(pid, signal.SIGTERM)
                with anyio.move_on_after(grace):
                    await protocol.done
                if transport.get_returncode() is None:
                    kill_group(pid, signal.SIGKILL)
                    with anyio.move_on_after(grace):
                        await protocol.done
                log.write(f"[batchtui: stopped process group {pid}]", "batchtui")
        else:
            # The leader exited; make sure nothing it spawned lingers in its group.
            kill_group(pid, signal.SIGKILL)
        transport.close()
        log.flush()
    returncode = transport.get_returncode()
    if returncode != 0:
        raise GeneratorError(describe_exit(returncode if returncode is not None else -9, log))
