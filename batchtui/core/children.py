"""The registry of child processes this process started and collects itself.

A runner adopts the orphans its items leave (see `core/subreaper.py`, `engine/strays.py`) and
collects those when they end; a process it started on purpose (an item's command, an ffmpeg
probe) is collected by the code that started it, so it is registered here for as long as it
runs and the sweep never touches it. A detached runner this process started (the TUI, the API
server, `start --detach`) is kept here too, and collected once it has ended, so a long-lived
starter leaves no zombies behind (liveness checks already read a zombie as ended).

Process-wide by nature (a pid names a child of this process): one registry, `OWN`. It
needs no installing: nothing about the process changes until a child is started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess


class Children:
    """This process's children that are not a sweep's to collect."""

    def __init__(self) -> None:
        self._pids: set[int] = set()
        self._collect_when_ended: list[subprocess.Popen[bytes]] = []

    def add(self, pid: int) -> None:
        """`pid` was started here, and whoever started it collects it."""
        self._pids.add(pid)

    def discard(self, pid: int) -> None:
        """`pid` was collected by its starter (or never started)."""
        self._pids.discard(pid)

    def __contains__(self, pid: object) -> bool:
        """Whether `pid` is a child started here (collected by its starter, or kept)."""
        return pid in self._pids

    def keep(self, child: subprocess.Popen[bytes]) -> None:
        """Keep `child` (a detached runner, which outlives its starter's interest) until it
        has ended; collect those that have ended by now."""
        self.collect_ended()
        self._collect_when_ended.append(child)
        self._pids.add(child.pid)

    def collect_ended(self) -> None:
        """Collect every kept child that has ended."""
        running = []
        for child in self._collect_when_ended:
            if child.poll() is None:
                running.append(child)
            else:
                self._pids.discard(child.pid)
        self._collect_when_ended[:] = running


OWN = Children()
"""This process's registry of the children it owns."""
