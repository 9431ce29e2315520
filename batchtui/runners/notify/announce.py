"""Announcing an event: its deliveries written to the outbox, and a courier made sure of.

Called by the runner (the run started, an item failed for good, the run ended) and by
recovery (it ended a run whose runner died). Never raises: a run never fails because news of
it could not be queued; what went wrong is logged.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from ...core.errors import BatchtuiError
from ...core.models import Batch, BatchItem
from ...core.notify_settings import NotifySettings, load_notify_settings
from . import events
from .courier_start import ensure_courier
from .outbox import Delivery, outbox_folder, put
from .targets import targets_for

log = logging.getLogger(__name__)


def announce(
    db_path: Path,
    batch: Batch,
    event: str,
    now: datetime,
    *,
    item: BatchItem | None = None,
    host: NotifySettings | None = None,
    replace: bool = False,
    start_courier: bool = True,
    log_path: str | None = None,
) -> int:
    """Queue `event` of `batch` for each of its targets; how many deliveries were queued.
    `replace`: what recovery knows supersedes a body queued before (same id). `log_path`:
    the run's log (default: its runner's, while it has one)."""
    try:
        host = host or load_notify_settings()
    except BatchtuiError as exc:
        log.warning("cannot announce %s of batch %s: %s", event, batch.id, exc)
        return 0
    targets = targets_for(batch.config, host, event)
    if not targets:
        return 0
    event_body = events.body(batch, event, now, item)
    event_id = events.event_id(batch, event, item)
    runner_log = log_path or (batch.runner.log_path if batch.runner else None)
    folder = outbox_folder(db_path)
    queued = 0
    for target in targets:
        delivery = Delivery(
            id=event_id,
            event=event,
            batch_id=batch.id,
            kind=target.kind,
            target=target.target,
            body=event_body,
            created=time.time(),
            secret=target.secret,
            timeout=target.timeout,
            cwd=batch.config.workdir,
            log_path=runner_log,
            attempts=1 if target.kind == "hook" else host.attempts,
            backoff=host.backoff,
        )
        try:
            queued += put(folder, delivery, replace=replace)
        except OSError as exc:
            log.warning("cannot queue %s of batch %s in %s: %s", event, batch.id, folder, exc)
    if queued and start_courier:
        ensure_courier(db_path)
    return queued
