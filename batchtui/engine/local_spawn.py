"""The local executor's private detail: one child process per item attempt, in its own
session, its output sent to the item's log, its whole group killed when it ends.

Children start with `start_new_session=True`, so the child and everything it spawns share one
process group; on cancel or timeout the whole group gets SIGTERM, then SIGKILL after a grace
period. Output goes line by line to the item's log file, capped so a runaway child cannot fill
the disk or the memory; the last lines are kept to explain a failure in one line.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import functools
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from ..core.children import OWN
from ..generators.base import GeneratorError
from .fdwatch import FdWatch
from .itemlog import ItemLog
from .liveness import ITEM_ENV
from .strays import stop_strays

MAX_LINE = 16 * 1024
DRAIN_SECONDS = 2.0


_UTF8_DECODER = codecs.getincrementaldecoder("utf-8")


class _LineSplitter:
    """Turns a stream of byte chunks into lines (\n, \r\n or a lone \r end a line)."""

    def __init__(self, name: str, emit: Callable[[str, str], None]) -> None:
        self.name = name
        self.emit = emit
        self.decoder: codecs.IncrementalDecoder | None = None  # most children print nothing
        self.buffer = ""

    def feed(self, chunk: bytes) -> None:
        if self.decoder is None:
            self.decoder = _UTF8_DECODER(errors="replace")
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
        if self.decoder is None:
            return
        rest = self.buffer + self.decoder.decode(b"", final=True)
        self.buffer = ""
        if rest:
            self.emit(self.name, rest)


class _Child:
    """A running child watched straight from the event loop: its two pipes by reader
    callbacks, its exit by a pidfd (a worker thread's wait() where pidfds don't exist).

    Leaner than asyncio's subprocess transports (one object, no protocol, no transports per
    pipe): with thousands of tiny commands, that bookkeeping cost more than the commands.
    """

    def __init__(
        self, spawned: _Spawned, emit: Callable[[str, str], None], watch: FdWatch | None = None
    ) -> None:
        self.pid = spawned.pid
        self._reap = spawned.reap
        self.loop = asyncio.get_running_loop()
        self.returncode: int | None = None
        self._pipes: dict[int, _LineSplitter] = {}
        self._waiter: asyncio.Future[None] | None = None
        self._pidfd = -1
        self._watch = watch
        for fd, name in ((spawned.stdout, "stdout"), (spawned.stderr, "stderr")):
            fcntl.fcntl(fd, fcntl.F_SETFL, os.O_NONBLOCK)  # a new pipe's only status flag
            self._pipes[fd] = _LineSplitter(name, emit)
            self._add(fd, functools.partial(self._readable, fd))
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # not Linux, or a kernel older than 5.3
            waiting = self.loop.run_in_executor(None, self._reap)
            waiting.add_done_callback(lambda done: self._exited(done.result()))
        else:
            self._add(self._pidfd, self._exited)

    def _add(self, fd: int, callback: Callable[[], object]) -> None:
        if self._watch is not None:
            self._watch.add(fd, callback)
        else:
            self.loop.add_reader(fd, callback)

    def _remove(self, fd: int) -> None:
        if self._watch is not None:
            self._watch.remove(fd)
        else:
            self.loop.remove_reader(fd)

    @property
    def finished(self) -> bool:
        """Exited, and every byte it wrote has been read."""
        return self.returncode is not None and not self._pipes

    def _readable(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # treat a broken pipe as its end
            data = b""
        if data:
            self._pipes[fd].feed(data)
        else:
            self._close_pipe(fd)

    def _close_pipe(self, fd: int) -> None:
        splitter = self._pipes.pop(fd)
        self._remove(fd)
        os.close(fd)
        splitter.close()
        self._wake()

    def _exited(self, returncode: int | None = None) -> None:
        if self._pidfd >= 0:
            self._remove(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
            returncode = self._reap()  # the pidfd says it exited: this only collects it
        self.returncode = returncode
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, *, output: bool) -> None:
        """Until the child has exited (and, with `output`, its pipes are drained too).

        Each call waits on a fresh future, so a cancelled wait leaves nothing broken for the
        next one (the cleanup after a cancel waits again).
        """
        while self.returncode is None or (output and self._pipes):
            self._waiter = self.loop.create_future()
            await self._waiter

    def drain_now(self) -> None:
        """Read whatever the exited child left in its pipes, without waiting (a pipe that is
        neither at its end nor holding data is left for `wait(output=True)`)."""
        for fd in list(self._pipes):
            while fd in self._pipes:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    data = b""
                if data:
                    self._pipes[fd].feed(data)
                else:
                    self._close_pipe(fd)

    def close(self) -> None:
        """Stop reading (pipes a setsid'd grandchild still holds are let go)."""
        for fd in list(self._pipes):
            self._close_pipe(fd)


class Programs:
    """Where each program named by a bare name lives, looked up once per run (one executor's
    life) instead of once per child, and never cached longer: a program installed or removed
    meanwhile is seen by the next run of a long-lived process.

    A bare name makes every spawn try each PATH entry with execve in turn (eight failed
    execs per child here); resolving it once and passing `executable=` keeps the child's
    argv[0] exactly as written (busybox-style tools dispatch on it).
    """

    def __init__(self) -> None:
        self._found: dict[tuple[str, str | None], str | None] = {}

    def executable(self, program: str, env: dict[str, str] | None) -> str | None:
        """The absolute path to run for `program` (None: leave it to exec as written)."""
        if os.sep in program:  # a path: the OS resolves it against cwd, as written
            return None
        path = (env if env is not None else os.environ).get("PATH")
        key = (program, path)
        try:
            return self._found[key]
        except KeyError:
            pass
        found = shutil.which(program, path=path)
        # A relative PATH entry would resolve against our cwd, not the child's: leave it to
        # exec.
        found = found if found and os.path.isabs(found) else None
        self._found[key] = found
        return found


@dataclass
class _Spawned:
    pid: int
    stdout: int
    stderr: int
    reap: Callable[[], int]
    """Wait for the exit and return its code (negative: killed by that signal)."""


# What Popen's restore_signals does: Python ignores SIGPIPE and SIGXFSZ, children must not.
_DEFAULT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name)
)


