"""`batchtui delete ID`: remove a batch (its outputs only when asked)."""

from __future__ import annotations

import argparse

from ...core.kept_files import kept_note
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
        kept = "its outputs too" if args.outputs else kept_note(batch)
        done = f"deleted '{batch.name}' ({batch.id})"
        return ctx.batch_result(batch, f"{done}; {kept}" if kept else done)
