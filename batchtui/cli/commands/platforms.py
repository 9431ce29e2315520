"""`batchtui platforms`: the platform presets (size and longest video)."""

from __future__ import annotations

import argparse
import dataclasses

from ...core.platforms import PLATFORMS
from ..context import Context
from ..options import json_option
from .base import BaseCommand


class Platforms(BaseCommand):
    arguments = (json_option,)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        data = {key: dataclasses.asdict(p) for key, p in PLATFORMS.items()}

        def human() -> None:
            for p in PLATFORMS.values():
                ctx.out.print(
                    f"{p.key:<16}{p.width}x{p.height}  up to {p.max_duration:g}s  ({p.label})"
                )

        return ctx.emit(data, human)
