"""`batchtui generators`: the generators there are, and the command generator's
placeholders."""

from __future__ import annotations

import argparse

from ..context import Context
from ..options import json_option
from .base import BaseCommand


class Generators(BaseCommand):
    arguments = (json_option,)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        # Loaded here only: the generators load pydantic, and listing plugins reads every
        # installed package's metadata.
        from ...generators import available
        from ...generators.command import PLACEHOLDERS

        data = {"generators": available(), "placeholders": PLACEHOLDERS}

        def human() -> None:
            ctx.out.print("generators: " + ", ".join(available()))
            ctx.out.print("command placeholders:")
            for name, text in PLACEHOLDERS.items():
                ctx.out.print(f"  {{{name}}}  {text}", markup=False)

        return ctx.emit(data, human)
