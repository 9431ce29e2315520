"""Deterministic TUI fixtures: a fixed clock, counted ids, and batches in every state."""

from __future__ import annotations

import itertools
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from batchtui.core.models import Batch, BatchConfig, BatchItem, BatchStatus, ItemStatus, RunnerInfo
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.app import BatchtuiApp

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
OUT = "/render/out"


def fixed_clock() -> datetime:
    return NOW


def counted_ids():
    counter = itertools.count(1)
    return lambda: f"{next(counter):012x}"


def make_service(db_path: Path) -> BatchService:
    return BatchService(
        Repository(db_path), clock=fixed_clock, id_factory=counted_ids(), flush_interval=0.02
    )


def make_app(service: BatchService, **kwargs) -> BatchtuiApp:
    kwargs.setdefault("blink", False)
    return BatchtuiApp(service, **kwargs)


def opening(batch_id: str, *, progress: bool = False):
    """A `run_before` that opens one batch (editor or progress) and lets it settle."""

    async def run_before(pilot) -> None:
        if progress:
            pilot.app.open_progress(batch_id)
        else:
            pilot.app.open_batch(batch_id)
        await pilot.pause()

    return run_before


def config(**fields) -> BatchConfig:
    fields.setdefault("output_dir", OUT)
    # A folder every machine has: a missing one is a lock problem the editor would show.
    fields.setdefault("workdir", "/")
    return BatchConfig(**fields)


def item(
    position: int, content: str, status: ItemStatus = ItemStatus.PENDING, **fields
) -> BatchItem:
    return BatchItem(
        id=f"item{position:08d}", position=position, content=content, status=status, **fields
    )


def ran(
    position: int,
    content: str,
    status: ItemStatus,
    *,
    seconds: float = 12.0,
    started: float = 60.0,
    error: str | None = None,
    attempts: int = 1,
    progress: float | None = None,
    slug: str | None = None,
) -> BatchItem:
    """An item that has run (or is running) with plausible times, paths and logs."""
    start = NOW - timedelta(seconds=started)
    finished = None if status is ItemStatus.RUNNING else start + timedelta(seconds=seconds)
    name = f"{position:02d}-{slug or 'item'}"
    output = f"{OUT}/space-facts-b00001/{name}.mp4" if status is ItemStatus.SUCCEEDED else None
    return item(
        position,
        content,
        status,
        attempts=attempts,
        started_at=start,
        finished_at=finished,
        error=error,
        output_path=output,
        progress=1.0 if status is ItemStatus.SUCCEEDED else (progress or 0.0),
        log_path=f"{OUT}/space-facts-b00001/logs/{name}.log",
    )


def store(db_path: Path, *batches: Batch) -> None:
    repo = Repository(db_path)
    with repo.transaction() as tx:
        for batch in batches:
            tx.save(batch)


def batch(
    number: int,
    name: str,
    status: BatchStatus,
    items: list[BatchItem],
    *,
    age: float = 3600,
    **config_fields,
) -> Batch:
    created = NOW - timedelta(seconds=age)
    made = Batch(
        id=f"b{number:05d}" + "0" * 6,
        name=name,
        status=status,
        config=config(**config_fields),
        items=items,
        created_at=created,
        updated_at=created + timedelta(seconds=age / 2),
    )
    if status is not BatchStatus.DRAFT:
        made.config_hash = made.config.fingerprint()
        made.locked_at = created
    if status not in (BatchStatus.DRAFT, BatchStatus.LOCKED):
        made.started_at = NOW - timedelta(seconds=90)
    if status in (BatchStatus.COMPLETE, BatchStatus.PARTIAL, BatchStatus.FAILED):
        made.finished_at = NOW - timedelta(seconds=10)
    if status is BatchStatus.PROCESSING:
        # Owned by a live process (the test's parent), so start-up recovery leaves it alone.
        made.runner = RunnerInfo(
            pid=os.getppid(), host=socket.gethostname(), started_at=NOW, heartbeat=NOW
        )
    return made


