"""`batchtui duplicate ID`: a new DRAFT batch with another's config and items."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand
from .create import warn_same_name


class Duplicate(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("--name", "-n", help="the new batch's name (default: '<name> (copy)')"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.duplicate(args.id, args.name)
        warn_same_name(ctx, batch)
        return ctx.batch_result(
            batch,
            f"created '{batch.name}' ({batch.id}), DRAFT, a copy of the config and "
            f"{len(batch.items)} items of {args.id} — next: batchtui lock {batch.id}",
        )
