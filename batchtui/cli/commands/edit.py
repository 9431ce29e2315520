"""`batchtui edit ID ITEM [CONTENT] [--var NAME=VALUE] [--unset-var NAME] [--key KEY]`: change
one item's content, variables and key."""

from __future__ import annotations

import argparse
import sys

from ...core.errors import ValidationError
from ..context import Context
from ..options import Option, batch_ref, given_vars, json_option, var_option
from ..output import item_json
from .base import BaseCommand


class Edit(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("item", metavar="ITEM", help="item position (1-based), key or id prefix"),
        Option("content", metavar="CONTENT", nargs="?", help="its new text (optional)"),
        var_option("set one of its variables; repeat for more (the others stay)"),
        Option("--unset-var", metavar="NAME", action="append", help="drop one of its variables"),
        Option("--key", help="its key, unique in the batch ('' drops it)"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.content is None and not args.variables and not args.unset_var and args.key is None:
            raise ValidationError("nothing to change: give CONTENT, --var, --unset-var or --key")
        had = ctx.service.item(args.id, args.item).vars or {} if args.unset_var else {}
        item = ctx.service.edit_item(
            args.id,
            args.item,
            args.content,
            given_vars(args),
            args.unset_var or (),
            key=args.key,
        )
        for name in dict.fromkeys(args.unset_var or ()):
            if name not in had:  # nothing to drop: said, so a typo in the name is seen
                sys.stderr.write(f"batchtui: note: item {item.label} had no variable {name}\n")
        return ctx.emit(item_json(item), lambda: ctx.out.print(f"item {item.label} updated"))
