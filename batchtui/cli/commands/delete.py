"""`batchtui delete ID`: remove a batch (its outputs only when asked)."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand


class Delete(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("--outputs", action="store_true", help="also delete its output folder"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.delete(args.id, remove_outputs=args.outputs)
        kept = "its outputs too" if args.outputs else "its output files are kept"
        return ctx.batch_result(batch, f"deleted '{batch.name}' ({batch.id}); {kept}")
