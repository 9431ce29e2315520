"""`batchtui list`: the newest batches (or every one), from the index: no batch is read in
full."""

from __future__ import annotations

import argparse
import sys

from ...core.textsafe import one_line
from ..context import Context
from ..options import Option, json_option, whole_number
from ..output import summary_json, write_batches_table
from .base import BaseCommand

LIST_PAGE = 30
"""How many batches `list` shows a person unless told otherwise (the newest)."""


class List(BaseCommand):
    arguments = (
        json_option,
        Option(
            "--limit",
            "-n",
            type=whole_number,
            default=None,
            help=f"show the newest N (default {LIST_PAGE}; with --json: all)",
        ),
        Option("--all", "-a", action="store_true", help="show every batch"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        limit = args.limit or (None if ctx.json else LIST_PAGE)
        shown, total = ctx.service.page(None if args.all else limit)

        def human() -> None:
            if not total:
                ctx.say('no batches yet — start one: batchtui create "Space Facts"')
                return
            write_batches_table(shown, sys.stdout)
            hidden = total - len(shown)
            if hidden:
                ctx.say(
                    f"… {hidden:,} older batch{'es' * (hidden != 1)} not shown (newest "
                    f"{len(shown)} of {total:,}): batchtui list --all, or --limit N"
                )

        code = ctx.emit([summary_json(s) for s in shown], human)
        for batch_id, name in ctx.service.broken():
            sys.stderr.write(
                f"batchtui: warning: batch {batch_id} {one_line(repr(name), 30)} cannot be read "
                f"and is not listed: batchtui show {batch_id} says why\n"
            )
        return code
