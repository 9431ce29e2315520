"""Items from a table: one item per row of a CSV file (a header row names the columns) or a
JSON Lines file (one object per line), a pattern filled from each row's columns."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..core.errors import ValidationError
from ..core.item_lines import read_text, split_lines
from ..core.item_vars import VarValue, check_var, check_vars
from ..core.patterns import placeholders, render


def _kind(path: str, kind: str | None) -> str:
    if kind:
        return kind
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "csv"


def rows(path: str, kind: str | None = None) -> list[dict[str, str]]:
    """The rows of a CSV (header first) or JSONL file, as column → text."""
    text = read_text(path)
    found: list[dict[str, str]] = []
    if _kind(path, kind) == "jsonl":
        for number, line in enumerate(split_lines(text), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValidationError(f"{path} line {number} is not JSON: {exc}") from None
            if not isinstance(row, dict):
                raise ValidationError(f"{path} line {number} is not a JSON object")
            found.append({str(k): "" if v is None else str(v) for k, v in row.items()})
        return found
    # Universal newlines, as a file opened as text reads: a cell's CRLF is one LF.
    reader = csv.DictReader(io.StringIO(text, newline=None))
    if not reader.fieldnames:
        raise ValidationError(f"{path} has no header row (the first row names the columns)")
    seen: set[str] = set()
    for name in reader.fieldnames:  # a repeated name would silently keep its last column
        if name in seen:
            raise ValidationError(f"{path}: the header names the column {name!r} twice")
        seen.add(name)
    for row in reader:
        if None in row:  # more cells than columns
            raise ValidationError(
                f"{path} line {reader.line_num} has more cells than the header has columns"
            )
        if any((value or "").strip() for value in row.values()):
            found.append({k: v or "" for k, v in row.items()})
    return found


def items_from_rows(
    path: str, pattern: str | None, kind: str | None = None
) -> tuple[list[str], list[dict[str, VarValue] | None]]:
    """One item per row: its content (`pattern` filled from the columns, None: the first
    column) and its variables: each cell of a column whose name is a variable's name (`voice`,
    `seed`) that can be one (not empty, one line, at most `MAX_VAR_CHARS`). A cell that
    cannot (a paragraph with line breaks) still fills the pattern; a command that uses it as
    a variable is refused at lock, naming the items. The file is read once (it may be
    standard input)."""
    if pattern is not None:
        placeholders(pattern)
    table = rows(path, kind)
    if not table:
        raise ValidationError(f"{path} has no rows")
    if pattern is None:
        pattern = "{" + next(iter(table[0])) + "}"
    contents: list[str] = []
    variables: list[dict[str, VarValue] | None] = []
    for number, row in enumerate(table, start=1):
        contents.append(render(pattern, row, where=f"{path} row {number}: "))
        values = {name: value for name, value in row.items() if value and _can_be_var(name, value)}
        variables.append(check_vars(values))
    return contents, variables


def _can_be_var(name: str, value: str) -> bool:
    try:
        check_var(name, value)
    except ValueError:
        return False
    return True
