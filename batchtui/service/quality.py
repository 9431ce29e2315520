"""`qa ID`: a batch's outputs measured for QA now (the batch's checks, or all of them), each
one's findings, and the series' spread. Measurements are kept per version of each file in the
output folder's `.cache/qa`, so asking again measures only what changed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from ..core.errors import ValidationError
from ..core.models import VIDEO_EXTENSIONS, Batch, BatchItem
from ..core.qa import (
    PICTURE_CHECKS,
    MediaStats,
    QaFinding,
    SeriesSpread,
    check_names,
    judge,
    series_spread,
)
from ..engine.qa_probe import QaError, measure
from .context import ServiceContext

KEPT = Path(".cache") / "qa"
AT_ONCE = 4
"""Outputs measured at once (each ffmpeg decodes on a core of its own)."""


@dataclass(frozen=True)
class ItemQa:
    """One output's measurement and what its checks found (`error`: it could not be read)."""

    item: BatchItem
    stats: MediaStats | None
    findings: list[QaFinding]
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item.id,
            "label": self.item.label,
            "position": self.item.position,
            "output_path": self.item.output_path,
            "passed": self.error is None and not self.findings,
            "findings": [{"check": f.check, "reason": f.reason} for f in self.findings],
            "error": self.error,
            "stats": self.stats.to_dict() if self.stats is not None else None,
        }


@dataclass(frozen=True)
class QaReport:
    """A batch's outputs, checked, and the series' spread."""

    batch: Batch
    checks: list[str]
    items: list[ItemQa]
    spread: SeriesSpread

    @property
    def failed(self) -> list[ItemQa]:
        return [entry for entry in self.items if entry.findings or entry.error]

    def as_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch.id,
            "checks": self.checks,
            "loudness_target": self.batch.config.qa_loudness,
            "loudness_tolerance": self.batch.config.qa_tolerance,
            "passed": sum(1 for entry in self.items if not (entry.findings or entry.error)),
            "failed": len(self.failed),
            "items": [entry.as_json() for entry in self.items],
            "spread": self.spread.as_json(),
        }


class Quality:
    """QA of a batch's outputs, on demand."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def qa_report(self, ref: str, checks: list[str] | None = None) -> QaReport:
        """Measure the batch's video outputs (blocking: ffmpeg, a few at once) and judge them
        by `checks`, else its `qa` checks, else the picture checks (black, frozen, a blank
        first frame); loudness is measured for the spread either way."""
        batch = self.ctx.find(ref)
        try:
            checks = check_names(checks or batch.config.qa or PICTURE_CHECKS)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        outputs = [
            item
            for item in batch.items
            if item.output_path
            and Path(item.output_path).suffix.lower().lstrip(".") in VIDEO_EXTENSIONS
        ]
        measured: dict[str, ItemQa] = {}

        async def one(item: BatchItem, limiter: anyio.CapacityLimiter) -> None:
            async with limiter:
                measured[item.id] = await _checked(item, checks, batch)

        async def every() -> None:
            limiter = anyio.CapacityLimiter(AT_ONCE)
            async with anyio.create_task_group() as group:
                for item in outputs:
                    group.start_soon(one, item, limiter)

        anyio.run(every)
        entries = [measured[item.id] for item in outputs]
        spread = series_spread(e.stats for e in entries if e.stats is not None)
        return QaReport(batch, checks, entries, spread)


async def _checked(item: BatchItem, checks: list[str], batch: Batch) -> ItemQa:
    assert item.output_path is not None
    path = Path(item.output_path)
    try:
        measured = sorted({*checks, "loudness"})  # the spread's loudness, judged or not
        stats = _kept(path, measured)
        if stats is None:
            stats = await measure(path, measured)
            _keep(path, measured, stats)
    except QaError as exc:
        return ItemQa(item, None, [], str(exc))
    found = judge(
        stats,
        checks,
        loudness_target=batch.config.qa_loudness,
        loudness_tolerance=batch.config.qa_tolerance,
    )
    return ItemQa(item, stats, found)


def _kept_path(path: Path, checks: list[str]) -> Path | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    stamp = f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0{','.join(sorted(checks))}"
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return path.parent / KEPT / f"{path.stem}-{digest}.json"


def _kept(path: Path, checks: list[str]) -> MediaStats | None:
    kept = _kept_path(path, checks)
    if kept is None or not kept.is_file():
        return None
    try:
        return MediaStats.from_dict(json.loads(kept.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _keep(path: Path, checks: list[str], stats: MediaStats) -> None:
    kept = _kept_path(path, checks)
    if kept is None:
        return
    with contextlib.suppress(OSError):
        kept.parent.mkdir(parents=True, exist_ok=True)
        part = kept.with_name(f".{kept.name}.{os.getpid()}.part")
        part.write_text(json.dumps(stats.to_dict()), encoding="utf-8")
        os.replace(part, kept)
