"""The CLI's run display: the bar fills with successful work (a PARTIAL run never reads 100%),
and each line names its item by position ('#2 of 5'), not as a count."""

from __future__ import annotations

import io

from batchtui.cli.output import RunDisplay
from batchtui.core.events import ItemFinished, ItemStarted
from batchtui.core.models import Batch, BatchConfig, BatchItem, ItemStatus, utcnow


def make_batch(count: int) -> Batch:
    items = [BatchItem(id=f"i{n}", position=n, content=f"topic {n}") for n in range(1, count + 1)]
    return Batch(id="b1", name="Display", config=BatchConfig(), items=items)


def run(display: RunDisplay, batch: Batch, outcomes: list[ItemStatus]) -> None:
    for item, status in zip(batch.items, outcomes, strict=True):
        item.status = ItemStatus.RUNNING
        display.on_event(ItemStarted(batch.id, item.id, 1, utcnow(), "", ""), batch)
        item.status = status
        display.on_event(ItemFinished(batch.id, item.id, status, utcnow(), error="x"), batch)


def test_a_partial_run_never_shows_a_full_bar() -> None:
    batch = make_batch(3)
    display = RunDisplay(batch, io.StringIO(), live=True)
    with display:
        run(display, batch, [ItemStatus.FAILED, ItemStatus.SUCCEEDED, ItemStatus.SUCCEEDED])
    assert display._progress is not None and display._overall is not None
    overall = display._progress.tasks[display._overall]
    assert overall.percentage < 100
    assert round(overall.percentage) == 67
    assert "3/3 finished" in str(overall.description)


def test_lines_name_the_item_by_position() -> None:
    batch = make_batch(5)
    out = io.StringIO()
    display = RunDisplay(batch, out, live=False)
    run(display, batch, [ItemStatus.SUCCEEDED] * 5)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("#1 of 5 ▶ RUNNING")
    assert lines[-1].startswith("#5 of 5 ✔ SUCCEEDED")
