"""Detached runs: a batch processed by a background runner that outlives the terminal.

The parent begins the run (so validation errors reach the user at once), starts
`python -m batchtui _runner ID` in its own session with its output in a log file, and hands the
batch over to that pid. Closing the terminal sends the runner nothing: it is in another session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core.models import Batch
from ..service.facade import BatchService


@dataclass(frozen=True)
class Detached:
    """A run handed to a background runner."""

    batch: Batch
    pid: int
    log_path: Path


def runs_folder(service: BatchService) -> Path:
    """Where detached runners log: `runs/` beside the database (user-private)."""
    folder = service.repo.path.parent / "runs"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def start_detached(service: BatchService, ref: str, *, retry: bool = False) -> Detached:
    """Begin a run of `ref` and hand it to a new background runner; returns at once."""
    stamp = service.clock().strftime("%Y%m%d-%H%M%S")
    batch = service.get(ref)
    log_path = runs_folder(service) / f"{batch.id}-{stamp}.log"
    batch = service.begin(batch.id, retry=retry, detached=True, log_path=str(log_path))
    argv = [sys.executable, "-m", "batchtui", "--db", str(service.repo.path), "_runner", batch.id]
    with open(log_path, "ab") as log:
        os.chmod(log_path, 0o600)
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=batch.config.workdir if os.path.isdir(batch.config.workdir) else None,
        )
    try:
        batch = service.hand_over(batch.id, child.pid)
    except BaseException:
        child.kill()
        raise
    return Detached(batch, child.pid, log_path)
