"""`batchtui export ID DIR [--all]`: hand the approved outputs (or, with --all, every output)
to DIR as hard links (copies across file systems), with their posters and a manifest.jsonl of
their manifest lines and reviews. Nothing in DIR is ever overwritten."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand


class Export(BaseCommand):
    arguments = (
        batch_ref,
        Option("folder", metavar="DIR", help="where to put them (made if missing; new files only)"),
        Option(
            "--approved",
            action="store_true",
            default=True,
            help="the approved outputs only (the default)",
        ),
        Option(
            "--all",
            action="store_false",
            dest="approved",
            help="every output, reviewed or not",
        ),
        json_option,
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        done = ctx.service.export(args.id, args.folder, approved_only=args.approved)
        data = {
            "folder": str(done.folder),
            "files": [str(path) for path in done.files],
            "linked": done.linked,
            "manifest": str(done.manifest),
        }

        def human() -> None:
            how = "hard links" if done.linked else "copies"
            ctx.say(f"{len(done.files)} outputs into {done.folder} ({how}), with manifest.jsonl")

        return ctx.emit(data, human)
