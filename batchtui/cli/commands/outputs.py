"""`batchtui outputs ID`: the output files of the items that succeeded."""

from __future__ import annotations

import argparse

from ...core.review import review_state
from ...core.textsafe import one_line
from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand


class Outputs(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option(
            "--approved",
            action="store_true",
            help="only the outputs approved in review (batchtui review)",
        ),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        items = ctx.service.approved(args.id) if args.approved else ctx.service.outputs(args.id)
        data = [
            {
                "position": it.position,
                "label": it.label,
                "item_id": it.id,
                "content": it.content,
                "output_path": it.output_path,
                "review": review_state(it),
            }
            | ({"key": it.key} if it.key else {})
            | ({"item": it.number, "variant": it.variant} if it.variant else {})
            for it in items
        ]

        def human() -> None:
            if not items:
                ctx.out.print("no approved outputs yet" if args.approved else "no outputs yet")
            if not any(item.variant for item in items):
                for item in items:
                    print(item.output_path)
                return
            # With variants: each item's outputs together, under its number, to pick from.
            shown = None
            for item in items:
                if item.number != shown:
                    shown = item.number
                    name = f" ({item.key})" if item.key else ""
                    print(f"item {item.number}{name}: {one_line(item.content, 60)}")
                print(f"  v{item.variant}  {item.output_path}")

        return ctx.emit(data, human)
