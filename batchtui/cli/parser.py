"""The command line's grammar: the global options, then a parser per verb whose arguments its
command adds (argparse; usage errors are one line and exit 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .. import __version__
from ..core.errors import EXIT_USAGE
from ..core.textsafe import one_line
from .commands import VERBS


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2; a verb's parser can get its
    arguments when it is first used (`then`), so only that verb's module loads."""

    def __init__(self, *args: Any, then: Callable[[_Parser], None] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self._then = then

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.complete()
        return super().parse_known_args(args, namespace)

    def complete(self) -> None:
        """Add the arguments still to come (a verb's, when its parser is first used)."""
        then, self._then = self._then, None
        if then is not None:
            then(self)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"batchtui: error: {one_line(message)} (see: {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


def build_parser(*, lazy: bool = False) -> argparse.ArgumentParser:
    """The whole command line: `batchtui [--db DB] VERB …`, every verb in `VERBS`. `lazy`: a
    verb's module loads only if its parser is used (what a command line needs)."""
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
    for verb in VERBS:
        if verb.help is None:  # not listed: argparse lists every parser given a help
            sub = verbs.add_parser(verb.name, then=verb.add_arguments)
        else:
            sub = verbs.add_parser(
                verb.name, help=verb.help, description=verb.help, then=verb.add_arguments
            )
        if not lazy:
            sub.complete()
    return parser
