"""`batchtui show ID`: a batch, its config, progress and items."""

from __future__ import annotations

import argparse
import sys

from ..context import Context
from ..options import batch_ref, json_option
from ..output import batch_json, show_batch
from .base import BaseCommand


class Show(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.get(args.id)
        return ctx.emit(batch_json(batch), lambda: show_batch(batch, sys.stdout))
