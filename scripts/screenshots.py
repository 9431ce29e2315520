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
    reviewed,
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


def contact_sheet(name: str) -> Path:
    """The contact sheet of six outputs with posters of their own (drawn here)."""
    from PIL import Image, ImageDraw

    from batchtui.core.models import ItemStatus
    from batchtui.tui.screens.contact_sheet import ContactSheetScreen

    topics = ["Honey", "Octopus", "Tardigrades", "Mantis", "Eels", "Crows"]
    colours = ["#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085"]
    with tempfile.TemporaryDirectory(prefix="batchtui-shots-") as folder:
        items = []
        for n, (topic, colour) in enumerate(zip(topics, colours, strict=True), start=1):
            output = Path(folder) / f"{n:02d}-{topic.lower()}.mp4"
            output.write_bytes(b"stands for a video")
            poster = Image.new("RGB", (270, 480), colour)
            draw = ImageDraw.Draw(poster)
            draw.rectangle((30, 180 + 20 * n, 240, 240 + 20 * n), fill="white")
            draw.ellipse((110, 60, 160, 110), fill="black")
            poster.save(output.with_name(output.stem + ".poster.png"))
            items.append(item(n, f"{topic} facts", ItemStatus.SUCCEEDED, output_path=str(output)))
        series = batch(1, "Nature", BatchStatus.COMPLETE, items)
        db_path = Path(folder) / "batchtui.json"
        store(db_path, series)
        app = make_app(make_service(db_path))

        async def run_before(pilot) -> None:
            pilot.app.push_screen(ContactSheetScreen(series))
            for _ in range(500):  # until every picture is in (a thread loads them)
                await pilot.pause(0.01)
                if getattr(pilot.app.screen, "loaded", 0) == len(items):
                    break
            await pilot.pause()

        svg = take_svg_screenshot(app=app, terminal_size=SIZE, run_before=run_before)
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
        shoot(
            "progress-reviewed.svg",
            [reviewed()],
            run_before=opening(reviewed().id, progress=True),
        ),
        contact_sheet("contact-sheet.svg"),
    ]
    for path in shots:
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
