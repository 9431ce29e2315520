"""`batchtui log ID ITEM [--attempt N] [--follow] [--json]`: print an item's log; follow it
until the item ends."""

from __future__ import annotations

import argparse
import sys
from contextlib import aclosing
from typing import TYPE_CHECKING

from ...core.errors import EXIT_OK, NotFoundError, ValidationError
from ...core.states import TERMINAL_ITEM
from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand

if TYPE_CHECKING:
    from ...service.item_logs import ItemLog

item_ref = Option(
    "item",
    metavar="ITEM",
    help="the item: a position (1, 2, …), a key, a variant (3.v2) or an item id",
)
attempt_option = Option(
    "--attempt",
    type=int,
    metavar="N",
    help="only attempt N's part of the log (1 is the first attempt; default: every attempt)",
)
follow_option = Option(
    "--follow",
    "-f",
    action="store_true",
    help="keep printing what the item logs until it ends (ctrl+c stops following)",
)


def log_json(log: ItemLog) -> dict[str, object]:
    """What `--json` prints: whose log, which file, and its text."""
    return {
        "item_id": log.item.id,
        "position": log.item.position,
        "label": log.item.label,
        "status": log.item.status.value,
        "attempts": log.item.attempts,
        "attempt": log.attempt,
        "path": log.path,
        "text": log.text,
    }


class Log(BaseCommand):
    arguments = (batch_ref, item_ref, attempt_option, follow_option, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.follow and args.json:
            raise ValidationError("--follow prints lines as they come: use it without --json")
        if args.follow and args.attempt is not None:
            raise ValidationError("--follow follows the running attempt: leave out --attempt")
        log = ctx.service.item_log(args.id, args.item, args.attempt)
        if not log.text and not args.json:
            said = "has not run yet" if log.path is None else "has logged nothing"
            which = f"attempt {log.attempt} of item" if log.attempt else "item"
            print(f"{which} {log.item.label} {said}", file=sys.stderr)
        if args.follow:
            return follow(ctx, args.id, log)
        return ctx.emit(log_json(log), lambda: print(log.text, end=""))


def follow(ctx: Context, ref: str, log: ItemLog) -> int:
    """Print `log`, then what the item logs next, until it ends: one look per change of the
    batch (and per quiet poll), through the service's one follow interface."""
    import anyio  # the event loop loads for following, not for every command

    from ...service.follow import POLL_SECONDS

    item_id, path = log.item.id, log.path
    printed = _print_new(path, 0)

    async def run() -> None:
        nonlocal path, printed
        snapshots = ctx.service.follow(ref, keepalive=POLL_SECONDS)
        async with aclosing(snapshots) as each:
            async for snapshot in each:
                if snapshot.deleted:
                    raise NotFoundError("the batch was deleted while its log was followed")
                item = snapshot.batch.item(item_id)
                if item.log_path != path:  # a new file (an attempt on another host)
                    path, printed = item.log_path, 0
                ended = item.status in TERMINAL_ITEM or snapshot.ended
                printed = _print_new(path, printed, whole_lines=not ended)
                if ended:
                    return

    try:
        anyio.run(run)
    except KeyboardInterrupt:
        return EXIT_OK  # ctrl+c stops following; the run goes on
    sys.stdout.flush()
    return EXIT_OK


def _print_new(path: str | None, printed: int, *, whole_lines: bool = True) -> int:
    """Print what `path` holds past its first `printed` bytes (`whole_lines`: up to its last
    line end; the rest comes with the next look); the bytes printed now in all. A file that
    shrank (its earlier attempts cut to fit the cap) is printed from its start."""
    if not path:
        return printed
    try:
        with open(path, "rb") as file:
            size = file.seek(0, 2)
            if size < printed:
                printed = 0
            file.seek(printed)
            data = file.read()
    except FileNotFoundError:
        return printed
    if data:
        end = data.rfind(b"\n") + 1 if whole_lines else len(data)
        if end:
            sys.stdout.write(data[:end].decode("utf-8", errors="replace"))
            sys.stdout.flush()
            printed += end
    return printed
