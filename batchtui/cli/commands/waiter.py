"""`batchtui _waiter ID`: the process that starts a queued or scheduled batch when its turn
comes, then runs it as its detached runner (started by `start --after/--at/--in`, or by
recovery when the last one died; not listed in `--help`)."""

from __future__ import annotations

import argparse
import os

from ...core.errors import EXIT_OK
from ..context import Context
from ..options import Option
from ..running import run_here
from .base import BaseCommand


class Waiter(BaseCommand):
    arguments = (Option("id"), Option("--log", default=None))
    recovers_orphans = False  # it is the one taking its batch up: it must not start another

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(json=False)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        now = ctx.service.clock().astimezone().isoformat(timespec="seconds")
        print(f"batchtui waiter pid {os.getpid()} for batch {args.id}, {now}", flush=True)
        begun = ctx.service.wait_turn(args.id, log_path=args.log)
        if begun is None:
            latest = ctx.service.find_by_id(args.id)
            why = latest.start_note if latest is not None and latest.start_note else "not queued"
            print(f"not started: {why}", flush=True)
            return EXIT_OK
        print(f"its turn came: running it here (pid {os.getpid()})", flush=True)
        return run_here(ctx, begun.id, begun=begun)
