"""The command line's grammar: every verb, its arguments and the config flags (argparse; usage
errors are one line and exit 2)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from .. import __version__
from ..core.errors import EXIT_USAGE
from ..core.failures import describe_retry_words
from ..core.limits import CONCURRENCY_RULE
from ..core.platforms import PLATFORMS
from ..core.textsafe import one_line


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"batchtui: error: {one_line(message)} (see: {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def _config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("config")
    group.add_argument("--platform", choices=sorted(PLATFORMS), help="preset: size and max length")
    # Named, not imported: the generators load pydantic (~60 ms), and listing plugins reads
    # every installed package's metadata; `batchtui generators` lists them all.
    group.add_argument(
        "--generator",
        help="how items are made: titlecard (default), command, or a plugin "
        "(see: batchtui generators)",
    )
    group.add_argument(
        "--command",
        help="argv template for the command generator, e.g. "
        "'python render.py --text {content} --out {output}' (never run through a shell)",
    )
    group.add_argument("--duration", type=_number, help="seconds per video (default 5)")
    group.add_argument("--fps", type=_positive_int, help="frames per second (default 30)")
    group.add_argument(
        "--concurrency", type=_positive_int, help=f"items at once, {CONCURRENCY_RULE} (default 3)"
    )
    group.add_argument("--max-items", type=_positive_int, help="item limit (default 10)")
    group.add_argument("--timeout", type=_number, help="seconds per item before it fails")
    group.add_argument("--output", dest="output_dir", help="output folder")
    group.add_argument("--workdir", help="folder the command runs in (default: here)")
    group.add_argument("--ext", dest="output_ext", help="output file extension (default mp4)")
    group.add_argument(
        "--style",
        help="the titlecard's look: night (default), sunrise, paper, ocean or mono "
        "(see: batchtui styles)",
    )
    group.add_argument(
        "--background",
        help="a solid card background instead of the style's gradient (name or #rrggbb; "
        "'' clears it)",
    )
    group.add_argument("--text-color", help="card text colour (default: the style's; '' clears)")
    group.add_argument(
        "--validate",
        dest="validate_output",
        choices=["auto", "video", "nonempty", "exists"],
        help="how outputs are checked (auto: probe video files, else non-empty)",
    )
    group = parser.add_argument_group("retries and stopping early")
    group.add_argument(
        "--retries", type=_count, help="retry a failed item up to N times (default 0)"
    )
    group.add_argument(
        "--backoff", type=_number, help="seconds before the first retry, doubled each time (5)"
    )
    group.add_argument("--backoff-max", type=_number, help="longest wait between retries (300)")
    group.add_argument(
        "--retry-on",
        type=_retry_kinds,
        help=f"retry only these failures, comma-separated: {describe_retry_words()} "
        "(default: any; 'any' resets)",
    )
    group.add_argument(
        "--max-failures",
        metavar="N|N%",
        help="once N items (or N%% of the run) failed for good, start no more: the rest are "
        "SKIPPED, for retry ('none' resets)",
    )
    group.add_argument(
        "--canary",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the first item alone; the others start only if it succeeds",
    )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _retry_kinds(text: str) -> list[str]:
    kinds = [part.strip().lower() for part in text.split(",") if part.strip()]
    return [] if kinds == ["any"] else kinds


_CONFIG_KEYS = (
    "platform",
    "generator",
    "command",
    "duration",
    "fps",
    "concurrency",
    "max_items",
    "timeout",
    "output_dir",
    "workdir",
    "output_ext",
    "style",
    "background",
    "text_color",
    "validate_output",
    "retries",
    "backoff",
    "backoff_max",
    "retry_on",
    "max_failures",
    "canary",
)


LIST_PAGE = 30
"""How many batches `list` shows a person unless told otherwise (the newest)."""


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = _Parser(
        prog="batchtui",
        description="Generate a series of related media: create a batch, add items, lock, "
        "start, watch, retry what failed. With no command, opens the terminal UI.",
        epilog="ID: a batch id, a unique prefix of it, its name, or a unique start of its name.",
    )
    parser.add_argument("--version", action="version", version=f"batchtui {__version__}")
    parser.add_argument(
        "--db", help="database file (default: $BATCHTUI_DB or the user data folder)"
    )
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)

    def verb(name: str, text: str, *, ref: bool = True, json: bool = False) -> Any:
        sub = verbs.add_parser(name, help=text, description=text)
        if ref:
            sub.add_argument("id", metavar="ID", help="batch id, id prefix or name")
        if json:
            sub.add_argument("--json", action="store_true", help="print JSON")
        return sub

    verb("tui", "open the terminal UI", ref=False)
    sub = verb("create", "create a DRAFT batch", ref=False, json=True)
    sub.add_argument("name", metavar="NAME")
    sub.add_argument(
        "--template",
        "-t",
        metavar="T",
        help="start from template T: its config and items (see: batchtui template list)",
    )
    sub.add_argument(
        "--set",
        dest="params",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a template parameter (repeatable)",
    )
    _config_flags(sub)
    sub = verb("list", "list batches: the newest ones (--all: every one)", ref=False, json=True)
    sub.add_argument(
        "--limit",
        "-n",
        type=_positive_int,
        default=None,
        help=f"show the newest N (default {LIST_PAGE}; with --json: all)",
    )
    sub.add_argument("--all", "-a", action="store_true", help="show every batch")
    verb("show", "show a batch and its items", json=True)
    sub = verb("delete", "delete a batch (outputs are kept unless --outputs)", json=True)
    sub.add_argument("--outputs", action="store_true", help="also delete its output folder")
    sub = verb("add", "add items (DRAFT): one per argument, or one per line of --file", json=True)
    sub.add_argument("contents", metavar="CONTENT", nargs="*")
    sub.add_argument("--file", "-f", help="read items from a file, one per line ('-' = stdin)")
    sub.add_argument("--csv", metavar="FILE", help="one item per row of a CSV file (header row)")
    sub.add_argument("--jsonl", metavar="FILE", help="one item per line of a JSON Lines file")
    sub.add_argument(
        "--pattern",
        help="each row's item, its columns as placeholders: '{question}' (with --csv/--jsonl; "
        "default: the first column)",
    )
    sub = verb("edit", "replace one item's content (DRAFT)", json=True)
    sub.add_argument("item", metavar="ITEM", help="item position (1-based) or id prefix")
    sub.add_argument("content", metavar="CONTENT")
    sub = verb("remove", "remove one item (DRAFT)", json=True)
    sub.add_argument("item", metavar="ITEM")
    sub = verb("move", "move one item up or down (DRAFT)", json=True)
    sub.add_argument("item", metavar="ITEM")
    sub.add_argument("offset", metavar="OFFSET", type=int, help="e.g. -1 up one, 2 down two")
    sub = verb("config", "change config (DRAFT); with no flags, show it", json=True)
    _config_flags(sub)
    sub = verb(
        "duplicate",
        "a new DRAFT batch from this one: its config and items, none of its runs",
        json=True,
    )
    sub.add_argument("--name", "-n", help="the new batch's name (default: '<name> (copy)')")
    sub = verb("rename", "rename a batch (DRAFT)", json=True)
    sub.add_argument("name", metavar="NAME")
    verb("lock", "validate and freeze the config (DRAFT → LOCKED)", json=True)
    verb("unlock", "back to DRAFT for editing (LOCKED → DRAFT)", json=True)
    for name, text in (
        ("start", "run a LOCKED batch, here with live progress or --detach'ed"),
        ("retry", "run again only the items that did not succeed"),
        ("resume", "the same as retry: pick up a PARTIAL, FAILED or interrupted batch"),
    ):
        sub = verb(name, text, json=True)
        sub.add_argument(
            "--detach",
            "-d",
            action="store_true",
            help="run in the background, surviving this terminal (watch: attach)",
        )
        sub.add_argument(
            "--cluster",
            metavar="ADDR",
            help="run the items on the Dask scheduler at ADDR (tcp://HOST:8786; default: "
            "$BATCHTUI_CLUSTER; 'local': on this host) — needs batchtui[cluster]",
        )
        if name != "start":
            sub.add_argument(
                "--item",
                "-i",
                action="append",
                metavar="ITEM",
                dest="items",
                help="run exactly this item again (a position or an item id; repeatable), "
                "even one that succeeded: a new render replaces its output",
            )
    templates = verb(
        "template",
        "reusable batch structures, kept as TOML files (list, show, save, delete)",
        ref=False,
    )
    actions = templates.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    sub = actions.add_parser("list", help="every template (malformed files are reported)")
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub = actions.add_parser("show", help="one template")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub = actions.add_parser("save", help="save a batch's config and items as a template")
    sub.add_argument("id", metavar="BATCH", help="batch id, id prefix or name")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--description", "-m", default="", help="what the template is for")
    sub.add_argument("--force", action="store_true", help="replace a template of that name")
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub = actions.add_parser("delete", help="remove a template file")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--json", action="store_true", help="print JSON")
    verb("attach", "follow a running batch live (ctrl+c detaches; the run goes on)", json=True)
    runner = verbs.add_parser("_runner")  # the background runner; not listed in --help
    runner.add_argument("id")
    runner.set_defaults(json=False)
    verb("cancel", "stop a PROCESSING batch", json=True)
    sub = verb("concurrency", "change how many items run at once (also while running)", json=True)
    sub.add_argument("value", metavar="N", type=_positive_int, help=CONCURRENCY_RULE)
    verb("progress", "counts, percent, elapsed and ETA", json=True)
    verb("failed", "items that did not succeed, with reasons", json=True)
    verb("outputs", "output files of succeeded items", json=True)
    verb("generators", "list generators and command placeholders", ref=False, json=True)
    verb("platforms", "list platform presets", ref=False, json=True)
    verb("styles", "list the titlecard's style presets", ref=False, json=True)
    sub = verb(
        "serve",
        "serve the HTTP API (/v1/batch, docs at /docs) on this database; runs it starts "
        "belong to runner processes, so stopping the server never stops them",
        ref=False,
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sub.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free)")
    sub.add_argument(
        "--token-file",
        help="file holding the bearer token every request must carry (required unless the "
        "host is loopback)",
    )
    sub = verb(
        "web",
        "serve the terminal UI in a browser on this database, a batchtui per tab; runs "
        "belong to runner processes, so closing a tab or stopping the server never stops them",
        ref=False,
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sub.add_argument("--port", type=_port, default=8080, help="port (default 8080; 0: any free)")
    sub.add_argument(
        "--token-file",
        help="file holding the token a browser presents once, as http://HOST:PORT/?token=... "
        "(then a cookie carries it); required unless the host is loopback",
    )
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: '{text}'") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value


def config_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = {
        key: getattr(args, key) for key in _CONFIG_KEYS if getattr(args, key, None) is not None
    }
    if str(fields.get("max_failures", "")).lower() == "none":
        fields["max_failures"] = None
    return fields
