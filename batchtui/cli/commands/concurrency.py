"""`batchtui concurrency ID N`: how many items run at once, also during a run."""

from __future__ import annotations

import argparse

from ...core.limits import CONCURRENCY_RULE
from ..context import Context
from ..options import Option, batch_ref, json_option, whole_number
from .base import BaseCommand


class Concurrency(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("value", metavar="N", type=whole_number, help=CONCURRENCY_RULE),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.set_concurrency(args.id, args.value)
        return ctx.batch_result(
            batch, f"'{batch.name}' now runs {batch.config.concurrency} at once"
        )
