"""`batchtui outputs ID`: the output files of the items that succeeded."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import batch_ref, json_option
from .base import BaseCommand


class Outputs(BaseCommand):
    arguments = (batch_ref, json_option)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        items = ctx.service.outputs(args.id)
        data = [
            {
                "position": it.position,
                "item_id": it.id,
                "content": it.content,
                "output_path": it.output_path,
            }
            for it in items
        ]

        def human() -> None:
            if not items:
                ctx.out.print("no outputs yet")
            for item in items:
                print(item.output_path)

        return ctx.emit(data, human)
