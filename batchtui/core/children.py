"""The child processes this process started itself and collects itself.

A runner adopts the orphans its items leave (see `engine/strays.py`) and collects those when
they end; a process it started on purpose (an item's command, an ffmpeg probe) is collected
by the code that started it, so it is registered here for as long as it runs and the sweep
never touches it.
"""

from __future__ import annotations

OWN: set[int] = set()
"""Pids of children started here and not collected yet."""
