"""`batchtui add ID`: items from arguments, a text file (or stdin), or a CSV / JSON Lines
table."""

from __future__ import annotations

import argparse
import sys

from ...core.errors import ValidationError
from ...core.item_lines import read_item_lines
from ...core.textsafe import one_line
from ..context import Context
from ..options import Option, batch_ref, given_vars, json_option, var_option
from ..output import item_json
from .base import BaseCommand


class Add(BaseCommand):
    arguments = (
        batch_ref,
        json_option,
        Option("contents", metavar="CONTENT", nargs="*"),
        Option("--file", "-f", help="read items from a file, one per line ('-' = stdin)"),
        Option("--csv", metavar="FILE", help="one item per row of a CSV file (header row)"),
        Option("--jsonl", metavar="FILE", help="one item per line of a JSON Lines file"),
        var_option(
            "a variable of every item added ({NAME} in a command); repeat for more "
            "(a table's columns are its rows' variables)"
        ),
        Option(
            "--key",
            help="the item's key, unique in the batch: its output and log are named by it "
            "(one CONTENT only; a table's `key` column gives each row's)",
        ),
        Option(
            "--content-column",
            metavar="NAME",
            help="the column that is each row's item (with --csv/--jsonl; default: the first)",
        ),
        Option(
            "--pattern",
            help="each row's item, its columns as placeholders: '{question}' (with "
            "--csv/--jsonl; default: the first column)",
        ),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        table = args.csv or args.jsonl
        if args.csv and args.jsonl:
            raise ValidationError("give --csv or --jsonl, not both")
        if table:
            if args.contents or args.file:
                raise ValidationError("give items as arguments, --file, or a table, not both")
            if args.variables:
                raise ValidationError("a table's columns are its variables: --var goes without it")
            kind = "jsonl" if args.jsonl else "csv"
            if args.key:
                raise ValidationError(
                    "a table's `key` column gives each row's key: --key goes without it"
                )
            notes: list[str] = []
            items = ctx.service.add_rows(
                args.id,
                table,
                args.pattern,
                kind=kind,
                content_column=args.content_column,
                notes=notes,
            )
            for note in notes:
                sys.stderr.write(f"batchtui: note: {one_line(note, 300)}\n")
        else:
            if args.pattern or args.content_column:
                raise ValidationError("--pattern and --content-column go with --csv or --jsonl")
            contents = list(args.contents)
            if contents == ["-"] and not args.file:  # `add ID -`: the lines of stdin
                contents = read_item_lines("-")
            elif args.file:
                contents += read_item_lines(args.file)
            if not contents:
                raise ValidationError("nothing to add: give CONTENT arguments, --file or --csv")
            if args.key and len(contents) != 1:
                raise ValidationError(f"--key names one item, not {len(contents)}")
            given = given_vars(args)
            items = ctx.service.add_items(
                args.id,
                contents,
                [given] * len(contents) if given else None,
                [args.key] if args.key else None,
            )
        batch = ctx.service.get(args.id)
        return ctx.emit(
            [item_json(item) for item in items],
            lambda: ctx.say(
                f"added {len(items)} item{'s' * (len(items) != 1)} to '{batch.name}' "
                f"({len(batch.items)}/{batch.config.max_items})"
            ),
        )
