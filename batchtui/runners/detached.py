"""Detached runners: a background process that owns a batch's run and outlives the terminal,
the TUI, a browser tab or the API server that started it.

The starter begins the run (so validation errors reach the user at once), then starts
`python -m batchtui --db DB _runner ID` in its own session with its output in a log file, and
hands the batch over to that pid. Closing the terminal sends the runner nothing: it is in
another session and process group.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..core.children import OWN
from ..core.errors import StoreError


def runs_folder(db_path: Path) -> Path:
    """Where detached runners log: `runs/` beside the database (user-private)."""
    return db_path.parent / "runs"


def runner_log(db_path: Path, batch_id: str, stamp: str) -> Path:
    """A new runner's log file, made (empty, 0600) so that a runs folder that cannot be
    written is refused in one line before anything changes."""
    folder = runs_folder(db_path)
    path = folder / f"{batch_id}-{stamp}.log"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        os.close(fd)
    except FileExistsError:
        raise StoreError(f"cannot write runner logs: {folder} is not a folder") from None
    except OSError as exc:
        raise StoreError(f"cannot write runner logs in {folder}: {exc.strerror}") from None
    return path


def spawn_runner(db_path: Path, batch_id: str, log_path: Path, cwd: str | None) -> int:
    """Start a detached runner for `batch_id` (begun, waiting to be handed over); its pid."""
    return spawn_detached(["_runner", batch_id], db_path, log_path, cwd)


def spawn_detached(verb: list[str], db_path: Path, log_path: Path, cwd: str | None) -> int:
    """Start `batchtui --db DB VERB…` in a session of its own, its output appended to
    `log_path` (made private), in `cwd` when that folder exists; its pid."""
    argv = [sys.executable, "-m", "batchtui", "--db", str(db_path), *verb]
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
    # Collected once it has ended (by a later start), so a long-lived starter (the TUI, the
    # API server) leaves no zombies behind.
    OWN.keep(child)
    return child.pid
