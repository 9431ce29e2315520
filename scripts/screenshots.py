"""Write SVG screenshots of batchtui's main screens to screenshots/ (100x30, demo data).

    python scripts/screenshots.py

Each screenshot gets its own throw-away database filled with the deterministic builders of
tests/tui_support.py (fixed clock, fixed ids, fake output paths that are never written), so
the pictures come out the same on every machine and run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Times on screen are local times: make them UTC before anything reads the zone.
os.environ["TZ"] = "UTC"
time.tzset()

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual._doc import take_svg_screenshot  # noqa: E402

from batchtui.core.models import Batch, BatchStatus  # noqa: E402
from tests.tui_support import (  # noqa: E402
    batch,
    every_status,
    item,
    make_app,
    make_service,
    mid_run,
    opening,
    partial,
    store,
    waiting_for_slots,
)

SIZE = (100, 30)
OUT = ROOT / "screenshots"


def draft() -> Batch:
    """Space Facts as a DRAFT: the mid-run batch's six topics, not started yet."""
    return batch(
        1, "Space Facts", BatchStatus.DRAFT, [item(i.position, i.content) for i in mid_run().items]
    )


def started_here(number: int) -> Callable:
    """A `run_before` as if this app had started batch `number` (for the quit dialog)."""

    async def run_before(pilot) -> None:
        pilot.app.started_here.add(f"b{number:05d}" + "0" * 6)

    return run_before


def shoot(
    name: str,
    batches: Sequence[Batch],
    *,
    press: Sequence[str] = (),
    run_before: Callable | None = None,
) -> Path:
    with tempfile.TemporaryDirectory(prefix="batchtui-shots-") as folder:
        db_path = Path(folder) / "batchtui.json"
        store(db_path, *batches)
        app = make_app(make_service(db_path))
        svg = take_svg_screenshot(app=app, terminal_size=SIZE, press=press, run_before=run_before)
    target = OUT / name
    target.write_text(svg, encoding="utf-8")
    return target


def main() -> int:
    OUT.mkdir(exist_ok=True)
    shots = [
        shoot("batch-list.svg", every_status()),
        shoot("item-editor.svg", [draft()], run_before=opening(draft().id)),
        shoot("progress.svg", [mid_run()], run_before=opening(mid_run().id, progress=True)),
        shoot(
            "progress-partial-failed.svg",
            [partial()],
            run_before=opening(partial().id, progress=True),
            press=["f"],
        ),
        shoot(
            "item-detail.svg",
            [partial()],
            run_before=opening(partial().id, progress=True),
            press=["down", "enter"],
        ),
        shoot("help.svg", every_status(), press=["question_mark"]),
        shoot("start.svg", every_status(), press=["down"] * 4 + ["s"]),
        shoot(
            "progress-waiting-for-slot.svg",
            [waiting_for_slots()],
            run_before=opening(waiting_for_slots().id, progress=True),
        ),
        shoot("quit.svg", every_status(), run_before=started_here(4), press=["q"]),
        shoot("list-by-status.svg", every_status(), press=["o", "o", "o"]),
        shoot(
            "run-item-again.svg",
            [partial()],
            run_before=opening(partial().id, progress=True),
            press=["R"],
        ),
    ]
    for path in shots:
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
