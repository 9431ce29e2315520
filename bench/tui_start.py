"""TUI start: time to the first frame and peak memory, with a large database, against a
minimal Textual app started the same way (headless, in a fresh process each run). The time
runs from the first line of the process's script (imports included) to the first frame the
app writes to the terminal.

    python bench/tui_start.py [batches] [items-per-batch]     (default: 1000 10 → 10,000 items)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, Spread, child_env, machine  # noqa: F401

PROBE = """
import sys, time
start = time.perf_counter()
{setup}
app = make()
first = []
paint = type(app)._display
def _display(self, screen, renderable):  # the first frame written to the terminal
    if renderable is not None and not self._batch_count and not first:
        first.append(time.perf_counter() - start)
    return paint(self, screen, renderable)
type(app)._display = _display
app.call_later(lambda: app.call_after_refresh(app.exit))
app.run(headless=True, size=(80, 24))
print(round(first[0], 4))
# VmHWM: this process image's peak (ru_maxrss would carry over the parent's from before exec)
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024)
"""

MINIMAL = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header
class Minimal(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()
def make():
    return Minimal()
"""

# As `batchtui` (batchtui.launch) opens the UI: the service facade (its model-backed parts
# load after the first frame) and the entry point's collector tuning.
BATCHTUI = """
from batchtui.launch import ui_app
from batchtui.service import BatchService
def make():
    return ui_app(BatchService({db!r}))
"""


def build_database(path: Path, batches: int, items: int) -> None:
    sys.path.insert(0, str(ROOT))
    from batchtui.core.models import Batch, BatchConfig, BatchItem
    from batchtui.store import Repository

    repo = Repository(path)
    config = BatchConfig(output_dir="/tmp/bench-out")
    with repo.transaction() as tx:
        for b in range(batches):
            tx.save(
                Batch(
                    id=f"{b:012x}",
                    name=f"Batch {b}",
                    config=config.model_copy(update={"max_items": max(10, items)}),
                    items=[
                        BatchItem(id=f"{b:06x}{i:06x}", position=i + 1, content=f"topic {i}")
                        for i in range(items)
                    ],
                )
            )


def probe(setup: str) -> tuple[float, float]:
    """(seconds to the first frame, peak MiB) of one fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)],
        capture_output=True, text=True, check=True, cwd=ROOT, env=child_env(),
    ).stdout.split()  # fmt: skip
    return float(out[0]), float(out[1])


def measure(setups: list[str], runs: int = 15) -> list[tuple[Spread, float]]:
    """Times (median and range) and the worst peak memory of each setup over `runs`
    interleaved rounds (so a slow spell of the machine hits both apps alike), after one
    uncounted warm-up round that fills the byte-code cache."""
    samples: list[list[tuple[float, float]]] = [[] for _ in setups]
    for round_ in range(runs + 1):
        for i, setup in enumerate(setups):
            sample = probe(setup)
            if round_:
                samples[i].append(sample)
    return [(Spread(tuple(t for t, _ in s)), max(m for _, m in s)) for s in samples]


def main(batches: int = 1000, items: int = 10) -> dict:
    with tempfile.TemporaryDirectory(prefix="batchtui-bench-tui-") as folder:
        db = Path(folder) / "db.json"
        build_database(db, batches, items)
        size_mb = db.stat().st_size / 1e6
        (minimal, minimal_m), (ours, ours_m) = measure([MINIMAL, BATCHTUI.format(db=str(db))])
    rounds = ours.ratio_to(minimal)
    result = {
        "batches": batches, "items": batches * items, "db_mb": size_mb,
        "minimal_s": minimal.median, "batchtui_s": ours.median,
        "ratio": ours.median / minimal.median, "ratio_spread": rounds,
        "minimal_mib": minimal_m, "batchtui_mib": ours_m,
    }  # fmt: skip
    print(
        f"TUI first frame with {batches} batches / {batches * items} items ({size_mb:.1f} MB db): "
        f"batchtui {ours.text()} vs minimal Textual app {minimal.text()} → "
        f"{result['ratio']:.2f}x (rounds {rounds.low:.2f}–{rounds.high:.2f}x); "
        f"peak memory {ours_m:.0f} MiB (minimal {minimal_m:.0f} MiB)"
    )
    return result


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*args), default=lambda spread: spread.samples))
