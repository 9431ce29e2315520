"""`batchtui lock ID`: validate a DRAFT and freeze its config for running."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import batch_ref, json_option
from .base import BaseCommand


class Lock(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.lock(args.id)
        return ctx.batch_result(
            batch,
            f"locked '{batch.name}' (config hash {batch.config_hash}) — next: "
            f"batchtui start {batch.id}",
        )
