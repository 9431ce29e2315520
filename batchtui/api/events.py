"""`GET /v1/batch/{id}/events`: a batch's changes as Server-Sent Events, until it ends.

The runner (another process) writes the store; the stream follows it through
`service.follow`, as the TUI and `attach` do (the same cadence, change detection and runner
liveness: a runner killed mid-run ends the stream within seconds), with an event per item or
batch change since the last snapshot. An item event names its item as every other answer
does (`item_id`, `position`, `label` such as `3.v2`, `key`, `variant`) and carries its `vars`.

Resuming is exact. An item event's `id` carries the moment its snapshot's changes are counted
from (the `updated_at` of the snapshot before it; the batch's own events, which close a
snapshot, carry the snapshot's), so a client that reconnects with
`Last-Event-ID` — even one that dropped in the middle of a burst — is sent again every item
that changed from that moment on, and every item not yet ended, then the batch's state:
nothing missed, a little repeated (clients apply events by item id, so a repeat is harmless).
An id that is not ours, or out of any range, counts as a fresh client: everything is sent.
A `removed` event (an item gone from the list) is not sent again on resuming: the store
keeps no trace of a removed item, so a client that reconnects reads the batch to drop them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from ..core.models import Batch, BatchItem, BatchStatus
from ..core.states import TERMINAL_ITEM
from ..service import BatchService

KEEPALIVE_SECONDS = 15.0


def _since(last_event_id: str | None) -> datetime | None:
    """The moment a `Last-Event-ID` stands for (None: a fresh client, or an id not ours)."""
    if not last_event_id:
        return None
    head = last_event_id.split(".", 1)[0]
    if not head.isascii() or not head.isdigit() or len(head) > 18:
        return None
    try:
        return datetime.fromtimestamp(int(head) / 1e6, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _changed_since(item: BatchItem, moment: datetime) -> bool:
    """Whether a resuming client must be told of `item` again."""
    if item.status not in TERMINAL_ITEM:
        return True  # not ended: its state may have moved without a new time on it
    times = [t for t in (item.started_at, item.finished_at) if t is not None]
    return not times or any(t >= moment for t in times)  # an end with no time: say it again


def _stamp(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1e6) if moment is not None else 0


def _state(item: BatchItem) -> tuple[Any, ...]:
    # What a client shows of an item: an edit of a draft's key or vars is an event too.
    return (
        item.status,
        round(item.progress, 2),
        item.attempts,
        item.error,
        item.waiting,
        item.label,
        item.key,
        item.vars,
        item.stage,
    )


def _identity(item: BatchItem) -> dict[str, Any]:
    """Which item (and variant) an event is about, as every answer names it."""
    return {
        "item_id": item.id,
        "position": item.position,
        "label": item.label,
        "key": item.key,
        "variant": item.variant,
    }


def _item_data(item: BatchItem) -> dict[str, Any]:
    """An item event: its state, and which item (and variant) it is, so a client needs no
    other request to name it as a person does (`3.v2`, its key) or to know its vars."""
    return {
        **_identity(item),
        "vars": item.vars,
        "status": item.status.value,
        "progress": item.progress,
        "attempts": item.attempts,
        "error": item.error,
        "waiting": item.waiting,
        "output_path": item.output_path,
        "stage": item.stage,
        "stages": {
            name: record.model_dump(mode="json", exclude_none=True)
            for name, record in (item.stages or {}).items()
        }
        or None,
    }


class _Stream:
    def __init__(self, base: datetime | None) -> None:
        self.sequence = 0
        self.base = _stamp(base)
        """The moment the current snapshot's changes are counted from (see the module)."""

    def event(self, kind: str, data: dict[str, Any]) -> str:
        self.sequence += 1
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.base}.{self.sequence}\nevent: {kind}\ndata: {body}\n\n"

    def sent(self, batch: Batch) -> None:
        """A snapshot's events are all out: the next ones count from it."""
        self.base = max(self.base, _stamp(batch.updated_at or batch.created_at))


async def batch_events(
    service: BatchService, batch_id: str, last_event_id: str | None
) -> AsyncIterator[str]:
    """The event stream of one batch (resolved already): `item`, `removed` (an item gone
    from the list: deleted from a draft, or a variant folded back by unlock), `batch`, then
    `end`."""
    since = _since(last_event_id)
    stream = _Stream(since)
    seen: dict[str, tuple[Any, ...]] | None = None
    shown_items: dict[str, BatchItem] = {}
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
                yield stream.event("end", {"status": "DELETED"})
                return
            batch = snapshot.batch
            first = seen is None
            current = {item.id: _state(item) for item in batch.items}
            for item in shown_items.values():
                if item.id not in current:  # removed, or a variant folded back by unlock
                    yield stream.event("removed", _identity(item))
            shown_items = {item.id: item for item in batch.items}
            for item in batch.items:
                if first:
                    fresh = since is None or _changed_since(item, since)
                else:
                    fresh = seen is not None and seen.get(item.id) != current[item.id]
                if fresh:
                    yield stream.event("item", _item_data(item))
            seen = current
            stream.sent(batch)  # the batch's own events close its snapshot: they count from it
            progress = batch.progress(service.clock())
            if batch.status is not shown_status or progress.percent != shown_percent:
                shown_status, shown_percent = batch.status, progress.percent
                yield stream.event("batch", progress.model_dump(mode="json"))
            if snapshot.ended:
                yield stream.event("end", {"status": batch.status.value})
                return
