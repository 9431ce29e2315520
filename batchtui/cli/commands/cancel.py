"""`batchtui cancel ID`: stop a PROCESSING batch (whichever process runs it)."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import batch_ref, json_option
from .base import BaseCommand


class Cancel(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.cancel(args.id)
        return ctx.batch_result(batch, f"cancel requested for '{batch.name}'")
