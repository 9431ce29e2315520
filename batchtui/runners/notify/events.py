"""What an announced event says: its id, its JSON body (the Standard Webhooks shape:
`{"type", "timestamp", "data"}`), the words a person reads, and the hook's values.

Built from the batch as it is at the event, once: every try and every target sends the same
body under the same id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...core.models import Batch, BatchItem
from ...core.notify_rules import EVENT_TYPES
from ...core.states import ItemStatus
from ...core.symbols import seconds
from ...core.textsafe import one_line

CONTENT_CHARS = 200
"""An item's content in an event is cut to this (the body is news, not the item)."""


def run_stamp(batch: Batch) -> str:
    """Which run of the batch an event is about: its start, in milliseconds."""
    began = batch.started_at or batch.created_at
    return str(int(began.timestamp() * 1000))


def event_id(batch: Batch, event: str, item: BatchItem | None = None) -> str:
    """The event's id: the same for whoever announces it (the runner, or recovery after it
    died), so it is announced once and a receiver can drop a duplicate."""
    tail = f"_{item.id}" if item is not None else ""
    return f"evt_{batch.id}_{run_stamp(batch)}_{event}{tail}"


def batch_cost(batch: Batch) -> float | None:
    """The batch's cost so far (None: no item reported one)."""
    costs = [getattr(item, "cost", None) for item in batch.items]
    known = [cost for cost in costs if isinstance(cost, int | float)]
    return round(sum(known), 6) if known else None


def _counts(batch: Batch) -> dict[str, int]:
    counts = {status.value.lower(): 0 for status in ItemStatus}
    for item in batch.items:
        counts[item.status.value.lower()] += 1
    return counts


def _elapsed(batch: Batch, now: datetime) -> float | None:
    if batch.started_at is None:
        return None
    end = batch.finished_at or now
    return round(max(0.0, (end - batch.started_at).total_seconds()), 3)


def batch_data(batch: Batch, now: datetime) -> dict[str, Any]:
    """The batch's facts as an event tells them."""
    return {
        "id": batch.id,
        "name": batch.name,
        "status": batch.status.value,
        "items": len(batch.items),
        "counts": _counts(batch),
        "started_at": batch.started_at.isoformat() if batch.started_at else None,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "elapsed": _elapsed(batch, now),
        "cost": batch_cost(batch),
        "output_dir": batch.config.output_dir,
        "config_hash": batch.config_hash,
    }


def item_data(item: BatchItem) -> dict[str, Any]:
    """One item's facts as an event tells them."""
    return {
        "id": item.id,
        "label": item.label,
        "content": item.content[:CONTENT_CHARS],
        "status": item.status.value,
        "error": item.error,
        "output_path": item.output_path,
        "cost": getattr(item, "cost", None),
    }


def body(batch: Batch, event: str, now: datetime, item: BatchItem | None = None) -> dict[str, Any]:
    """The event's JSON body."""
    data: dict[str, Any] = {"batch": batch_data(batch, now)}
    if item is not None:
        data["item"] = item_data(item)
    return {"type": EVENT_TYPES[event], "timestamp": now.astimezone(UTC).isoformat(), "data": data}


def words(event_body: dict[str, Any]) -> tuple[str, str]:
    """The title and message a person reads for `event_body` (one line each, inert)."""
    data = event_body.get("data", {})
    batch = data.get("batch", {})
    name = one_line(str(batch.get("name", "?")), 60)
    counts = batch.get("counts", {})
    kind = event_body.get("type")
    if kind == EVENT_TYPES["ended"]:
        title = f"batchtui: {name} {batch.get('status')}"
        parts = [f"{counts.get('succeeded', 0)} of {batch.get('items', 0)} made"]
        for word in ("failed", "skipped", "cancelled", "interrupted"):
            if counts.get(word):
                parts.append(f"{counts[word]} {word}")
        message = ", ".join(parts) + f" in {seconds(batch.get('elapsed'))}"
        if batch.get("cost") is not None:
            message += f", cost {batch['cost']:.2f}"
        message += f" → {batch.get('output_dir')}"
    elif kind in (EVENT_TYPES["failed"], EVENT_TYPES["item"]):
        item = data.get("item", {})
        title = f"batchtui: {name} item {item.get('label')} {item.get('status')}"
        message = one_line(str(item.get("error") or item.get("output_path") or ""), 300)
    elif kind == EVENT_TYPES["started"]:
        title = f"batchtui: {name} started"
        message = f"{batch.get('items', 0)} items → {batch.get('output_dir')}"
    else:
        title = "batchtui: a test notification"
        message = f"sent by `batchtui notify test` at {event_body.get('timestamp')}"
    return one_line(title, 200), one_line(message, 1000)


def hook_values(event_body: dict[str, Any]) -> dict[str, str]:
    """The `on_end` placeholders' values for `event_body` (all text)."""
    batch = event_body.get("data", {}).get("batch", {})
    counts = batch.get("counts", {})
    cost = batch.get("cost")
    elapsed = batch.get("elapsed")
    return {
        "batch": str(batch.get("id", "")),
        "name": str(batch.get("name", "")),
        "status": str(batch.get("status", "")),
        "items": str(batch.get("items", 0)),
        "succeeded": str(counts.get("succeeded", 0)),
        "failed": str(counts.get("failed", 0)),
        "skipped": str(counts.get("skipped", 0)),
        "elapsed": f"{elapsed:.0f}" if isinstance(elapsed, int | float) else "",
        "cost": f"{cost:.2f}" if isinstance(cost, int | float) else "",
        "output_dir": str(batch.get("output_dir", "")),
    }
