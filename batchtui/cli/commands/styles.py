"""`batchtui styles`: the titlecard's style presets."""

from __future__ import annotations

import argparse
import dataclasses

from ..context import Context
from ..options import json_option
from .base import BaseCommand


class Styles(BaseCommand):
    arguments = (json_option,)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        from ...core.styles import DEFAULT_STYLE, STYLES

        data = {key: dataclasses.asdict(style) for key, style in STYLES.items()}

        def human() -> None:
            for style in STYLES.values():
                default = "  (default)" if style.key == DEFAULT_STYLE else ""
                ctx.out.print(
                    f"{style.key:<10}{style.label:<12}{style.top} → {style.bottom}, text "
                    f"{style.text}, accent {style.accent}{default}",
                    markup=False,
                )

        return ctx.emit(data, human)
