"""`batchtui confirm ID`: yes to the forecast a run waits on (`--confirm-forecast`: after its
canary succeeded, the whole run's time and cost); the other items start. `cancel` is the no."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import batch_ref, json_option
from ..output import batch_json
from .base import BaseCommand


class Confirm(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch = ctx.service.confirm(args.id)
        return ctx.emit(
            batch_json(batch),
            lambda: ctx.say(f"yes to the forecast of '{batch.name}': its other items start"),
        )
