"""`batchtui rename ID NAME`."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand


class Rename(BaseCommand):
    arguments = (batch_ref, json_option, Option("name", metavar="NAME"))

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.rename(args.id, args.name)
        return ctx.batch_result(batch, f"renamed to '{batch.name}'")
