"""`batchtui failed ID`: the items that did not succeed, and why."""

from __future__ import annotations

import argparse
import sys

from ..context import Context
from ..options import batch_ref, json_option
from ..output import item_json, write_items_table
from .base import BaseCommand


class Failed(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        items = ctx.service.failed(args.id)
        return ctx.emit(
            [item_json(item) for item in items],
            lambda: write_items_table(items, sys.stdout) if items else ctx.say("no failed items"),
        )
