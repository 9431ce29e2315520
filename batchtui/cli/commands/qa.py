"""`batchtui qa ID`: the batch's outputs measured now with ffmpeg's filters (its `qa` checks,
or every check when it chose none): each output's findings, and the series' spread (duration,
fps, codec, size, loudness). Exit 1 when an output fails a check (a script's gate)."""

from __future__ import annotations

import argparse

from ...core.errors import ValidationError
from ...core.qa import QA_CHECKS, QA_WORDS
from ...core.textsafe import one_line
from ..config_options import qa_checks
from ..context import Context
from ..options import Option, batch_ref, json_option
from .base import BaseCommand


class Qa(BaseCommand):
    arguments = (
        batch_ref,
        Option(
            "--checks",
            metavar="CHECKS",
            type=qa_checks,
            help=f"these checks instead, comma-separated: {', '.join(QA_CHECKS)} (default: the "
            "batch's qa, else black, frozen and first_frame)",
        ),
        json_option,
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.checks is not None and not args.checks:  # `--checks ''`: not the defaults
            raise ValidationError(f"--checks names at least one check: {', '.join(QA_CHECKS)}")
        report = ctx.service.qa_report(args.id, args.checks or None)

        def human() -> None:
            batch = report.batch
            if args.checks:
                chosen = "the checks asked for"
            elif batch.config.qa:
                chosen = "its qa checks"
            else:
                chosen = "the picture checks (the batch chose none; --checks names others)"
            name = one_line(batch.name, 60)
            if not report.items:
                others = sum(1 for item in batch.items if item.output_path)
                why = f" ({others} outputs, none of them a video)" if others else ""
                ctx.say(f"'{name}': no video output to measure{why}")
                return
            ctx.say(f"'{name}': {len(report.items)} video outputs, {chosen}:")
            for name in report.checks:
                ctx.say(f"  {name}: {QA_WORDS[name]}")
            for entry in report.items:
                content = one_line(entry.item.content, 40)
                if entry.error:
                    ctx.say(
                        f"✖ {entry.item.label:>4}  {content} — could not measure: {entry.error}"
                    )
                elif entry.findings:
                    reasons = "; ".join(f.reason for f in entry.findings)
                    ctx.say(f"✖ {entry.item.label:>4}  {content} — {reasons}")
                else:
                    ctx.say(f"✔ {entry.item.label:>4}  {content}")
            if report.items:
                ctx.say("series: " + " · ".join(report.spread.words()))
            passed = len(report.items) - len(report.failed)
            ctx.say(f"{passed}/{len(report.items)} passed")
            if report.failed:
                ctx.say(f"  make them again: batchtui retry {batch.id} --item N (or --retry-on qa)")

        ctx.emit(report.as_json(), human)
        return 1 if report.failed else 0
