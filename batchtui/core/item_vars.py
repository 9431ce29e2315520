"""Item variables: per-item named values (`voice=alto`, `seed=7`) a command uses as
placeholders (`--voice {voice}`), filled inside one argument, never through a shell.

One rule for names and values, used by the models, the CLI, the API and the table import:
- a name is a letter or `_`, then letters, digits or `_` (at most 64);
- a value is text (one line, no control characters, at most `MAX_VAR_CHARS`) or a finite
  number; it becomes one argument as its text.
A name that is also a built-in placeholder (`content`, `output`, …) is reached as
`{vars.NAME}`; `{NAME}` is the built-in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from .textsafe import not_utf8

MAX_VAR_CHARS = 4096
"""The longest value a variable may hold (it becomes one argument of a command)."""
MAX_VARS = 64
"""The most variables an item (or a config's defaults) may have."""
VAR_NAME_RULE = "a letter or _, then letters, digits or _ (at most 64)"
VAR_PREFIX = "vars."
"""`{vars.NAME}`: the variable NAME even where a built-in placeholder has that name."""

VAR_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
"""The name rule as a JSON-schema pattern."""

_NAME = re.compile(VAR_NAME_PATTERN.strip("^$"))
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

VarValue = str | int | float


def is_var_name(name: str) -> bool:
    """Whether `name` can name a variable."""
    return _NAME.fullmatch(name) is not None


def check_var(name: object, value: object) -> tuple[str, VarValue]:
    """(name, value) if both are allowed; ValueError in one line if not."""
    if not isinstance(name, str) or not is_var_name(name):
        raise ValueError(f"{str(name)[:40]!r} is not a variable name ({VAR_NAME_RULE})")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"variable {name} must be text or a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"variable {name} must be a finite number")
    if isinstance(value, str):
        if len(value) > MAX_VAR_CHARS:
            raise ValueError(f"variable {name} is over {MAX_VAR_CHARS:,} characters")
        if _CONTROL.search(value):
            raise ValueError(f"variable {name} holds a control character (a line break, a tab…)")
        if not_utf8(value) is not None:
            raise ValueError(f"variable {name} is not valid UTF-8 text")
    return name, value


def check_vars(
    values: Mapping[str, object] | Mapping[object, object] | None,
) -> dict[str, VarValue] | None:
    """`values` checked (None or empty: None); ValueError in one line if one is not allowed."""
    if not values:
        return None
    if len(values) > MAX_VARS:
        raise ValueError(f"at most {MAX_VARS} variables, not {len(values)}")
    return dict(check_var(name, value) for name, value in values.items())


def parse_assignment(text: str) -> tuple[str, str]:
    """`NAME=VALUE` (as `--var` takes it) as (name, value text); ValueError if it is not."""
    name, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"{text[:40]!r} is not NAME=VALUE")
    checked, _ = check_var(name.strip(), value)
    return checked, value


def as_text(value: VarValue) -> str:
    """The text a value becomes as one argument (`7`, `0.5`, the text itself)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e16 else repr(value)
    return str(value)


def var_of(placeholder: str) -> str | None:
    """The variable a placeholder names (`voice`, `vars.voice`), or None (not a variable's)."""
    name = placeholder.removeprefix(VAR_PREFIX)
    return name if is_var_name(name) else None
