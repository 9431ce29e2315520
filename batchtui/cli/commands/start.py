"""`batchtui start|retry|resume ID`: run a batch here with live progress, or hand it to a
detached runner (`--detach`). The three share their options and their handling."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import ClassVar

from ...core.actions import require
from ...core.deferral import AT_RULE, DELAY_RULE
from ...core.errors import ValidationError
from ...core.limits import PRIORITY_RULE
from ...core.settings import SLOTS_HELP
from ...core.states import BatchStatus
from ..config_options import budget_amount
from ..context import Context
from ..options import Argument, Option, batch_ref, json_option, whole_number
from ..output import batch_json
from ..running import run_here
from .base import BaseCommand

detach_option = Option(
    "--detach",
    "-d",
    action="store_true",
    help="run in the background, surviving this terminal (watch: attach)",
)
cluster_option = Option(
    "--cluster",
    metavar="ADDR",
    help="run the items on the Dask scheduler at ADDR (tcp://HOST:8786; default: "
    "$BATCHTUI_CLUSTER; 'local': on this host) — needs batchtui[cluster]",
)
items_option = Option(
    "--item",
    "-i",
    action="append",
    metavar="ITEM",
    dest="items",
    help="run exactly this item again (a position, a key, an item id, or one variant: 3.v2; "
    "an item with variants runs each of them; repeatable), even one that succeeded: a new "
    "render replaces its output",
)


priority_option = Option(
    "--priority",
    metavar="N",
    type=whole_number,
    help=f"the batch's priority on this host, {PRIORITY_RULE}; kept, and changeable while "
    "it runs (batchtui priority ID N)",
)


after_option = Option(
    "--after",
    metavar="ID",
    help="start on its own once batch ID ends (shown as QUEUED); chains are fine, a cycle "
    "is refused; cancel the queued start: batchtui cancel",
)
after_ok_option = Option(
    "--after-ok",
    action="store_true",
    help="with --after: start only if that batch ends COMPLETE (otherwise this one stays "
    "LOCKED, and `show` says why)",
)
at_option = Option(
    "--at",
    metavar="TIME",
    help=f"start on its own at TIME (shown as SCHEDULED): {AT_RULE}",
)
in_option = Option(
    "--in", metavar="DELAY", dest="delay", help=f"start on its own after DELAY: {DELAY_RULE}"
)
budget_option = Option(
    "--budget",
    metavar="AMOUNT",
    type=budget_amount,
    help="once what items spent (their COST lines) and what the running ones are expected to "
    "spend reach AMOUNT, start no more: the rest are SKIPPED; kept (a retry may raise it); "
    "'none' lifts it",
)
confirm_option = Option(
    "--confirm-forecast",
    action=argparse.BooleanOptionalAction,
    default=None,
    help="with a canary: once it succeeded, wait for a yes to the forecast of the whole run's "
    "time and cost (batchtui confirm ID); kept",
)
RUN_ARGUMENTS: tuple[Argument, ...] = (
    batch_ref,
    json_option,
    detach_option,
    cluster_option,
    priority_option,
    budget_option,
    confirm_option,
)
"""What start, retry and resume share."""


class Start(BaseCommand):
    """`start`: every item of a LOCKED batch; or, with --after / --at / --in, queue its start
    (one of the three; a background process starts it then, as --detach would)."""

    arguments: ClassVar[Sequence[Argument]] = (
        *RUN_ARGUMENTS,
        after_option,
        after_ok_option,
        at_option,
        in_option,
    )
    retry = False
    """Whether only the items that did not succeed (or the `--item`s named) run."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.epilog = SLOTS_HELP

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        settings: dict[str, object] = {}
        if getattr(args, "budget", None) is not None:
            settings["budget"] = args.budget or None  # ('': none)
        if getattr(args, "confirm_forecast", None) is not None:
            settings["confirm_forecast"] = args.confirm_forecast
        with ctx.service.run_settings(args.id, **settings):
            return self._handle(args, ctx)

    def _handle(self, args: argparse.Namespace, ctx: Context) -> int:
        cluster = args.cluster
        only = getattr(args, "items", None)
        rejected = bool(getattr(args, "rejected", False))
        deferring = any(getattr(args, name, None) for name in ("after", "at", "delay"))
        if deferring or getattr(args, "after_ok", False):
            return self.queue(args, ctx)
        if args.detach:
            started = ctx.service.start_detached(
                args.id, retry=self.retry, cluster=cluster, only=only, rejected=rejected
            )
            batch = started.batch
            if args.priority is not None:  # (once started: a refused start changes nothing)
                batch = ctx.service.set_priority(batch.id, args.priority)
            return ctx.emit(
                {**batch_json(batch), "runner_pid": started.pid, "log": str(started.log_path)},
                lambda: ctx.say(
                    f"started '{batch.name}' in the background (pid {started.pid}); it keeps "
                    f"running if you close this terminal.\n"
                    f"  watch: batchtui attach {batch.id}   (or open it in batchtui)\n"
                    f"  stop:  batchtui cancel {batch.id}\n"
                    f"  log:   {started.log_path}"
                ),
            )
        batch = ctx.service.begin(
            args.id, retry=self.retry, cluster=cluster, only=only, rejected=rejected
        )
        if args.priority is not None:  # before its first item asks for a slot
            batch = ctx.service.set_priority(batch.id, args.priority)
        return run_here(ctx, batch.id, begun=batch)

    @staticmethod
    def queue(args: argparse.Namespace, ctx: Context) -> int:
        """`start --after/--at/--in`: store the queued start and its waiting process."""
        batch = ctx.service.queue_start(
            args.id,
            after=args.after,
            after_ok=args.after_ok,
            at=args.at,
            delay=args.delay,
            cluster=args.cluster,
        )
        if args.priority is not None:  # (once queued: a refused start changes nothing)
            batch = ctx.service.set_priority(batch.id, args.priority)
        return ctx.emit(
            batch_json(batch),
            lambda: ctx.say(
                f"'{batch.name}' is {batch.shown_status}: it starts on its own in the "
                f"background.\n"
                f"  cancel: batchtui cancel {batch.id}\n"
                f"  watch:  batchtui attach {batch.id}   (once it runs)"
            ),
        )


