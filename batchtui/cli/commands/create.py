"""`batchtui create NAME`: a new DRAFT batch, from flags or from a template."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ...core.errors import ValidationError
from ...core.names import same_name_note
from ..config_options import CONFIG_OPTIONS, config_fields
from ..context import Context
from ..options import Option, json_option
from .base import BaseCommand

if TYPE_CHECKING:
    from ...core.models import Batch


class Create(BaseCommand):
    arguments = (
        json_option,
        Option("name", metavar="NAME"),
        Option(
            "--template",
            "-t",
            metavar="T",
            help="start from template T: its config and items (see: batchtui template list)",
        ),
        Option(
            "--set",
            dest="params",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a template parameter (repeatable)",
        ),
        *CONFIG_OPTIONS,
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        params = template_params(args.params)
        if args.template:
            batch = ctx.service.create_from_template(
                args.name, args.template, params, **config_fields(args)
            )
        elif params:
            raise ValidationError("--set gives template parameters: use it with --template")
        else:
            batch = ctx.service.create(args.name, **config_fields(args))
        warn_same_name(ctx, batch)
        if batch.items:
            return ctx.batch_result(
                batch,
                f"created '{batch.name}' ({batch.id}) from template {args.template}, "
                f"DRAFT, {len(batch.items)} items — next: batchtui lock {batch.id}",
            )
        return ctx.batch_result(
            batch,
            f"created '{batch.name}' ({batch.id}), DRAFT — next: batchtui add {batch.id} "
            f'"a prompt" …',
        )


def template_params(pairs: list[str]) -> dict[str, object]:
    """`--set key=value` pairs as a dict (ValidationError for one without '=')."""
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--set takes KEY=VALUE, not '{pair}'")
        params[key.strip()] = value
    return params


def warn_same_name(ctx: Context, batch: Batch) -> None:
    """A note on stderr when other batches have the new batch's name (ids tell them apart)."""
    others = [i for i in ctx.service.same_name(batch.name) if i != batch.id]
    note = same_name_note(batch.name, others)
    if note:
        sys.stderr.write(f"batchtui: note: {note}\n")
