"""Arguments shared by several verbs, as objects a command lists (pdm's option objects): the
batch it acts on, `--json`, and the value types whose refusals are one line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, Protocol


class Argument(Protocol):
    """Something a command adds to its parser: one option, or a group of them."""

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None: ...


class Option:
    """One argument, given as to `add_argument`, added to each parser that lists it."""

    def __init__(self, *flags: str, **settings: Any) -> None:
        self.flags = flags
        self.settings = settings

    @property
    def dest(self) -> str:
        """The name its value has in the parsed arguments (as argparse derives it)."""
        if "dest" in self.settings:
            return str(self.settings["dest"])
        return self.flags[0].lstrip("-").replace("-", "_")

    def add_to_parser(self, parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
        parser.add_argument(*self.flags, **self.settings)


class ArgumentGroup:
    """Options that `--help` shows under one heading."""

    def __init__(self, title: str, options: Sequence[Option]) -> None:
        self.title = title
        self.options = tuple(options)

    def add_to_parser(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group(self.title)
        for option in self.options:
            option.add_to_parser(group)


def whole_number(text: str) -> int:
    """An integer argument."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    return value


def number(text: str) -> float:
    """A number argument (seconds, for instance)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def count(text: str) -> int:
    """A whole number, zero or more."""
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: '{text}'") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0-65535")
    return value


batch_ref = Option("id", metavar="ID", help="batch id, id prefix or name")
"""The batch a verb acts on (resolved by the service: id, prefix or name)."""

json_option = Option("--json", action="store_true", help="print JSON")
"""`--json`: one JSON document on stdout instead of text for people."""


def assignment(text: str) -> tuple[str, str]:
    """`--var NAME=VALUE`: an item variable's name and value (`core.item_vars`' rule)."""
    from ..core.item_vars import parse_assignment

    try:
        return parse_assignment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def given_vars(args: argparse.Namespace) -> dict[str, str]:
    """The `--var` values of a command line; ValidationError if one name is given twice."""
    from ..core.errors import ValidationError

    values: dict[str, str] = {}
    for name, value in args.variables or []:
        if name in values:
            raise ValidationError(f"--var {name} is given twice; give it once")
        values[name] = value
    return values


def var_option(help_text: str) -> Option:
    """`--var NAME=VALUE` (repeatable) into `args.variables`, with `help_text`."""
    return Option(
        "--var",
        dest="variables",
        metavar="NAME=VALUE",
        type=assignment,
        action="append",
        help=help_text,
    )
