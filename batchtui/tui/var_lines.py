"""An item's variables as `name=value` lines, as the vars dialog shows and reads them.

The rule for a name and a value is `core.item_vars` (as `--var` uses it); here only the
lines: one assignment a line, blank lines skipped, a name set once. Pure: text in, values
or one line of error out.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..core.item_vars import VarValue, as_text, check_vars, parse_assignment


def as_lines(values: Mapping[str, VarValue] | None) -> str:
    """The variables as `name=value` lines (in their order)."""
    return "\n".join(f"{name}={as_text(value)}" for name, value in (values or {}).items())


def line_problem(line: str) -> str | None:
    """Why one line cannot be saved (None: it can; a blank line is nothing to save)."""
    if not line.strip():
        return None
    try:
        parse_assignment(line)
    except ValueError as exc:
        return str(exc)
    return None


def parse_lines(text: str) -> dict[str, str]:
    """The variables the lines set; ValueError in one line (its line number first) if a
    line is not `name=value`, or sets a name an earlier line set."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            name, value = parse_assignment(line)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if name in values:
            raise ValueError(f"line {number}: {name} is set twice")
        values[name] = value
    check_vars(values)  # how many: the same limit as everywhere
    return values


def changes(
    before: Mapping[str, VarValue] | None, after: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """(the values to set, the names to unset) that turn `before` into `after`. A line left
    as it was keeps its value as stored (a number stays a number)."""
    old = dict(before or {})
    values = {
        name: value
        for name, value in after.items()
        if name not in old or as_text(old[name]) != value
    }
    unset = [name for name in old if name not in after]
    return values, unset
