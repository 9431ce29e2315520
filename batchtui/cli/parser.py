"""The command line's grammar: the global options, then a parser per verb whose arguments its
command adds (argparse; usage errors are one line and exit 2, with a "did you mean" for a
mistyped verb, flag or choice).

A global option (`--db`) is accepted before or after the verb: each verb's parser lists it
too, with no default of its own, so a value given before the verb stands unless one after it
replaces it."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .. import __version__
from ..core.errors import EXIT_USAGE
from ..core.textsafe import one_line
from .commands import VERBS
from .options import Option

GLOBAL_OPTIONS: tuple[Option, ...] = (
    Option("--db", help="database file (default: $BATCHTUI_DB or the user data folder)"),
    Option("--version", action="version", version=f"batchtui {__version__}"),
)
"""The options every verb accepts, before or after it."""


def suggestion(word: str, choices: Sequence[str]) -> str:
    """`; did you mean X?` when one of `choices` is close to `word`, else nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _shown(action: argparse.Action) -> list[str]:
    """The choices of `action` that help lists (a verb without help, `_runner`, is not)."""
    if isinstance(action, argparse._SubParsersAction):
        return [choice.dest for choice in action._choices_actions]
    return [str(choice) for choice in action.choices or ()]


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

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            unknown = " ".join(extras)
            flag = next((extra for extra in extras if extra.startswith("-")), None)
            hint = suggestion(flag.partition("=")[0], self._flags(parsed)) if flag else ""
            self.error(f"unrecognized arguments: {unknown}{hint}")
        return parsed

    def _flags(self, parsed: argparse.Namespace) -> list[str]:
        """The flags this command line could have meant: this parser's and those of each
        verb it chose (nested ones, like `template save`, included)."""
        flags: list[str] = []
        parser: argparse.ArgumentParser | None = self
        while parser is not None:
            chosen: argparse.ArgumentParser | None = None
            for action in parser._actions:
                flags += [flag for flag in action.option_strings if flag.startswith("--")]
                if isinstance(action, argparse._SubParsersAction):
                    chosen = action.choices.get(getattr(parsed, action.dest or "", None) or "")
            parser = chosen
        return flags

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is None or value in action.choices:
            return
        shown = _shown(action)
        hint = suggestion(str(value), shown)
        if isinstance(action, argparse._SubParsersAction):
            what = f"no command {value!r}{hint}" if hint else f"no command {value!r}"
            raise argparse.ArgumentError(None, f"{what} (commands: {', '.join(shown)})")
        raise argparse.ArgumentError(
            action, f"invalid choice: {value!r}{hint} (choose from {', '.join(shown)})"
        )

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
    for option in GLOBAL_OPTIONS:
        option.add_to_parser(parser)
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)
    for verb in VERBS:
        if verb.help is None:  # not listed: argparse lists every parser given a help
            sub = verbs.add_parser(verb.name, then=verb.add_arguments)
        else:
            sub = verbs.add_parser(
                verb.name, help=verb.help, description=verb.help, then=verb.add_arguments
            )
        globals_after = sub.add_argument_group("global options (also before the command)")
        for option in GLOBAL_OPTIONS:
            # No default here: a value given before the verb is not undone by this one.
            Option(*option.flags, **option.settings, default=argparse.SUPPRESS).add_to_parser(
                globals_after
            )
        if not lazy:
            sub.complete()
    return parser
