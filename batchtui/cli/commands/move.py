"""`batchtui move ID ITEM OFFSET`: move one item up or down."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import Option, batch_ref, json_option
from ..output import item_json
from .base import BaseCommand


class Move(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("item", metavar="ITEM"),
        Option("offset", metavar="OFFSET", type=int, help="e.g. -1 up one, 2 down two"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        item = ctx.service.move_item(args.id, args.item, args.offset)
        return ctx.emit(
            item_json(item), lambda: ctx.out.print(f"item moved to position {item.position}")
        )
