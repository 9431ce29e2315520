"""Items from a table: one item per row of a CSV file (a header row names the columns) or a
JSON Lines file (one object per line), a pattern filled from each row's columns."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from ..core.errors import ValidationError
from ..core.item_keys import check_key
from ..core.item_lines import read_text, split_lines
from ..core.item_vars import VarValue, check_var, check_vars
from ..core.limits import LARGEST_MAX_ITEMS
from ..core.patterns import placeholders, render
from .validation import check_content


def _kind(path: str, kind: str | None) -> str:
    if kind:
        return kind
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "csv"


KEY_COLUMN = "key"
"""A column (or JSONL field) with this name is each row's item key, not a variable."""
VARS_FIELD = "vars"
"""A JSONL row's object of variables (`{"content": …, "vars": {…}, "key": …}`, as the API
takes items), merged over its other fields."""


def rows(path: str, kind: str | None = None) -> list[dict[str, str]]:
    """The rows of a CSV (header first) or JSONL file, as column → text (a JSONL row's `vars`
    object spread into it); at most `LARGEST_MAX_ITEMS` rows."""
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
            found.append(_flat(row, f"{path} line {number}"))
            _bounded(found, path)
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
            _bounded(found, path)
    return found


def _flat(row: dict[object, object], where: str) -> dict[str, str]:
    """A JSONL row as column → text: its fields, and its `vars` object's over them."""
    own = row.get(VARS_FIELD)
    if own is not None and not isinstance(own, dict):
        raise ValidationError(f"{where}: `vars` is not an object")
    fields = {k: v for k, v in row.items() if k != VARS_FIELD} | (own or {})
    flat = {}
    for name, value in fields.items():
        if isinstance(value, dict | list):
            raise ValidationError(f"{where}: {str(name)[:40]!r} holds an object or a list")
        if isinstance(value, bool):  # Python would spell it True: a value is text or a number
            raise ValidationError(f"{where}: {str(name)[:40]!r} is {str(value).lower()}; give text")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError(f"{where}: {str(name)[:40]!r} is not a finite number")
        flat[str(name)] = "" if value is None else str(value)  # null: an empty cell
    return flat


def _bounded(found: list[dict[str, str]], path: str) -> None:
    if len(found) > LARGEST_MAX_ITEMS:
        raise ValidationError(
            f"{path} has over {LARGEST_MAX_ITEMS:,} rows, more than a batch can hold "
            f"(row {len(found):,} is one too many)"
        )


def items_from_rows(
    path: str,
    pattern: str | None,
    kind: str | None = None,
    content_column: str | None = None,
    notes: list[str] | None = None,
) -> tuple[list[str], list[dict[str, VarValue] | None], list[str | None]]:
    """One item per row: its content (`pattern` filled from the columns, or the column
    `content_column`; neither: the first column), its variables and its key (a `key` column).

    Each cell of a column whose name is a variable's name (`voice`, `seed`) is a variable when
    it can be one (not empty, one line, at most `MAX_VAR_CHARS`). A cell that cannot (a
    paragraph with line breaks) still fills the pattern; a command that uses it as a variable
    is refused at lock, naming the items; `notes` (when given) gets one line per column that
    was not kept as a variable somewhere, saying where first and why. A bad key, or one two
    rows share, is refused naming its rows. The file is read once (it may be standard input)."""
    if pattern is not None and content_column is not None:
        raise ValidationError("give --pattern or --content-column, not both")
    if pattern is not None:
        placeholders(pattern)
    table = rows(path, kind)
    if not table:
        raise ValidationError(f"{path} has no rows")
    if content_column is not None:
        if content_column not in table[0]:
            columns = ", ".join(list(table[0])[:8])
            raise ValidationError(f"{path} has no column {content_column!r} (it has {columns})")
        pattern = "{" + content_column + "}"
    if pattern is None:
        pattern = "{" + next(iter(table[0])) + "}"
    contents: list[str] = []
    variables: list[dict[str, VarValue] | None] = []
    keys: list[str | None] = []
    line_word = "row"  # a JSONL file's blank lines are no rows: its row numbers are not lines
    unkept: dict[str, str] = {}
    first_row: dict[str, int] = {}
    for number, row in enumerate(table, start=1):
        where = f"{path} {line_word} {number}: "
        content = render(pattern, row, where=where)
        try:
            check_content(content)  # here, to name the row (the service checks it again)
        except ValidationError as exc:
            raise ValidationError(f"{where}{exc}") from None
        contents.append(content)
        values: dict[str, str] = {}
        for name, value in row.items():
            if not value or name == KEY_COLUMN:
                continue
            why = _why_not_var(name, value)
            if why is None:
                values[name] = value
            elif name not in unkept:
                unkept[name] = (
                    f"column {name[:40]!r} is not kept as a variable ({line_word} {number} "
                    f"first): {why}"
                )
        variables.append(check_vars(values))
        try:
            key = check_key(row.get(KEY_COLUMN, "").strip())
        except ValueError as exc:
            raise ValidationError(f"{where}{exc}") from None
        if key is not None and key in first_row:
            raise ValidationError(
                f"{path} {line_word}s {first_row[key]} and {number} both have key {key!r}; "
                "keys are unique in a batch"
            )
        if key is not None:
            first_row[key] = number
        keys.append(key)
    if notes is not None:
        notes.extend(unkept.values())
    return contents, variables, keys


def _why_not_var(name: str, value: str) -> str | None:
    """Why a cell cannot be a variable (None: it can)."""
    try:
        check_var(name, value)
    except ValueError as exc:
        return str(exc)
    return None
