"""Keepers start fast: one preloaded process per worker forks them.

A keeper (`keeper.py`) started as `python -m …` spends 0.2-0.5 s importing batchtui before it
can run anything, on every attempt. So a worker starts one zygote, once: a small
single-threaded process of ours that has imported the keeper and everything it needs, and forks
a keeper on request (a few milliseconds). The task hands the zygote the two pipe ends its
keeper talks over (SCM_RIGHTS on a socket pair) and gets back the keeper's pid.

The zygote lives as long as its worker: when the worker dies its end of the socket pair
closes, and the zygote exits. The keepers it forked do not depend on it: each is in a session
of its own, and watches its own pipe from the worker.

The zygote is also the keepers' safety net. It is a child subreaper, so when a keeper is
itself killed (-9, the OOM killer) the item's processes it kept become the zygote's children
instead of init's; any child of the zygote that is not a keeper is such an orphan, and is
killed with its group within a second (its own children then come up and go the same way).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from pathlib import Path

_PID = struct.Struct("!q")


class Zygote:
    """The worker's end of its zygote."""

    def __init__(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "batchtui.engine.zygote", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
            )
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        self.sock = mine

    def fork_keeper(self, down_read: int, up_write: int) -> int:
        """A new keeper reading `down_read` and writing `up_write`; its pid."""
        socket.send_fds(self.sock, [b"k"], [down_read, up_write])
        answer = b""
        while len(answer) < _PID.size:
            got = self.sock.recv(_PID.size - len(answer))
            if not got:
                raise OSError("the keepers' zygote ended")
            answer += got
        return int(_PID.unpack(answer)[0])

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


_zygote: Zygote | None = None
_lock = threading.Lock()


def fork_keeper(down_read: int, up_write: int) -> int:
    """Start a keeper through this process's zygote (started, or started again, as needed)."""
    global _zygote
    with _lock:
        for again in (False, True):
            if _zygote is None or _zygote.proc.poll() is not None:
                if _zygote is not None:
                    _zygote.close()
                _zygote = Zygote()
            try:
                return _zygote.fork_keeper(down_read, up_write)
            except OSError:
                _zygote.close()
                _zygote = None
                if again:
                    raise
    raise AssertionError("unreachable")


def _reap(keepers: set[int]) -> None:
    """Collect every child that ended (keepers, and orphans already killed)."""
    with contextlib.suppress(ChildProcessError):
        while (pid := os.waitpid(-1, os.WNOHANG)[0]) > 0:
            keepers.discard(pid)


def _children() -> list[int]:
    try:
        text = Path(f"/proc/self/task/{os.getpid()}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def _kill_orphans(keepers: set[int]) -> None:
    """Kill (with its group) every child that is not a live keeper: the item's processes of
    a keeper that was killed itself, handed to this subreaper by the kernel."""
    for pid in _children():
        if pid in keepers:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)


def serve(fd: int) -> int:
    """The zygote's loop: fork a keeper for each request, until the worker's end closes."""
    from ..core import subreaper
    from . import keeper  # the preload: what every keeper would import

    subreaper.install()  # a killed keeper's processes come here, not to init
    keepers: set[int] = set()
    sock = socket.socket(fileno=fd)
    while True:
        ready, _, _ = select.select([sock], [], [], 1.0)
        _reap(keepers)  # keepers that ended, orphans killed last time
        _kill_orphans(keepers)
        if not ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(sock, 16, 2)
        except OSError:
            return 0
        if not message or len(fds) != 2:
            return 0  # the worker is gone (or spoke nonsense)
        pid = os.fork()
        if pid == 0:  # the keeper
            code = 1
            try:
                sock.close()
                os.setsid()  # killing the worker's process group must leave it be
                with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
                    comm.write("batchtui-keeper")  # what `ps -o comm`/`top` show for it
                for own in fds:
                    os.set_inheritable(own, False)  # never into the item's processes
                code = keeper.serve(fds[0], fds[1])
            except BaseException:
                traceback.print_exc()  # into the worker's log
            finally:
                os._exit(code)
        keepers.add(pid)
        for own in fds:
            os.close(own)
        try:
            sock.sendall(_PID.pack(pid))
        except OSError:
            return 0


if __name__ == "__main__":
    # As the package's module, not as `__main__`: one copy of every class a spec holds.
    from batchtui.engine.zygote import serve as zygote_serve

    sys.exit(zygote_serve(int(sys.argv[1])))
