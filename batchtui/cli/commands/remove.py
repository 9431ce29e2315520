"""`batchtui remove ID ITEM`: remove one item."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import Option, batch_ref, json_option
from ..output import item_json
from .base import BaseCommand


class Remove(BaseCommand):
    arguments = (batch_ref, json_option, Option("item", metavar="ITEM"))

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        item = ctx.service.remove_item(args.id, args.item)
        return ctx.emit(item_json(item), lambda: ctx.out.print(f"item {item.position} removed"))
