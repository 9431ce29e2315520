"""Item patterns: `"{topic}: fact {n}"` filled from named values (a template's parameters, a
CSV row's columns). Only plain names are placeholders (no attribute or index access, unlike
`str.format`); `{{` and `}}` are literal braces."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import ValidationError

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ -]*")


def placeholders(pattern: str) -> list[str]:
    """The names `pattern` uses, in order (ValidationError if it is malformed)."""
    names = []
    for match in _TOKEN.finditer(pattern):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None or not _NAME.fullmatch(name.strip()):
            raise ValidationError(
                f"bad placeholder {token!r} in pattern {pattern!r}: use {{name}} (and {{{{ "
                f"}}}} for literal braces)"
            )
        names.append(name.strip())
    return names


def render(pattern: str, values: Mapping[str, object], *, where: str = "") -> str:
    """`pattern` with each `{name}` replaced by `values[name]`."""
    placeholders(pattern)  # malformed patterns are refused whole, before any output

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = (match.group(1) or "").strip()
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise ValidationError(f"{where}no value for {{{name}}} (known: {known})")
        return str(values[name])

    return _TOKEN.sub(fill, pattern)


def fill_known(text: str, values: Mapping[str, object]) -> object:
    """`text` with each `{name}` that `values` has replaced, and everything else as written
    (another tool's placeholders, such as a command's `{output}`, and `{{`/`}}`). A text that
    is one known placeholder alone is its value, typed: `"{seconds}"` gives 6, not "6"."""
    whole = _TOKEN.fullmatch(text)
    if whole and whole.group(1) is not None and whole.group(1).strip() in values:
        return values[whole.group(1).strip()]

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is not None and name.strip() in values:
            return str(values[name.strip()])
        return match.group(0)

    return _TOKEN.sub(fill, text)


def escape(text: str) -> str:
    """`text` as a pattern that renders to itself."""
    return text.replace("{", "{{").replace("}", "}}")
