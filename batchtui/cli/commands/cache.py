"""`batchtui cache [--prune --older 30d --max-size 20G]`: the pipelines' stage caches — how
big, how many outputs, when last used — and trimming them, least recently used first."""

from __future__ import annotations

import argparse

from ...core.deferral import DELAY_RULE, parse_delay
from ...core.errors import ValidationError
from ...core.sizes import SIZE_RULE, parse_size, size_text
from ..context import Context
from ..options import Option, json_option
from .base import BaseCommand

EPILOG = """examples:
  batchtui cache                                  how big each stage cache is
  batchtui cache --prune --older 30d              outputs not used for 30 days go
  batchtui cache --prune --max-size 20G           the least recently used go, to 20 GB
"""


def _age(text: str) -> float:
    try:
        return parse_delay(text).total_seconds()
    except ValidationError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an age ({DELAY_RULE})") from None


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Cache(BaseCommand):
    arguments = (
        json_option,
        Option("--prune", action="store_true", help="remove entries (with --older/--max-size)"),
        Option("--older", metavar="AGE", type=_age, help=f"not used for AGE ({DELAY_RULE})"),
        Option("--max-size", metavar="SIZE", type=_size, help=f"keep at most SIZE ({SIZE_RULE})"),
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.epilog = EPILOG
        parser.formatter_class = argparse.RawDescriptionHelpFormatter

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.prune:
            return self._prune(args, ctx)
        if args.older is not None or args.max_size is not None:
            raise ValidationError("--older and --max-size say what --prune removes: add --prune")
        caches = ctx.service.caches()

        def human() -> None:
            if not caches:
                ctx.say("no stage cache yet (pipelines keep each stage's output in one)")
            for cache in caches:
                last = f", last used {cache.newest:%Y-%m-%d %H:%M}" if cache.newest else ""
                ctx.say(f"{cache.folder}: {cache.entries} outputs, {size_text(cache.size)}{last}")

        return ctx.emit([cache.as_json() for cache in caches], human)

    def _prune(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.older is None and args.max_size is None:
            raise ValidationError("--prune needs --older AGE, --max-size SIZE or both")
        pruned = ctx.service.prune_caches(older_than=args.older, max_size=args.max_size)

        def human() -> None:
            if not pruned:
                ctx.say("no stage cache yet: nothing to remove")
            for one in pruned:
                ctx.say(
                    f"{one.folder}: removed {one.removed} outputs, {size_text(one.freed)}; "
                    f"{one.left} left"
                )

        return ctx.emit([one.as_json() for one in pruned], human)
