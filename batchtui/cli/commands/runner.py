"""`batchtui _runner ID`: the detached runner itself (started by `start --detach`; not listed
in `--help`)."""

from __future__ import annotations

import argparse
import os

from ...core.limits import HANDOVER_WAIT
from ..context import Context
from ..options import Option
from ..running import run_here
from .base import BaseCommand


class Runner(BaseCommand):
    arguments = (Option("id"),)
    recovers_orphans = False  # it is handed a batch recorded as its own

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(json=False)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        now = ctx.service.clock().astimezone().isoformat(timespec="seconds")
        print(f"batchtui runner pid {os.getpid()} for batch {args.id}, {now}", flush=True)
        return run_here(ctx, args.id, handover_wait=HANDOVER_WAIT)
