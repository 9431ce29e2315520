"""`GET /v1/batch/{id}/events`: a batch's changes as Server-Sent Events, until it ends.

The runner (another process) writes the store; the stream follows it through
`service.follow`, as the TUI and `attach` do (the same cadence, change detection and runner
liveness: a runner killed mid-run ends the stream within seconds), with an event per item or
batch change since the last snapshot. Each event's `id` carries the batch's `updated_at` at the
time, so a client that reconnects with `Last-Event-ID` is sent only the items that changed
after it (plus the batch's state): nothing missed, little repeated.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from ..core.models import Batch, BatchItem, BatchStatus
from ..service import BatchService

KEEPALIVE_SECONDS = 15.0


def _since(last_event_id: str | None) -> datetime | None:
    """The moment a `Last-Event-ID` stands for (None: a fresh client)."""
    if not last_event_id:
        return None
    try:
        micros = int(last_event_id.split(".", 1)[0])
    except ValueError:
        return None
    return datetime.fromtimestamp(micros / 1e6, UTC)


def _changed_after(item: BatchItem, moment: datetime) -> bool:
    times = [t for t in (item.started_at, item.finished_at) if t is not None]
    return item.status.value == "RUNNING" or any(t > moment for t in times)


def _state(item: BatchItem) -> tuple[Any, ...]:
    return (item.status, round(item.progress, 2), item.attempts, item.error, item.waiting)


def _item_data(item: BatchItem) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "position": item.position,
        "status": item.status.value,
        "progress": item.progress,
        "attempts": item.attempts,
        "error": item.error,
        "waiting": item.waiting,
        "output_path": item.output_path,
    }


class _Stream:
    def __init__(self) -> None:
        self.sequence = 0

    def event(self, batch: Batch, kind: str, data: dict[str, Any]) -> str:
        self.sequence += 1
        stamp = int((batch.updated_at or batch.created_at).timestamp() * 1e6)
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return f"id: {stamp}.{self.sequence}\nevent: {kind}\ndata: {body}\n\n"


async def batch_events(
    service: BatchService, batch_id: str, last_event_id: str | None
) -> AsyncIterator[str]:
    """The event stream of one batch (resolved already): `item`, `batch`, then `end`."""
    stream = _Stream()
    since = _since(last_event_id)
    seen: dict[str, tuple[Any, ...]] | None = None
    shown_status: BatchStatus | None = None
    shown_percent: float | None = None
    yield "retry: 1000\n\n"
    # A DRAFT or LOCKED batch is followed until it runs and ends.
    async with aclosing(service.follow(batch_id, keepalive=KEEPALIVE_SECONDS)) as snapshots:
        async for snapshot in snapshots:
            if snapshot.quiet:  # a comment keeps proxies from closing a quiet stream
                yield ": keep-alive\n\n"
                continue
            if snapshot.deleted:
                yield stream.event(_placeholder(batch_id), "end", {"status": "DELETED"})
                return
            batch = snapshot.batch
            first = seen is None
            current = {item.id: _state(item) for item in batch.items}
            for item in batch.items:
                if first:
                    fresh = since is None or _changed_after(item, since)
                else:
                    fresh = seen is not None and seen.get(item.id) != current[item.id]
                if fresh:
                    yield stream.event(batch, "item", _item_data(item))
            seen = current
            progress = batch.progress(service.clock())
            if batch.status is not shown_status or progress.percent != shown_percent:
                shown_status, shown_percent = batch.status, progress.percent
                yield stream.event(batch, "batch", progress.model_dump(mode="json"))
            if snapshot.ended:
                yield stream.event(batch, "end", {"status": batch.status.value})
                return


def _placeholder(batch_id: str) -> Batch:
    return Batch.model_construct(id=batch_id, created_at=datetime.now(UTC), updated_at=None)
