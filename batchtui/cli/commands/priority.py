"""`batchtui priority ID N`: which batch the host's slots serve first, also during a run."""

from __future__ import annotations

import argparse

from ...core.limits import PRIORITY_RULE
from ..context import Context
from ..options import Option, batch_ref, json_option, whole_number
from .base import BaseCommand


class Priority(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("value", metavar="N", type=whole_number, help=PRIORITY_RULE),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.set_priority(args.id, args.value)
        return ctx.batch_result(batch, f"'{batch.name}' now has priority {batch.priority or 0}")
