"""`batchtui tui` (or `batchtui` alone): the terminal UI."""

from __future__ import annotations

import argparse

from ...core.errors import ValidationError
from ..context import Context
from .base import BaseCommand


class Tui(BaseCommand):
    recovers_orphans = False  # the UI shows its first frame first, then recovers

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if ctx.open_ui is None:
            raise ValidationError("the terminal UI opens with: batchtui (or batchtui tui)")
        return ctx.open_ui(ctx.service)
