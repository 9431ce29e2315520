"""A real Dask render farm for tests: `dask scheduler` and `dask worker` processes, each in a
session of its own (so a test can kill a whole worker, nanny and all, as a box going down)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DASK = str(Path(sys.executable).with_name("dask"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        assert time.monotonic() < deadline, f"nothing listens on {host}:{port}"
        time.sleep(0.1)


@dataclass
class Farm:
    """A scheduler on `port` and the workers a test adds; `stop()` ends every process."""

    logs: Path
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _spawn(self, name: str, argv: list[str], prefix: list[str] | None = None) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                [*(prefix or []), *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_scheduler(self, host: str = "127.0.0.1") -> None:
        argv = [DASK, "scheduler", "--host", host, "--port", str(self.port), "--no-dashboard"]
        self._spawn("scheduler", argv)
        wait_for_port("127.0.0.1", self.port)

    def add_worker(
        self,
        name: str,
        *,
        nthreads: int = 2,
        scheduler: str | None = None,
        prefix: list[str] | None = None,
        extra: list[str] | None = None,
    ) -> None:
        argv = [DASK, "worker", scheduler or self.address, "--name", name]
        argv += ["--nthreads", str(nthreads), "--no-dashboard", *(extra or [])]
        self._spawn(name, argv, prefix)

    def wait_for_workers(self, count: int, limit: float = 60.0) -> None:
        from distributed import Client

        with Client(self.address, timeout=limit, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=limit)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill a process's whole session (a worker: its nanny and the worker itself)."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
            self.kill(name, signal.SIGKILL)
        self.procs.clear()

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def descendants(pid: int) -> list[int]:
    """Every live process descended from `pid` (by parent links: item processes in sessions
    of their own included), as a box's power-off would take them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tagged(variable: str, value: str) -> list[int]:
    """Pids of live processes with `variable=value` in their environment (an item's tags)."""
    wanted = f"{variable}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found
