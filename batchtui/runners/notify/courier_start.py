"""Making sure a courier delivers what waits in the outbox: started by whoever queues news
(the runner, recovery) and by any command that finds news nobody is delivering (a runner
killed between queueing its end and starting the courier)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ...core.errors import StoreError
from ..detached import runs_folder, spawn_detached
from .outbox import courier_running, outbox_folder, pending

log = logging.getLogger(__name__)

COURIER_LOG = "courier.log"


def needs_courier(db_path: Path) -> bool:
    """Whether news waits in the outbox with no courier to deliver it (one listing of a
    folder that is usually empty or absent)."""
    folder = outbox_folder(db_path)
    return bool(pending(folder)) and not courier_running(folder)


def ensure_courier(db_path: Path) -> int | None:
    """Start a courier when news waits and none runs; its pid (None: none was needed, or it
    could not be started, which is logged: the next command tries again)."""
    if not needs_courier(db_path):
        return None
    folder = runs_folder(db_path)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return spawn_detached(["_courier"], db_path, folder / COURIER_LOG, None)
    except (OSError, StoreError) as exc:
        log.warning("cannot start the courier (pid %s): %s", os.getpid(), exc)
        return None
