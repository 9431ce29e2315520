"""Responsiveness: while a 1,000-item no-op batch runs (in its own runner process, started
from the TUI as a user would), how long from a key press to its effect on screen. Headless
Textual pilot following the run from the store, real runner, real child processes.

    python bench/responsiveness.py [items]        (default 1000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from common import ROOT  # noqa: F401
from textual import events

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.app import BatchtuiApp
from batchtui.tui.flows import runs
from batchtui.tui.screens.progress import ProgressScreen


async def measure(items: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="batchtui-bench-keys-") as folder:
        service = BatchService(Repository(Path(folder) / "db.json"))
        batch = service.create(
            "burst", generator="command", command="touch {output}", output_ext="txt",
            validate_output="exists", concurrency=3, max_items=items,
            output_dir=str(Path(folder) / "out"),
        )  # fmt: skip
        service.add_items(batch.id, [f"item {i}" for i in range(items)])
        service.lock(batch.id)
        app = BatchtuiApp(service, poll_interval=0.25)
        latencies: list[float] = []
        toggles: list[float] = []
        async with app.run_test(size=(80, 24)) as pilot:
            assert runs.start_background(app, batch.id)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ProgressScreen)
            table = screen.query_one("#run-items")
            while screen.current.status is BatchStatus.PROCESSING and not any(
                item.status.value == "SUCCEEDED" for item in screen.current.items
            ):  # measure once items flow (the runner process takes a moment to start)
                await anyio.sleep(0.01)
            while len(latencies) < 40 and screen.current.status is BatchStatus.PROCESSING:
                before = table.cursor_row
                start = time.perf_counter()
                # A key event into the app's queue, as a terminal would deliver it (the pilot's
                # own press() waits for the app to go idle, which it never is mid-run).
                app.post_message(events.Key("down" if before < 5 else "up", None))
                with anyio.fail_after(10):
                    while table.cursor_row == before:
                        await anyio.sleep(0.001)
                latencies.append((time.perf_counter() - start) * 1000)
                if len(latencies) % 5 == 0:  # now and then: filter on and off, full redraws
                    for _ in range(2):
                        shown = screen.filter
                        start = time.perf_counter()
                        app.post_message(events.Key("f", "f"))
                        while screen.filter == shown:
                            await anyio.sleep(0.001)
                        toggles.append((time.perf_counter() - start) * 1000)
                await anyio.sleep(0.01)  # dense enough to sample a run of ~1.5 s well
            while screen.current.status is BatchStatus.PROCESSING:
                await pilot.pause(0.1)
        done = sum(1 for it in service.get(batch.id).items if it.status.value == "SUCCEEDED")
    return {
        "items": items,
        "succeeded": done,
        "median_ms": statistics.median(latencies),
        "p95_ms": sorted(latencies)[int(len(latencies) * 0.95) - 1],
        "max_ms": max(latencies),
        "filter_median_ms": statistics.median(toggles) if toggles else None,
        "samples": len(latencies),
        "filter_samples": len(toggles),
    }


def main(items: int = 1000) -> dict:
    result = anyio.run(measure, items)
    print(
        f"key press → screen during a {items}-item run: median {result['median_ms']:.0f} ms, "
        f"p95 {result['p95_ms']:.0f} ms, max {result['max_ms']:.0f} ms (cursor moves); "
        f"filter toggle median {result['filter_median_ms'] or 0:.0f} ms; "
        f"{result['samples']} key and {result['filter_samples']} filter samples mid-run "
        f"({result['succeeded']}/{items} succeeded)"
    )
    return result


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
