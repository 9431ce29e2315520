"""`batchtui progress ID`: one line of counts, percent, elapsed and ETA."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import batch_ref, json_option
from ..output import progress_line
from .base import BaseCommand


class Progress(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        progress = ctx.service.progress(args.id)
        return ctx.emit(
            progress.model_dump(mode="json"),
            lambda: ctx.out.print(progress_line(progress).removeprefix("progress  ")),
        )
