"""The config flags `create` and `config` both take (two option groups), and the config fields
a command line gives."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..core.config_text import retry_words, value_of
from ..core.errors import ValidationError
from ..core.failures import describe_retry_words
from ..core.item_lines import read_text
from ..core.limits import CONCURRENCY_RULE
from ..core.notify_rules import EVENTS, event_words
from ..core.platforms import PLATFORMS
from ..core.qa import QA_CHECKS, check_names
from ..core.rates import RATE_RULE, normal_rate
from ..core.stages_text import parse_stages
from .options import ArgumentGroup, Option, assignment, count, number, whole_number


def retry_kinds(text: str) -> list[str]:
    """`--retry-on`: failure kinds, comma-separated ('any': every kind, the empty list)."""
    return retry_words(text)  # the form's rule too


def budget_amount(text: str) -> float | str:
    """`--budget 5.00` (a positive finite amount; 'none' resets, said as '')."""
    if text.strip().lower() in ("none", ""):
        return ""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an amount (like 5.00)") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"a budget is an amount above 0, not '{text}'")
    return value


def rate_text(text: str) -> str:
    """`--rate 30/min` ('' clears it)."""
    if not text.strip():
        return ""
    try:
        return normal_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def stages_file(path: str) -> list[dict[str, Any]] | str:
    """`--stages FILE` (or `none`: the stages cleared, said as '')."""
    if path.strip().lower() in ("", "none"):
        return ""
    try:
        stages = parse_stages(read_text(path), path)
    except (ValidationError, ValueError) as exc:  # unreadable, or not stages
        raise argparse.ArgumentTypeError(str(exc)) from None
    return stages if stages is not None else ""


config_group = ArgumentGroup(
    "config",
    [
        Option("--platform", choices=sorted(PLATFORMS), help="preset: size and max length"),
        # Named, not imported: the generators load pydantic (~60 ms), and listing plugins
        # reads every installed package's metadata; `batchtui generators` lists them all.
        Option(
            "--generator",
            help="how items are made: titlecard (default), command, or a plugin "
            "(see: batchtui generators)",
        ),
        Option(
            "--command",
            help="argv template for the command generator, e.g. "
            "'python render.py --text {content} --out {output}' (never run through a shell)",
        ),
        Option("--duration", type=number, help="seconds per video (default 5)"),
        Option("--fps", type=whole_number, help="frames per second (default 30)"),
        Option(
            "--concurrency",
            type=whole_number,
            help=f"items at once, {CONCURRENCY_RULE} (default 3)",
        ),
        Option("--max-items", type=whole_number, help="item limit (default 10)"),
        Option(
            "--variants",
            metavar="N",
            type=whole_number,
            help="render each item N times to pick the best: outputs NN-topic.v2.mp4, "
            "{variant} is 1..N, {seed} differs per variant (default 1)",
        ),
        Option("--timeout", type=number, help="seconds per item before it fails"),
        Option("--output", dest="output_dir", help="output folder"),
        Option("--workdir", help="folder the command runs in (default: here)"),
        Option(
            "--ext",
            dest="output_ext",
            help="output file extension (default mp4; txt for the command generator)",
        ),
        Option(
            "--style",
            help="the titlecard's look: night (default), sunrise, paper, ocean or mono "
            "(see: batchtui styles)",
        ),
        Option(
            "--background",
            help="a solid card background instead of the style's gradient (name or #rrggbb; "
            "'' clears it)",
        ),
        Option("--text-color", help="card text colour (default: the style's; '' clears)"),
        Option(
            "--var-default",
            dest="var_defaults",
            metavar="NAME=VALUE",
            type=assignment,
            action="append",
            help="the value of item variable NAME ({NAME} in a command) for the items that "
            "set none; repeat for more (replaces the defaults the batch had)",
        ),
        Option(
            "--stages",
            metavar="FILE",
            type=stages_file,
            help="make items in stages: a TOML file of [[stages]] tables (name, command or "
            "generator, ext, pool, retries, timeout, rate, concurrency, inputs) or JSON; "
            "'none' clears them (see: batchtui stages --example)",
        ),
        Option(
            "--validate",
            dest="validate_output",
            choices=["auto", "video", "nonempty", "exists"],
            help="how outputs are checked (auto: probe video files, else non-empty)",
        ),
    ],
)
"""What a batch makes, and how: the fields of its config."""

retries_group = ArgumentGroup(
    "retries and stopping early",
    [
        Option("--retries", type=count, help="retry a failed item up to N times (default 0)"),
        Option(
            "--backoff",
            type=number,
            help="seconds before the first retry, doubled each time (5)",
        ),
        Option("--backoff-max", type=number, help="longest wait between retries (300)"),
        Option(
            "--retry-on",
            type=retry_kinds,
            help=f"retry only these failures, comma-separated: {describe_retry_words()} "
            "(default: any; 'any' resets)",
        ),
        Option(
            "--max-failures",
            metavar="N|N%",
            help="once N items (or N%% of the run) failed for good, start no more: the rest "
            "are SKIPPED, for retry ('none' resets)",
        ),
        Option(
            "--budget",
            metavar="AMOUNT",
            type=budget_amount,
            help="once what items spent (their COST lines) and what the running ones are "
            "expected to spend reach AMOUNT, start no more: the rest are SKIPPED; 'none' "
            "resets (changeable in any state: retry --budget raises it)",
        ),
        Option(
            "--canary",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="run the first item alone; the others start only if it succeeds",
        ),
        Option(
            "--confirm-forecast",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="with --canary: once it succeeded, wait for a yes to the forecast of the "
            "whole run's time and cost (batchtui confirm ID, A in the TUI); cancel is the no",
        ),
    ],
)
"""When a failed item runs again, and when a run stops starting items."""

rates_group = ArgumentGroup(
    "rate limits",
    [
        Option(
            "--rate",
            metavar="N/UNIT",
            type=rate_text,
            help=f"start at most this many items per s, min or h: {RATE_RULE}; evenly spaced "
            "(30/min: one every 2 s); '' clears it",
        ),
        Option(
            "--rate-key",
            metavar="NAME",
            help='also obey the host-wide rate NAME of settings.toml ([rates] tts = "30/min"), '
            "shared by every batch that names it; '' clears it",
        ),
    ],
)
"""How fast items may start (an API's "30 calls a minute")."""


def addresses(text: str) -> list[str]:
    """`--webhook URL` / `--notify URL` (repeatable; 'none': none, not even the host's)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty address (say none for none)")
    return value_of("webhooks", text) or []


def event_list(text: str) -> list[str]:
    """`--events started,ended` ('none': none)."""
    try:
        return event_words(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


news_group = ArgumentGroup(
    "news of a run (unset: the host's [notify] in settings.toml)",
    [
        Option(
            "--webhook",
            dest="webhooks",
            metavar="URL",
            type=addresses,
            action="append",
            help="POST each event's JSON here, signed the Standard Webhooks way with a secret "
            "of settings.toml's [secrets]; repeat for more; 'none': none (not the host's)",
        ),
        Option(
            "--webhook-secret",
            metavar="NAME",
            help="which [secrets] entry signs the webhooks (default: default; '' resets)",
        ),
        Option(
            "--notify",
            metavar="URL",
            type=addresses,
            action="append",
            help="tell people through Apprise: ntfy://topic, discord://…, mailto://…; repeat "
            "for more; 'none': none",
        ),
        Option(
            "--on-end",
            metavar="COMMAND",
            help="run this when a run ends (argv, no shell: {batch} {name} {status} {items} "
            "{succeeded} {failed} {skipped} {elapsed} {cost} {output_dir}; the event's JSON "
            "on its stdin); 'none': no hook; '' resets to the host's",
        ),
        Option(
            "--hook-timeout",
            type=number,
            metavar="SECONDS",
            help="kill the on_end hook after this long (default 60)",
        ),
        Option(
            "--events",
            type=event_list,
            metavar="LIST",
            help=f"what is announced, comma-separated: {', '.join(EVENTS)} (every item's "
            "end); default started,failed,ended; 'none': nothing",
        ),
    ],
)
"""Who hears of a run, and of what (not part of the config's hash)."""


def qa_checks(text: str) -> list[str]:
    """`--qa black,frozen,loudness` ('none': no checks, said as [])."""
    words = [word.strip() for word in text.split(",") if word.strip()]
    if [word.lower() for word in words] in (["none"], []):
        return []
    try:
        return check_names(words)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def loudness_target(text: str) -> float:
    """`--qa-loudness -14` (LUFS, from -70 to 0)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a loudness in LUFS (like -14)") from None
    if not math.isfinite(value) or not -70 <= value <= 0:
        raise argparse.ArgumentTypeError(f"a loudness target is from -70 to 0 LUFS, not '{text}'")
    return value


qa_group = ArgumentGroup(
    "QA across the series",
    [
        Option(
            "--qa",
            metavar="CHECKS",
            type=qa_checks,
            help="checks every output must pass, comma-separated: "
            + ", ".join(QA_CHECKS)
            + " (ffmpeg's blackdetect, freezedetect, ebur128; a failed one fails the attempt "
            "as qa, which --retry-on can name); 'none' clears them",
        ),
        Option(
            "--qa-loudness",
            metavar="LUFS",
            type=loudness_target,
            help="the series' loudness target for the loudness check (default -14)",
        ),
        Option(
            "--qa-tolerance",
            metavar="LU",
            type=number,
            help="how far an output's loudness may be from the target (default 1)",
        ),
    ],
)
"""What an output must pass beyond being valid (part of the config's hash)."""

CONFIG_OPTIONS = (config_group, retries_group, qa_group, rates_group, news_group)
"""The config flags, in the order `--help` shows them."""

_CONFIG_KEYS = tuple(option.dest for group in CONFIG_OPTIONS for option in group.options)
"""The config fields the flags set (each flag's destination is the field's name)."""


def config_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The config fields the command line set (the flags it did not give are left out)."""
    fields = {
        key: getattr(args, key) for key in _CONFIG_KEYS if getattr(args, key, None) is not None
    }
    if str(fields.get("max_failures", "")).lower() == "none":
        fields["max_failures"] = None
    if fields.get("stages") == "":
        fields["stages"] = None
    if fields.get("budget") == "":
        fields["budget"] = None
    if fields.get("qa") == []:
        fields["qa"] = None
    if "var_defaults" in fields:
        fields["var_defaults"] = dict(fields["var_defaults"]) or None
    for key in ("webhooks", "notify"):  # each flag's addresses, in order ('none' gives [])
        if key in fields:
            fields[key] = [url for urls in fields[key] for url in urls]
    if "on_end" in fields:
        fields["on_end"] = value_of("on_end", fields["on_end"])
    if fields.get("webhook_secret") == "":
        fields["webhook_secret"] = None
    return fields
