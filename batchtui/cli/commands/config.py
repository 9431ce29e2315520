"""`batchtui config ID [flags]`: change a DRAFT batch's config, or show it."""

from __future__ import annotations

import argparse
import sys

from ...core.problems import ProblemCode
from ..config_options import CONFIG_OPTIONS, config_fields
from ..context import Context
from ..options import batch_ref, json_option
from .base import BaseCommand


class Config(BaseCommand):
    arguments = (batch_ref, json_option, *CONFIG_OPTIONS)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        fields = config_fields(args)
        batch = ctx.service.update_config(args.id, **fields) if fields else ctx.service.get(args.id)
        if fields:  # a value the lock will refuse is said now, not at lock
            found = ctx.service.lock_problems(batch.id)
            problems = [p for p in found if p.code is not ProblemCode.NO_ITEMS]
            if problems:
                sys.stderr.write(f"batchtui: note: saved, but lock will refuse: {problems[0]}\n")

        def human() -> None:
            for key, value in batch.config.model_dump().items():
                ctx.say(f"{key:<16}{value}")

        return ctx.emit(batch.config.model_dump(mode="json"), human)