SPACE = ["Why is space dark?", "What are black holes?", "How stars die"]


def mid_run() -> Batch:
    """Space Facts, six items, mid-run: two done, one failed, two running, one waiting."""
    return batch(
        1,
        "Space Facts",
        BatchStatus.PROCESSING,
        [
            ran(
                1,
                "Why is space dark?",
                ItemStatus.SUCCEEDED,
                seconds=11.5,
                slug="why-is-space-dark",
            ),
            ran(
                2,
                "What are black holes?",
                ItemStatus.SUCCEEDED,
                seconds=12.1,
                slug="what-are-black-holes",
            ),
            ran(
                3,
                "How stars die",
                ItemStatus.FAILED,
                seconds=3.2,
                error="exit code 1: font not found: Impact",
            ),
            ran(4, "Is the Moon drifting away?", ItemStatus.RUNNING, started=20, progress=0.62),
            ran(5, "What is a light year?", ItemStatus.RUNNING, started=8, progress=0.25),
            item(6, "Why do planets spin?"),
        ],
    )


def partial() -> Batch:
    """Space Facts ended PARTIAL: four outputs, two failures."""
    return batch(
        1,
        "Space Facts",
        BatchStatus.PARTIAL,
        [
            ran(1, "Why is space dark?", ItemStatus.SUCCEEDED, slug="why-is-space-dark"),
            ran(
                2,
                "What are black holes?",
                ItemStatus.FAILED,
                seconds=4.0,
                error="exit code 1: font not found: Impact",
            ),
            ran(3, "How stars die", ItemStatus.SUCCEEDED, slug="how-stars-die"),
            ran(
                4,
                "Is the Moon drifting away?",
                ItemStatus.INTERRUPTED,
                error="its runner stopped (killed, crashed or rebooted)",
            ),
            ran(5, "What is a light year?", ItemStatus.SUCCEEDED, slug="what-is-a-light-year"),
            ran(6, "Why do planets spin?", ItemStatus.SUCCEEDED, slug="why-do-planets-spin"),
        ],
    )


def every_status() -> list[Batch]:
    """One batch in each status, for the list."""
    return [
        batch(
            1,
            "Space Facts",
            BatchStatus.COMPLETE,
            [ran(i + 1, t, ItemStatus.SUCCEEDED) for i, t in enumerate(SPACE)],
            age=86400 * 2,
        ),
        batch(
            2,
            "Ocean Mysteries",
            BatchStatus.PARTIAL,
            [
                ran(1, "Deep sea", ItemStatus.SUCCEEDED),
                ran(2, "Tides", ItemStatus.FAILED, error="exit code 1"),
            ],
            age=7200,
        ),
        batch(
            3,
            "History in 60s",
            BatchStatus.FAILED,
            [ran(1, "Rome", ItemStatus.FAILED, error="timed out after 600s")],
            age=5400,
        ),
        batch(
            4,
            "Cooking Hacks",
            BatchStatus.PROCESSING,
            [
                ran(1, "Eggs", ItemStatus.SUCCEEDED),
                ran(2, "Pasta", ItemStatus.RUNNING, progress=0.5),
                item(3, "Rice"),
                item(4, "Bread"),
            ],
            age=600,
            platform="tiktok",
        ),
        batch(
            5,
            "Tech Tips",
            BatchStatus.LOCKED,
            [item(1, "Shortcuts"), item(2, "Backups")],
            age=300,
            platform="youtube",
        ),
        batch(
            6,
            "[bold]Markup[/bold] stays literal",
            BatchStatus.DRAFT,
            [item(1, "x")],
            age=120,
            platform="instagram_reels",
        ),
    ]


SLOT_WAIT = "waiting for a host slot (this host runs 2 at once)"


