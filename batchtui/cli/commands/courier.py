"""`batchtui _courier`: the process that delivers a database's outbox (the runs' webhooks,
notifications and hooks), then exits; started by a runner, by recovery, or by any command
that finds news nobody delivers (not listed in `--help`)."""

from __future__ import annotations

import argparse
import os

from ...core.errors import EXIT_OK
from ..context import Context
from .base import BaseCommand


class Courier(BaseCommand):
    arguments = ()
    recovers_orphans = False  # it is what recovery starts: it must not start another

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(json=False)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        now = ctx.service.clock().astimezone().isoformat(timespec="seconds")
        print(f"batchtui courier pid {os.getpid()}, {now}", flush=True)
        ended = ctx.service.deliver_outbox()
        print(f"courier done: {ended} deliveries ended", flush=True)
        return EXIT_OK
