"""`batchtui queue`: this host's box at a glance — what runs in which slot (and its GPU), who
waits for a slot and in what order, and every batch running here."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from ...core.symbols import seconds
from ..context import Context
from ..options import json_option
from ..plain_table import write_table
from .base import BaseCommand


class Queue(BaseCommand):
    arguments = (json_option,)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        queue = ctx.service.host_queue()
        return ctx.emit(queue.as_json(), lambda: _show(ctx, queue))


def _ago(when: datetime | None, now: datetime) -> str:
    return seconds((now - when).total_seconds()) if when is not None else "—"


def _show(ctx: Context, queue: Any) -> None:
    """The queue as tables (`queue` is the service's HostQueue)."""
    now = datetime.now(UTC)
    if queue.slots is None:
        limit = "no host limit (each batch runs its own concurrency)"
    else:
        limit = f"{queue.slots} slot{'s' if queue.slots != 1 else ''}, {queue.free} free"
    pools = "".join(f" · pool {name}: {size}" for name, size in sorted(queue.pools.items()))
    ctx.say(f"host {queue.host}: {limit}{pools}")
    if not queue.running:
        ctx.say("nothing runs now")
    else:
        ctx.say("\nRUNNING")
        rows = [
            [
                "—" if use.slot is None else str(use.slot),
                " ".join(f"{k}={v}" for k, v in sorted(use.env.items())) or "—",
                use.batch_name,
                use.item,
                _ago(use.since, now),
            ]
            for use in queue.running
        ]
        write_table(sys.stdout, ["SLOT", "ENV", "BATCH", "ITEM", "FOR"], rows, flexible=2)
    if queue.waiting:
        ctx.say("\nWAITING FOR A SLOT (served in this order)")
        rows = [
            [
                str(w.position),
                w.batch_name or f"{w.batch_id} (another database)",
                w.item or "—",
                str(w.priority),
                _ago(w.asked_at, now),
            ]
            for w in queue.waiting
        ]
        write_table(sys.stdout, ["#", "BATCH", "ITEM", "PRIORITY", "WAITING"], rows, flexible=1)
    if queue.batches:
        ctx.say("\nBATCHES HERE")
        rows = [
            [b.name, b.state, str(b.priority), str(b.running), str(b.to_go)] for b in queue.batches
        ]
        write_table(
            sys.stdout, ["BATCH", "STATE", "PRIORITY", "RUNNING", "TO GO"], rows, flexible=0
        )
