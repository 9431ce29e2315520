"""An item's log file on the coordinator: append-only, size-capped, shared by all attempts.

Whatever runs an attempt (a local child, later a remote worker) sends its lines here; the last
lines are kept in memory to explain a failure in one line.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from .layout import open_in_batch_folder

LOG_CAP_BYTES = 4 * 1024 * 1024
TAIL_LINES = 20
FLUSH_SECONDS = 0.2


class ItemLog:
    """An append-only, size-capped log file for one item (shared by all its attempts).

    The file is opened on the first line worth keeping: anything the child prints, a failure,
    a note from the generator. The engine's bookkeeping (attempt header, command line, success)
    waits in memory until then, so an item that succeeds without a word leaves no log file:
    10,000 quiet items do not make 10,000 files of boilerplate (nor 10,000 inodes to create).
    """

    def __init__(self, path: Path, cap: int = LOG_CAP_BYTES) -> None:
        self.path = path
        self.cap = cap
        self.written = 0
        self.truncated = False
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.stderr_tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._handle: TextIO | None = None
        self._pending: list[str] = []
        self._unwritable = False
        self._flushed = 0.0
        self.cost: float | None = None
        """What this attempt's `COST` lines add up to (None: it reported none)."""
        self.on_cost: Callable[[float], None] | None = None
        """Told each amount a `COST 0.12` line reports (the attempt's money spent)."""
        self._bad_cost_said = False

    @property
    def exists(self) -> bool:
        """Whether this attempt has written the file."""
        return self._handle is not None

    def _open(self) -> TextIO | None:
        """Open the file (creating its folder when missing), then write what was noted."""
        try:
            try:
                handle = self._open_file()
            except FileNotFoundError:  # the batch's first log
                # Not `parents=True`: if the output folder itself was deleted, the engine
                # reports that (and recreates it) rather than the log quietly doing so.
                self.path.parent.mkdir(exist_ok=True)
                handle = self._open_file()
        except OSError as exc:
            # A log that cannot be written must not fail the item: lines stay in the tail.
            self._unwritable = True
            self.tail.append(f"[batchtui: no log file: {exc.strerror or exc}]")
            return None
        self._handle = handle
        try:
            self.written = self._trim_earlier_attempts(handle)
        except OSError:
            self.written = 0
        pending, self._pending = self._pending, []
        for line in pending:
            self._append(line + "\n")
        return handle

    def _open_file(self) -> TextIO:
        # Never through a symbolic link planted in the batch folder (see layout).
        fd = open_in_batch_folder(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
        return os.fdopen(fd, "a", encoding="utf-8", errors="replace")

    def _trim_earlier_attempts(self, handle: TextIO) -> int:
        """The cap holds for the item, every attempt together: earlier attempts' lines count,
        and past half the cap they are cut to their last quarter, so this attempt has room.
        Returns the file's size."""
        size = os.fstat(handle.fileno()).st_size
        if size < self.cap // 2:
            return size
        keep = self.cap // 4
        tail = os.pread(handle.fileno(), keep, size - keep)
        tail = tail[tail.find(b"\n") + 1 :]  # from a line's start
        head = f"[batchtui: earlier attempts' log cut to its last {keep // 1024} KiB]\n"
        trimmed = self.path.with_name(self.path.name + ".trim")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(open_in_batch_folder(trimmed, flags), "wb") as out:
            out.write(head.encode() + tail)
        os.replace(trimmed, self.path)
        handle.close()
        self._handle = self._open_file()
        return len(head) + len(tail)

    def _lost(self, exc: OSError) -> None:
        """Stop writing a log the disk refuses (full, gone): the item goes on, its last lines
        stay in memory for its one-line reason."""
        self._unwritable = True
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
        self.tail.append(f"[batchtui: the log could not be written: {exc.strerror or exc}]")

    def note(self, line: str) -> None:
        """Log bookkeeping: written only once something else makes the file worth having."""
        if self._handle is None:
            self._pending.append(line.rstrip("\r\n"))
        else:
            self.write(line, "batchtui")

    def remember(self, line: str, stream: str) -> str:
        """Keep a child's line in the tails that explain a failure; the line, without its end."""
        line = line.rstrip("\r\n")
        if stream == "stderr":
            self.stderr_tail.append(line)
        if stream in ("stdout", "stderr"):
            self.tail.append(line)
        return line

    def write(self, line: str, stream: str = "") -> None:
        """Log one line (kept in the tail even once the file cap is reached); a `COST` line
        is counted too, whatever the cap (`on_cost`)."""
        line = self.remember(line, stream)
        if self.on_cost is not None and line[:12].lstrip().startswith("COST"):
            self._cost(line)
        if self.truncated or self._unwritable:
            return
        if self._handle is None and self._open() is None:
            return
        self._append(line + "\n")

    def _append(self, data: str) -> None:
        handle = self._handle
        if handle is None or self.truncated:
            return
        try:
            if self.written + len(data) > self.cap:
                self.truncated = True
                handle.write(f"[batchtui: log capped at {self.cap // 1024} KiB; rest dropped]\n")
                handle.flush()
                return
            handle.write(data)
            self.written += len(data)
            now = time.monotonic()
            if now - self._flushed >= FLUSH_SECONDS:  # readers follow the log live
                handle.flush()
                self._flushed = now
        except OSError as exc:
            self._lost(exc)

    def flush(self) -> None:
        if self._handle is not None:
            try:
                self._handle.flush()
            except OSError as exc:
                self._lost(exc)

    def close(self) -> None:
        handle = self._handle
        if handle is None:
            return
        try:
            if self.truncated and self.tail:
                handle.write("[batchtui: last lines before exit]\n")
                handle.write("\n".join(self.tail) + "\n")
        except OSError:
            pass
        with contextlib.suppress(OSError):
            handle.close()

    def last_error_line(self) -> str | None:
        """The most telling line for a failure: last stderr line, else last stdout line."""
        for source in (self.stderr_tail, self.tail):
            for line in reversed(source):
                if line.strip():
                    return line.strip()
        return None

    def _cost(self, line: str) -> None:
        assert self.on_cost is not None
        amount = parse_cost(line)
        if amount is not None:
            self.cost = round((self.cost or 0.0) + amount, 6)
            self.on_cost(amount)
        elif COST_LINE.match(line) and not self._bad_cost_said:  # COST and a word: said once
            self._bad_cost_said = True
            self.note(f"[batchtui: not counted: {line.strip()[:60]!r} (COST needs an amount ≥ 0)]")


COST_LINE = re.compile(r"^\s*COST\s+(\S+)\s*$")
"""`COST 0.12`: money an item's attempt spent, on a line of its own (stdout or stderr)."""


def parse_cost(line: str) -> float | None:
    """The amount a `COST 0.12` line reports (finite, ≥ 0), else None."""
    match = COST_LINE.match(line)
    if not match:
        return None
    try:
        amount = float(match.group(1))
    except ValueError:
        return None
    return amount if math.isfinite(amount) and amount >= 0 else None
