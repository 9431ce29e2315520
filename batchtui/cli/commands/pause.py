"""`batchtui pause ID [--now]` and `batchtui pause --all [--now]`: hold a run (or every run on
this host): no new item starts; `--now` also freezes the running items. `resume` lets go."""

from __future__ import annotations

import argparse

from ...core.errors import ValidationError
from ...core.pausing import pause_word
from ..context import Context
from ..options import Option, json_option
from .base import BaseCommand

optional_ref = Option(
    "id", metavar="ID", nargs="?", help="batch id, id prefix or name (or --all: every batch)"
)
all_option = Option(
    "--all",
    action="store_true",
    dest="host",
    help="every batch on this host, now and started later (a flag file in the slot folder, "
    "obeyed by every runner until resume --all)",
)


def one_target(args: argparse.Namespace, verb: str) -> None:
    """Exactly one of ID and --all (else a one-line refusal, exit 2)."""
    if args.host and args.id is not None:
        raise ValidationError(f"{verb}: give a batch ID or --all, not both")
    if not args.host and args.id is None:
        raise ValidationError(f"{verb}: give a batch ID, or --all for every batch on this host")


class Pause(BaseCommand):
    arguments = (
        optional_ref,
        json_option,
        all_option,
        Option(
            "--now",
            action="store_true",
            help="also freeze the running items (SIGSTOP their process groups; they keep "
            "their slots, and time frozen does not count against their timeout)",
        ),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        one_target(args, "pause")
        if args.host:
            mode = ctx.service.pause_host(now=args.now)
            return ctx.emit(
                {"host": {"paused": mode}},
                lambda: ctx.say(
                    f"{pause_word(mode)}: every batch on this host (running ones within a "
                    "second; started ones too)\n  go on: batchtui resume --all"
                ),
            )
        batch = ctx.service.pause(args.id, now=args.now)
        how = (
            "no new item starts, running ones are frozen"
            if args.now
            else "no new item starts, running ones finish"
        )
        return ctx.batch_result(
            batch, f"paused '{batch.name}': {how}\n  go on: batchtui resume {batch.id}"
        )
