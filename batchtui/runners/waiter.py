"""Waiters: a background process that starts a deferred batch when its turn comes.

`batchtui start B --after A` (or `--at`, `--in`) stores the deferred start on B and starts
`python -m batchtui --db DB _waiter B` in its own session, its output in a log file (as a
detached runner). The waiter looks at the store every `POLL` seconds until A has ended (or the
time has come), then begins B itself and runs it there: it becomes B's detached runner. If it
dies, the next batchtui command on the host starts another (`Deferrals.take_up`).
"""

from __future__ import annotations

from pathlib import Path

from .detached import spawn_detached

POLL = 0.5
"""Seconds between two looks at the store while a waiter waits (a look is one stat, and a
parse of a batch file only when it changed)."""


def spawn_waiter(db_path: Path, batch_id: str, log_path: Path, cwd: str | None) -> int:
    """Start a waiter for `batch_id` (its deferred start stored); its pid."""
    # (--log: its run's record names the log, however the waiter was started)
    return spawn_detached(["_waiter", batch_id, "--log", str(log_path)], db_path, log_path, cwd)
