"""`batchtui notify test|pending|resend|secret`: where runs announce their news (webhooks,
people's notifications, the on_end hook), tried and looked after."""

from __future__ import annotations

import argparse
import time

from ...core.errors import ValidationError
from ..context import Context
from ..options import Option, json_option
from .base import BaseCommand

EPILOG = """examples:
  batchtui notify test                  send a test event to the host's targets (settings.toml)
  batchtui notify test "Ocean Facts"    … to that batch's targets
  batchtui notify pending               deliveries not made yet, and given-up ones
  batchtui notify resend                try the given-up ones again
  batchtui notify secret                a new webhook secret for [secrets] in settings.toml

targets: in settings.toml ([notify] webhooks, notify, on_end, events) for every batch, or per
batch: batchtui config ID --webhook URL --notify ntfy://topic --on-end 'cmd {name} {status}'
"""

ACTIONS = ("test", "pending", "resend", "secret")


class Notify(BaseCommand):
    arguments = (
        json_option,
        Option("action", choices=ACTIONS, help="what to do"),
        Option("id", nargs="?", default=None, help="a batch (test: its targets)"),
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.epilog = EPILOG
        parser.formatter_class = argparse.RawDescriptionHelpFormatter

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.id is not None and args.action != "test":
            raise ValidationError(f"notify {args.action} takes no batch (only test does)")
        if args.action == "test":
            return self._test(args, ctx)
        if args.action == "pending":
            waiting = ctx.service.deliveries()

            def human() -> None:
                if not waiting:
                    ctx.say("nothing waiting: every announcement was delivered")
                for one in waiting:
                    d = one.as_json()
                    if one.given_up:
                        state = f"given up after {d['tries']} tries"
                    else:
                        left = max(0.0, (d["next_at"] or 0) - time.time())
                        when = f"in {left:.0f} s" if left >= 1 else "now"
                        state = f"try {d['tries'] + 1} of {d['attempts']} {when}"
                    why = f" (last: {d['last_error']})" if d["last_error"] else ""
                    ctx.say(
                        f"{d['type']} of {d['batch_id']} → {d['kind']} {d['target']}: {state}{why}"
                    )

            return ctx.emit([one.as_json() for one in waiting], human)
        if args.action == "resend":
            count = ctx.service.resend_deliveries()
            return ctx.emit(
                {"resent": count},
                lambda: ctx.say(
                    f"{count} given-up deliveries tried again" if count else "none given up"
                ),
            )
        secret = ctx.service.new_webhook_secret()
        return ctx.emit(
            {"secret": secret},
            lambda: ctx.say(
                f'add to settings.toml (chmod 600 it):\n[secrets]\ndefault = "{secret}"'
            ),
        )

    def _test(self, args: argparse.Namespace, ctx: Context) -> int:
        answers, hook = ctx.service.notify_test(args.id)

        def human() -> None:
            if not answers:
                ctx.say(
                    "no webhook or notification target: set [notify] webhooks / notify in "
                    "settings.toml, or --webhook / --notify on a batch"
                )
            for answer in answers:
                mark = "answered" if answer.ok else "did not answer"
                ctx.say(f"{answer.kind} {answer.target}: {mark} ({answer.detail})")
            if hook:
                ctx.say(f"on_end hook (not run by a test): {hook}")

        code = ctx.emit({"targets": [a.as_json() for a in answers], "on_end": hook}, human)
        return code if all(a.ok for a in answers) else 1
