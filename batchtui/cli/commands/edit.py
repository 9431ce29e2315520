"""`batchtui edit ID ITEM [CONTENT] [--var NAME=VALUE] [--unset-var NAME]`: change one item's
content and variables."""

from __future__ import annotations

import argparse

from ...core.errors import ValidationError
from ..context import Context
from ..options import Option, batch_ref, json_option, var_option
from ..output import item_json
from .base import BaseCommand


class Edit(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("item", metavar="ITEM", help="item position (1-based) or id prefix"),
        Option("content", metavar="CONTENT", nargs="?", help="its new text (optional)"),
        var_option("set one of its variables; repeat for more (the others stay)"),
        Option("--unset-var", metavar="NAME", action="append", help="drop one of its variables"),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.content is None and not args.variables and not args.unset_var:
            raise ValidationError("nothing to change: give CONTENT, --var or --unset-var")
        item = ctx.service.edit_item(
            args.id, args.item, args.content, dict(args.variables or []), args.unset_var or ()
        )
        return ctx.emit(item_json(item), lambda: ctx.out.print(f"item {item.position} updated"))
