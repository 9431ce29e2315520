"""`batchtui cancel ID`: stop a PROCESSING batch (whichever process runs it), or take back a
LOCKED batch's queued or scheduled start."""

from __future__ import annotations

import argparse

from ...core.states import BatchStatus
from ..context import Context
from ..options import batch_ref, json_option
from .base import BaseCommand


class Cancel(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.cancel(args.id)
        if batch.status is BatchStatus.LOCKED:  # it was queued: that start is taken back
            return ctx.batch_result(
                batch, f"the queued start of '{batch.name}' is cancelled; it stays LOCKED"
            )
        return ctx.batch_result(batch, f"cancel requested for '{batch.name}'")
