"""Waiters: a background process that starts a deferred batch when its turn comes.

`batchtui start B --after A` (or `--at`, `--in`) stores the deferred start on B and starts
`python -m batchtui --db DB _waiter B` in its own session, its output in a log file (as a
detached runner). The waiter looks at the store every `POLL` seconds until A has ended (or the
time has come), then begins B itself and runs it there: it becomes B's detached runner. If it
dies, the next batchtui command on the host starts another (`Deferrals.take_up`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..core.children import OWN

POLL = 0.5
"""Seconds between two looks at the store while a waiter waits (a look is one stat, and a
parse of a batch file only when it changed)."""


def spawn_waiter(db_path: Path, batch_id: str, log_path: Path, cwd: str | None) -> int:
    """Start a waiter for `batch_id` (its deferred start stored); its pid."""
    argv = [sys.executable, "-m", "batchtui", "--db", str(db_path), "_waiter", batch_id]
    argv += ["--log", str(log_path)]  # (its run's record names it, however it was started)
    with open(log_path, "ab") as log:
        os.chmod(log_path, 0o600)
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=cwd if cwd and os.path.isdir(cwd) else None,
        )
    OWN.keep(child)  # collected once ended, so a long-lived starter leaves no zombies
    return child.pid
