"""Resuming an event stream with `Last-Event-ID` is exact: whatever a client missed when its
connection dropped, even in the middle of a burst of changes, it is sent on reconnecting; and
any Last-Event-ID, however odd, is answered, never a traceback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from batchtui.api.events import batch_events
from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .tui_support import NOW, batch, item, store

pytestmark = pytest.mark.anyio

SIZE = 40


def _parse(chunk: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in chunk.strip().splitlines():
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields


def _running(moment_seconds: float, done: bool):
    moment = NOW + timedelta(seconds=moment_seconds)
    items = []
    for n in range(1, SIZE + 1):
        if done:
            items.append(
                item(n, f"item {n}", ItemStatus.SUCCEEDED, attempts=1, progress=1.0,
                     started_at=NOW, finished_at=moment)
            )  # fmt: skip
        else:
            items.append(item(n, f"item {n}", ItemStatus.PENDING))
    made = batch(1, "Burst", BatchStatus.PROCESSING, items)
    made.updated_at = moment
    return made


async def _events(service: BatchService, batch_id: str, last: str | None, count: int):
    """The first `count` events (item, batch or end) of a stream, parsed; up to the first
    snapshot's end (its `batch` event) at most."""
    got = []
    stream = batch_events(service, batch_id, last)
    try:
        async for chunk in stream:
            fields = _parse(chunk)
            if "event" in fields:
                got.append(fields)
                if len(got) == count or fields["event"] in ("end", "batch"):
                    break
    finally:
        await stream.aclose()
    return got


async def test_a_client_that_drops_mid_burst_gets_the_rest_on_reconnecting(
    db_path: Path,
) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    first = _running(1, done=False)
    store(db_path, first)
    service = BatchService(Repository(db_path))
    # A client sees the batch with every item pending...
    seen = await _events(service, first.id, None, SIZE + 1)
    assert [e["event"] for e in seen].count("item") == SIZE
    states = {json.loads(e["data"])["item_id"]: json.loads(e["data"])["status"]
              for e in seen if e["event"] == "item"}  # fmt: skip
    # ...then all 40 succeed in one flush, and its connection drops after 5 of those events.
    store(db_path, _running(2, done=True))
    burst = await _events(service, first.id, seen[-1]["id"], 5)
    for event in burst:
        data = json.loads(event["data"])
        states[data["item_id"]] = data["status"]
    # It reconnects with the last id it got, and must end up knowing every item's state.
    rest = await _events(service, first.id, burst[-1]["id"], 10 * SIZE)
    for event in rest:
        if event["event"] == "item":
            data = json.loads(event["data"])
            states[data["item_id"]] = data["status"]
    assert sorted(set(states.values())) == ["SUCCEEDED"], states


@pytest.mark.parametrize(
    "last", ["99999999999999999999999.1", "-99999999999999999999", "nan", "1e400", "\x00", "é"]
)
async def test_any_last_event_id_is_answered(db_path: Path, last: str) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    done = _running(2, done=True)
    done.status = BatchStatus.COMPLETE
    done.finished_at = NOW
    store(db_path, done)
    service = BatchService(Repository(db_path))
    events = await _events(service, done.id, last, 10 * SIZE)
    assert events[-1]["event"] == "batch"
    assert sum(e["event"] == "item" for e in events) == SIZE  # told everything again