def waiting_for_slots() -> Batch:
    """Space Facts on a host with 2 slots: two items run, a third has its batch's turn but
    waits for a slot, the rest wait their turn."""
    return batch(
        1,
        "Space Facts",
        BatchStatus.PROCESSING,
        [
            ran(1, "Why is space dark?", ItemStatus.SUCCEEDED, seconds=11.5, slug="why"),
            ran(2, "What are black holes?", ItemStatus.RUNNING, started=20, progress=0.62),
            ran(3, "How stars die", ItemStatus.RUNNING, started=8, progress=0.25),
            item(4, "Is the Moon drifting away?", waiting=SLOT_WAIT),
            item(5, "What is a light year?"),
            item(6, "Why do planets spin?"),
        ],
    )


async def type_text(pilot, text: str) -> None:
    """Type `text` key by key, as a person would."""
    for char in text:
        await pilot.press(char if char != " " else "space")


def mid_pipeline() -> Batch:
    """Ocean Facts, the narrated pipeline mid-run: one done, one in its card stage (script and
    voice from the cache), one waiting for the gpu pool's slot between stages, one failed at
    its voice."""
    from batchtui.core.models import StageRecord
    from batchtui.core.stages_text import EXAMPLE, parse_stages

    done = ran(1, "The ocean holds 97% of Earth's water.", ItemStatus.SUCCEEDED, seconds=9.4,
               slug="the-ocean-holds-97-of-earth-s-water")  # fmt: skip
    carding = ran(2, "Octopuses have three hearts.", ItemStatus.RUNNING, started=6, progress=0.6)
    waiting = ran(3, "Sound is faster in water.", ItemStatus.RUNNING, started=4, progress=0.5)
    waiting.waiting = "card: waiting for a host slot, 1st in line (pool gpu runs 1 at once)"
    failed = ran(4, "Whales sing for hours.", ItemStatus.FAILED, seconds=0.4,
                 error="voice: no eSpeak voice named 'whale' (try en-us, en-gb, fr)")  # fmt: skip
    made = StageRecord(status=ItemStatus.SUCCEEDED, attempts=1, seconds=0.1, key="3f" * 32)
    cached = StageRecord(status=ItemStatus.SUCCEEDED, cached=True, key="9a" * 32)
    done.stage = "mux"
    done.stages = {n: made for n in ("script", "voice", "card", "mux")}
    carding.stage = "card"
    carding.stages = {"script": cached, "voice": cached,
                      "card": StageRecord(status=ItemStatus.RUNNING, attempts=1)}  # fmt: skip
    waiting.stage = "card"
    waiting.stages = {"script": made, "voice": made}
    failed.stage = "voice"
    failed.stages = {"script": made, "voice": StageRecord(
        status=ItemStatus.FAILED, attempts=1, error="no eSpeak voice named 'whale'")}  # fmt: skip
    return batch(
        1, "Ocean Facts", BatchStatus.PROCESSING, [done, carding, waiting, failed],
        stages=parse_stages(EXAMPLE),
    )  # fmt: skip


def reviewed() -> Batch:
    """Space Facts COMPLETE and half looked at: one approved, one rejected with a note (a
    second take, its first kept), one to review."""
    from batchtui.core.models.review import Review, Take
    from batchtui.core.review import Verdict

    done = batch(
        1,
        "Space Facts",
        BatchStatus.COMPLETE,
        [ran(i + 1, t, ItemStatus.SUCCEEDED, slug=f"fact-{i + 1}") for i, t in enumerate(SPACE)],
    )
    first, second, _ = done.items
    first.review = Review(verdict=Verdict.APPROVED, at=NOW, output=first.output_path)
    second.review = Review(
        verdict=Verdict.REJECTED, note="too dark, [b]and[/b] the voice is off", at=NOW,
        output=second.output_path,
    )  # fmt: skip
    done.items[2].take = 2
    done.items[2].takes = [
        Take(
            take=1,
            output=f"{OUT}/space-facts-b00001/03-fact-3.v1.mp4",
            review=Review(verdict=Verdict.REJECTED, note="blurry", at=NOW),
        )
    ]
    return done
