"""`batchtui edit ID ITEM CONTENT`: replace one item's content."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import Option, batch_ref, json_option
from ..output import item_json
from .base import BaseCommand


class Edit(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("item", metavar="ITEM", help="item position (1-based) or id prefix"),
        Option("content", metavar="CONTENT"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        item = ctx.service.edit_item(args.id, args.item, args.content)
        return ctx.emit(item_json(item), lambda: ctx.out.print(f"item {item.position} updated"))
