"""`batchtui queue`: this host's box at a glance — what runs in which slot (and its GPU), who
waits for a slot and in what order, and every batch with a claim on it."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from ..context import Context
from ..options import json_option
from ..plain_table import write_table
from .base import BaseCommand


class Queue(BaseCommand):
    arguments = (json_option,)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        queue = ctx.service.host_queue()

        def show() -> None:
            ctx.say(queue.headline)
            tables = queue.tables(datetime.now(UTC))
            if not queue.running:
                ctx.say("nothing runs now")
            for table in (table for table in tables if table.rows):
                ctx.say(f"\n{table.title}")
                # The batch column gives up room first: it is the one a long name makes wide.
                flexible = table.columns.index("BATCH")
                write_table(sys.stdout, table.columns, table.rows, flexible=flexible)

        return ctx.emit(queue.as_json(), show)