rejected_option = Option(
    "--rejected",
    action="store_true",
    help="make the items whose output was rejected (batchtui review) again, each as a new "
    "take with a new {seed}; the rejected output is kept as NN-topic.v1.mp4 until the new one "
    "is approved",
)


class Retry(Start):
    """`retry` and `resume`: the items that did not succeed, or the `--item`s named, or the
    rejected ones (`--rejected`)."""

    arguments = (*RUN_ARGUMENTS, items_option, rejected_option)
    retry = True


class Resume(Retry):
    """`resume`: a paused run goes on (`pause`); an ended batch (PARTIAL, FAILED,
    interrupted) is retried, as `retry` does. `--all`: lift the host's pause."""

    arguments = (
        Option("id", metavar="ID", nargs="?", help="batch id, id prefix or name (or --all)"),
        *Retry.arguments[1:],
        Option(
            "--all",
            action="store_true",
            dest="host",
            help="lift the pause of every batch on this host (pause --all)",
        ),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        if args.host or args.id is None:
            if args.id is not None or not args.host:
                raise ValidationError(
                    "resume: give a batch ID, or --all for every batch on this host"
                )
            was = ctx.service.resume_host()
            return ctx.emit(
                {"host": {"paused": None}},
                lambda: ctx.say(
                    "every batch on this host goes on"
                    if was
                    else "the host was not paused (a batch paused on its own: resume ID)"
                ),
            )
        current = ctx.service.get(args.id)
        require(current, "resume")  # (refused in resume's words, not retry's)
        if current.status is BatchStatus.PROCESSING:
            if args.detach or args.cluster or args.priority is not None or args.items:
                raise ValidationError(
                    f"batch '{current.name}' is running: resume takes no run options (they "
                    "are for a retry of an ended batch)"
                )
            batch = ctx.service.resume(current.id)
            return ctx.batch_result(batch, f"'{batch.name}' goes on")
        if current.paused is not None:
            ctx.service.resume(current.id)  # an ended batch's kept pause: not for this run
        return super().handle(args, ctx)
