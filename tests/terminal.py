"""The real `batchtui` in a real pseudo-terminal, read through a terminal emulator (pyte).

Tests drive it the way a person (or a slow SSH link) does: bytes written in one `write`, so
keys arrive in one read (`G\\r`, `jj\\r`), pastes with and without bracketed paste, enter
pressed twice. What the person sees is the emulated screen, as text.

    with Terminal.batchtui(db_path) as term:
        term.wait_for("No batches")
        term.send(b"n")
        term.send(b"My batch\\r\\r")      # one write: two enters
        term.wait_for("type an item")
        assert "Traceback" not in term.text()
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import pyte

ENTER = b"\r"
ESC = b"\x1b"
CTRL_C = b"\x03"
PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"
UP, DOWN = b"\x1b[A", b"\x1b[B"


def bracketed(text: str) -> bytes:
    """`text` as a terminal with bracketed paste sends it."""
    return PASTE_START + text.encode() + PASTE_END


class Terminal:
    """A child process on a pty of `columns` x `lines`, its output fed to an emulated screen."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        columns: int = 80,
        lines: int = 24,
    ) -> None:
        self.columns, self.lines = columns, lines
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        base = {k: v for k, v in os.environ.items() if not k.startswith("BATCHTUI_")}
        base.update({"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)})
        base.pop("NO_COLOR", None)
        self.process = subprocess.Popen(
            list(argv),
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env={**base, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
        os.close(follower)
        self.leader = leader
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        """Every byte the child wrote (its exit messages are there after the screen resets)."""

    @classmethod
    def batchtui(cls, db_path: Path, *args: str, **kwargs) -> Terminal:
        """`batchtui --db DB [args]` (the TUI when `args` is empty)."""
        return cls([sys.executable, "-m", "batchtui", "--db", str(db_path), *args], **kwargs)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, data: bytes | str) -> None:
        """Write `data` in one write: everything arrives in one read on the other side."""
        if isinstance(data, str):
            data = data.encode()
        os.write(self.leader, data)

    def pump(self, seconds: float = 0.05) -> None:
        """Read what the child wrote for up to `seconds` into the screen."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.leader], [], [], max(left, 0))
            if ready:
                try:
                    data = os.read(self.leader, 65536)
                except OSError:  # the child closed its end
                    return
                if not data:
                    return
                self.raw += data
                self.stream.feed(data)
            if left <= 0:
                return

    def text(self) -> str:
        """The screen as it looks now, one line per row (trailing blanks removed)."""
        self.pump(0)
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(
        self, what: str | Callable[[str], bool], timeout: float = 30.0, settle: float = 0.0
    ) -> str:
        """Until the screen shows `what` (text, or a test of the screen); the screen then.

        `settle`: keep reading that long after it shows, so the screen has finished drawing.
        """
        test = (lambda screen: what in screen) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.05)
            screen = self.text()
            if test(screen):
                if settle:
                    self.pump(settle)
                    screen = self.text()
                return screen
            if self.process.poll() is not None:
                self.pump(0.2)
                break
        raise AssertionError(
            f"the screen never showed {what!r} (exit: {self.process.poll()}):\n{self.text()}\n"
            f"--- raw tail ---\n{self.raw[-2000:].decode('utf-8', 'replace')}"
        )

    def wait_exit(self, timeout: float = 15.0) -> int:
        """Until the child exits (reading its output meanwhile); its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.05)
            code = self.process.poll()
            if code is not None:
                self.pump(0.1)
                return code
        raise AssertionError(f"still running after {timeout} s:\n{self.text()}")

    def close(self) -> None:
        """Kill the child if it still runs, and let go of the pty."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.leader >= 0:
            os.close(self.leader)
            self.leader = -1
