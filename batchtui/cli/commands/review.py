"""`batchtui review ID ITEM... approve|reject [--note TEXT]`: a verdict on succeeded items'
outputs. A rejected output is made again by `retry --rejected` (kept as `NN-topic.v1.mp4`
until the new take is approved); `outputs --approved` and `export` hand the approved ones on."""

from __future__ import annotations

import argparse

from ...core.errors import ValidationError
from ...core.review import VERDICT_WORDS, Verdict, review_counts, review_state
from ...core.textsafe import one_line
from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand


class Review(BaseCommand):
    arguments = (
        batch_ref,
        Option(
            "items",
            nargs="*",  # (none: the service says an item is needed, in its words)
            metavar="ITEM",
            help="one or more items (positions, keys, ids, variants like 3.v2)",
        ),
        Option(
            "verdict",
            metavar="approve|reject",
            help="the one verdict for them all (one per command)",
        ),
        Option("--note", "-m", metavar="TEXT", help="why (one line; a rejection's reason)"),
        json_option,
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        verdicts = [word for word in args.items if word.lower() in {*VERDICT_WORDS, *Verdict}]
        if verdicts:  # `1 approve 2 reject`: a second verdict read as an item
            raise ValidationError(
                f"one verdict per command ('{one_line(verdicts[0], 20)}' is among the items): "
                "review ID 1 approve, then review ID 2 reject"
            )
        reviewed = ctx.service.review(args.id, args.items, args.verdict, args.note)
        batch = ctx.service.get(args.id)
        counts = review_counts(batch.items)
        data = {
            "batch_id": batch.id,
            "items": [
                {
                    "position": item.position,
                    "label": item.label,
                    "item_id": item.id,
                    "review": review_state(item),
                    "note": item.review.note if item.review else None,
                    "output_path": item.output_path,
                }
                for item in reviewed
            ],
            "counts": {
                "approved": counts.approved,
                "rejected": counts.rejected,
                "to_review": counts.to_review,
            },
        }

        def human() -> None:
            for item in reviewed:
                note = (
                    f" ({one_line(item.review.note, 60)})"
                    if item.review and item.review.note
                    else ""
                )
                ctx.say(f"item {item.label}: {review_state(item)}{note}")
            ctx.say(f"'{batch.name}': {counts.words()}")
            if counts.rejected:
                ctx.say(f"  make the rejected ones again: batchtui retry {batch.id} --rejected")

        return ctx.emit(data, human)