def _spawn(
    argv: list[str], cwd: Path | None, env: dict[str, str] | None, programs: Programs
) -> _Spawned:
    """Start argv in a new session: stdin from /dev/null, stdout and stderr into two pipes.

    `os.posix_spawn` (vfork + exec in C) costs about half of `subprocess.Popen`'s Python
    setup, which shows when items are tiny; it cannot change directory, so a child that must
    run elsewhere than here goes through Popen (as does every child where libc cannot start
    one in a new session). Both leave every other descriptor behind: Python opens them
    close-on-exec.
    """
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        if hasattr(os, "posix_spawn") and (cwd is None or os.fspath(cwd) == os.getcwd()):
            program = argv[0] if os.sep in argv[0] else programs.executable(argv[0], env)
            if program is None:  # posix_spawn does not search PATH: say what exec would
                raise FileNotFoundError(argv[0])
            try:
                pid = os.posix_spawn(
                    program,
                    argv,
                    env if env is not None else os.environ,
                    file_actions=[
                        # The child opens /dev/null itself: no descriptor kept open here.
                        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                        (os.POSIX_SPAWN_DUP2, out_write, 1),
                        (os.POSIX_SPAWN_DUP2, err_write, 2),
                    ],
                    setsid=True,
                    setsigdef=_DEFAULT_SIGNALS,
                )
            except NotImplementedError:  # a libc without POSIX_SPAWN_SETSID: Popen below
                pass
            else:
                return _Spawned(pid, out_read, err_read, functools.partial(_reap, pid))
        proc = subprocess.Popen(
            argv,
            executable=programs.executable(argv[0], env),
            stdin=subprocess.DEVNULL,
            stdout=out_write,
            stderr=err_write,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        return _Spawned(proc.pid, out_read, err_read, proc.wait)
    except BaseException:
        os.close(out_read)
        os.close(err_read)
        raise
    finally:
        os.close(out_write)
        os.close(err_write)


def _reap(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:  # someone else collected it: like Popen, assume it succeeded
        return 0
    return os.waitstatus_to_exitcode(status)


def _sweep(tag: str, log: ItemLog) -> bool:
    """One sweep for what the item left outside its group; whether to look again."""
    killed, busy = stop_strays(tag, adopting=True)
    if killed:
        log.write(
            f"[batchtui: stopped {killed} process(es) that left the item's process group]",
            "batchtui",
        )
    return busy


async def _stop_strays(tag: str, log: ItemLog) -> None:
    """Stop what the item left outside its group (a setsid'd grandchild): nothing tagged with
    an item outlives it. Bounded: a process that will not die is left after a second."""
    for _ in range(199):
        await anyio.sleep(0.005)
        if not _sweep(tag, log):
            return


class ExitError(GeneratorError):
    """A child process failed: a non-zero exit, or killed by a signal (`signalled`)."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.signalled = returncode < 0 or returncode == 137


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
    programs: Programs | None = None,
    adopting: bool = False,
    watch: FdWatch | None = None,
) -> None:
    """Run argv to completion, logging its output; raise GeneratorError on failure.

    Cancellation (batch cancel, item timeout) terminates the child's whole process group.
    Output arrives by event-loop callbacks (no reader tasks, no transports), so a batch of
    thousands of tiny commands costs little more than the commands themselves. `programs`
    resolves bare program names (shared by a run's children); with `adopting` (this process
    is a subreaper), what the child left outside its group, tagged with the item in `env`, is
    stopped when it ends. `watch`: the run's one epoll set for the child's descriptors (else
    each is the loop's own reader).
    """
    log.note(f"$ {shlex.join(argv)}")  # as a shell would need it: pasted, it runs the same

    def emit(stream: str, line: str) -> None:
        if stream == "stderr" or log_stdout:
            log.write(line, stream)
        if on_line is not None:
            on_line(stream, line)

    try:
        spawned = _spawn(argv, cwd, env, programs or Programs())
    except FileNotFoundError:
        if cwd is not None and not os.path.isdir(cwd):
            raise GeneratorError(f"working folder {cwd} does not exist (deleted?)") from None
        raise GeneratorError(f"executable not found: {argv[0]}") from None
    except PermissionError:
        raise GeneratorError(f"executable not runnable (permission denied): {argv[0]}") from None
    except OSError as exc:
        raise GeneratorError(f"could not start {argv[0]}: {exc.strerror or exc}") from None
    pid = spawned.pid
    OWN.add(pid)
    child = _Child(spawned, emit, watch)
    try:
        await child.wait(output=False)
    finally:
        if child.returncode is not None:
            # The leader exited; make sure nothing it spawned lingers in its group.
            kill_group(pid, signal.SIGKILL)
        else:  # cancelled or timed out: stop the whole group, politely first
            with anyio.CancelScope(shield=True):
                kill_group(pid, signal.SIGTERM)
                with anyio.move_on_after(grace):
                    await child.wait(output=False)
                if child.returncode is None:
                    kill_group(pid, signal.SIGKILL)
                    with anyio.move_on_after(grace):
                        await child.wait(output=False)
            log.write(f"[batchtui: stopped process group {pid}]", "batchtui")
        child.drain_now()
        if not child.finished:
            # A grandchild that left the group still holds the pipes: read what comes for a
            # moment, then let go.
            with anyio.CancelScope(shield=True), anyio.move_on_after(DRAIN_SECONDS):
                await child.wait(output=True)
        child.close()
        OWN.discard(pid)
        tag = env.get(ITEM_ENV) if env else None
        # Usually nothing was left behind: found out without a cancel scope or a wait.
        if tag and adopting and _sweep(tag, log):
            with anyio.CancelScope(shield=True):
                await _stop_strays(tag, log)
        log.flush()
    returncode = child.returncode
    if returncode != 0:
        code = returncode if returncode is not None else -9
        raise ExitError(describe_exit(code, log), code)
