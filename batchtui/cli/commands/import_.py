"""`batchtui import MANIFEST`: a series re-made from the manifest of a batch's folder."""

from __future__ import annotations

import argparse
import sys

from ...core.textsafe import inert
from ..config_options import CONFIG_OPTIONS, config_fields
from ..context import Context
from ..options import Option, json_option
from .base import BaseCommand
from .create import warn_same_name


class Import(BaseCommand):
    arguments = (
        json_option,
        Option(
            "manifest",
            metavar="MANIFEST",
            help="a batch folder's manifest.jsonl, the folder itself, or '-' (stdin). It "
            "records what decides how outputs look (platform, size, generator, command, "
            "duration, style, variable defaults, variants) and each output's item (content, "
            "variables, key); the output folder, concurrency, retries and timeouts are not in "
            "it and take their defaults unless given here. Locking gives the manifest's hash",
        ),
        Option("--name", "-n", help="the new batch's name (default: the manifest's batch's)"),
        *CONFIG_OPTIONS,
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        batch, notes = ctx.service.import_manifest(args.manifest, args.name, **config_fields(args))
        warn_same_name(ctx, batch)
        for note in notes:
            sys.stderr.write(f"batchtui: note: {inert(note)}\n")
        return ctx.batch_result(
            batch,
            f"created '{batch.name}' ({batch.id}), DRAFT, {len(batch.items)} "
            f"item{'s' * (len(batch.items) != 1)} re-made from "
            f"{args.manifest} — next: batchtui lock {batch.id}",
        )
