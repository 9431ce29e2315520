"""`batchtui unlock ID`: a LOCKED batch back to DRAFT, for editing."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import batch_ref, json_option
from .base import BaseCommand


class Unlock(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.unlock(args.id)
        return ctx.batch_result(batch, f"'{batch.name}' is a DRAFT again")
