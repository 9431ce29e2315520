"""`batchtui stages [ID] [--example]`: a pipeline batch's stages and where each item is in them
(made, taken from the cache, failed, running), or an example stages file to start from."""

from __future__ import annotations

import argparse

from ...core.models import Batch, ItemStatus
from ...core.models.stages import StageConfig
from ...core.stages_text import EXAMPLE
from ..context import Context
from ..options import Option, json_option
from .base import BaseCommand

_MARK = {
    ItemStatus.SUCCEEDED: "✔",
    ItemStatus.FAILED: "✖",
    ItemStatus.RUNNING: "▶",
    ItemStatus.PENDING: "·",
}


class Stages(BaseCommand):
    arguments = (
        Option("id", metavar="ID", nargs="?", help="batch id, id prefix or name"),
        json_option,
        Option("--example", action="store_true", help="print an example stages file (TOML)"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.example or args.id is None:
            if args.id is None and not args.example:
                ctx.say("batchtui stages ID shows a batch's stages; an example stages file:\n")
            ctx.say(EXAMPLE.rstrip("\n"))
            return 0
        batch = ctx.service.get(args.id)
        return ctx.emit(_document(batch), lambda: _show(batch, ctx))


def _document(batch: Batch) -> dict:
    stages = batch.config.stages or []
    return {
        "batch_id": batch.id,
        "stages": [
            stage.model_dump(mode="json", exclude_none=True, by_alias=True) for stage in stages
        ],
        "items": [
            {
                "position": item.position,
                "label": item.label,
                "status": item.status.value,
                "stage": item.stage,
                "stages": {
                    name: record.model_dump(mode="json", exclude_none=True)
                    for name, record in (item.stages or {}).items()
                },
            }
            for item in batch.items
        ],
    }


def _show(batch: Batch, ctx: Context) -> None:
    stages = batch.config.stages
    if not stages:
        ctx.say(f"'{batch.name}' has no stages: each item is one step ({batch.config.generator})")
        return
    ctx.say(f"'{batch.name}': " + " → ".join(_stage_line(stage) for stage in stages))
    width = max(len(stage.name) for stage in stages)
    for item in batch.items:
        cells = []
        for stage in stages:
            record = (item.stages or {}).get(stage.name)
            if record is None:
                cells.append(f"· {stage.name:<{width}}      ")
                continue
            if record.cached:
                how = "cached"
            elif record.seconds is not None:
                how = f"{record.seconds:5.1f}s"
            else:
                how = "      "
            cells.append(f"{_MARK.get(record.status, '?')} {stage.name:<{width}} {how:>6}")
        error = f"  {item.error}" if item.status is ItemStatus.FAILED and item.error else ""
        ctx.say(f"{item.label:>4}  " + "  ".join(cells) + error)


def _stage_line(stage: StageConfig) -> str:
    pool = f" [{stage.pool}]" if stage.pool else ""
    return f"{stage.name} ({stage.program}){pool}"
