"""The contact sheet of a 100-item batch against the item list (the progress screen) of the
same batch: time to the first frame, to the first picture and to every picture, and the
process's peak memory, each screen opened in a fresh process, in interleaved rounds.

    python bench/contact_sheet.py [items] [rounds]      (default 100 items, 7 rounds)

The batch's outputs have real 1080x1920 posters (as the titlecard makes them), so every
picture is decoded and scaled; each round opens the screen headless at 80x24 (Textual's
pilot) and waits for it to settle. Prints medians with their ranges and the ratios of the
medians, sheet over list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from common import ROOT, Spread, child_env, workspace

PROBE = r"""
import asyncio, json, resource, sys, time
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.app import BatchtuiApp
from batchtui.tui import graphics

db, which = sys.argv[1], sys.argv[2]
graphics.choose()  # (no terminal here: half cells, as over SSH)

painted = []

def marking(cls):
    original = cls.on_mount
    def on_mount(self):
        original(self)
        self.call_after_refresh(lambda: painted.append(time.perf_counter()))
    cls.on_mount = on_mount

from batchtui.tui.screens.contact_sheet import ContactSheetScreen
from batchtui.tui.screens.progress import ProgressScreen
marking(ContactSheetScreen)
marking(ProgressScreen)

async def main():
    service = BatchService(Repository(db))
    batch = service.get("Sheet")
    app = BatchtuiApp(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        if which == "sheet":
            app.push_screen(ContactSheetScreen(batch))
        else:
            app.open_progress(batch.id)
        while not painted:
            await asyncio.sleep(0.001)
        first_frame = painted[0] - start
        first_picture = all_pictures = first_frame
        if which == "sheet":
            screen = app.screen
            while screen.loaded < 1:
                await asyncio.sleep(0.001)
            first_picture = time.perf_counter() - start
        await pilot.pause()
        if which == "sheet":
            while screen.loaded < len(screen.items):
                await asyncio.sleep(0.005)
            await pilot.pause()
            all_pictures = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"first_frame": first_frame, "first_picture": first_picture,
                      "all": all_pictures, "peak_mb": peak / 1024}))

asyncio.run(main())
"""


def make_batch(folder: Path, items: int) -> Path:
    """A COMPLETE batch of `items` outputs, each with a real 1080x1920 poster."""
    from PIL import Image, ImageDraw

    from batchtui.core.models import Batch, BatchConfig, BatchItem, BatchStatus, ItemStatus
    from batchtui.store import Repository

    out = folder / "out"
    out.mkdir()
    rows = []
    for n in range(1, items + 1):
        stem = out / f"{n:03d}-item"
        picture = Image.new("RGB", (1080, 1920), (n * 37 % 256, n * 91 % 256, 160))
        ImageDraw.Draw(picture).rectangle((100, 800, 980, 1100), fill="white")
        picture.save(f"{stem}.poster.png")
        Path(f"{stem}.mp4").write_bytes(b"stands for a video")
        rows.append(
            BatchItem(id=f"item{n:08d}", position=n, content=f"item {n}",
                      status=ItemStatus.SUCCEEDED, output_path=f"{stem}.mp4", progress=1.0)
        )  # fmt: skip
    config = BatchConfig(output_dir=str(out), max_items=max(10, items))
    batch = Batch(id="sheet0000001", name="Sheet", status=BatchStatus.COMPLETE, config=config,
                  items=rows, config_hash=config.fingerprint())  # fmt: skip
    db = folder / "db.json"
    with Repository(db).transaction() as tx:
        tx.save(batch)
    return db


def probe(db: Path, which: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(db), which],
        capture_output=True, text=True, check=True, env=child_env({"PYTHONPATH": str(ROOT)}),
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(items: int, rounds: int) -> None:
    with workspace("sheet") as folder:
        db = make_batch(folder, items)
        probe(db, "sheet")  # warm up: byte code, page cache
        seen: dict[str, dict[str, list[float]]] = {"list": {}, "sheet": {}}
        for _ in range(rounds):  # interleaved: a slow spell of the machine hits both
            for which in ("list", "sheet"):
                for key, value in probe(db, which).items():
                    seen[which].setdefault(key, []).append(value)
        spread = {w: {k: Spread(tuple(v)) for k, v in m.items()} for w, m in seen.items()}
        lst, sheet = spread["list"], spread["sheet"]
        print(f"{items} outputs, {rounds} interleaved rounds, 80x24, half cells")
        print(f"  item list:  first frame {lst['first_frame'].text()}, "
              f"peak memory {lst['peak_mb'].text(' MB', 0)}")  # fmt: skip
        print(f"  contact sheet: first frame {sheet['first_frame'].text()}, first picture "
              f"{sheet['first_picture'].text()}, every picture {sheet['all'].text()}, peak "
              f"memory {sheet['peak_mb'].text(' MB', 0)}")  # fmt: skip
        for key, words in (("first_frame", "first frame"), ("peak_mb", "peak memory")):
            ratio = sheet[key].ratio_to(lst[key])
            median = sheet[key].median / lst[key].median
            print(f"  sheet/list {words}: {median:.2f}x (rounds {ratio.low:.2f}–{ratio.high:.2f}x)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 100, args[1] if len(args) > 1 else 7)
