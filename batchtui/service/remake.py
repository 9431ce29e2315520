"""A series re-made from its manifest: the config of its run and one item per output, with
their variables and keys, so that locking the new batch gives the same config hash.

A batch folder's `manifest.jsonl` has a `run` line per run (its config's render settings and
their hash) and an `output` line per output put in place (the item's number, content,
variables, key, variant). The last run's config is the one re-made; its items are those of
the output lines made with that config (a retry's too), one per item number (a variant's
siblings share theirs). An item that never made an output is not in the manifest: the import
says which numbers are missing. Folders, concurrency and the other settings that do not
change what an output looks like are not in a manifest: they take their defaults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ValidationError
from ..core.item_keys import check_key
from ..core.item_lines import read_text, split_lines
from ..core.item_vars import VarValue, check_vars
from ..core.limits import LARGEST_MAX_ITEMS, MAX_NAME_CHARS
from .validation import check_content

MANIFEST_NAME = "manifest.jsonl"


@dataclass
class Remade:
    """What a manifest says a series was: its config's fields and its items."""

    name: str
    config: dict[str, Any]
    config_hash: str | None
    contents: list[str] = field(default_factory=list)
    variables: list[dict[str, VarValue] | None] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    where: str = "the manifest"
    """How errors name the manifest (its path, or 'standard input')."""
    missing: list[int] = field(default_factory=list)
    """Item numbers below the highest with no output in the manifest (not re-made)."""


def manifest_file(source: str) -> str:
    """The manifest `source` names: a file, '-' (standard input), or a batch folder."""
    if source != "-" and Path(source).is_dir():
        inside = Path(source) / MANIFEST_NAME
        if not inside.is_file():
            raise ValidationError(f"{source} is a folder with no {MANIFEST_NAME} in it")
        return str(inside)
    return source


def read(source: str) -> Remade:
    """The series the manifest `source` (a file, '-' or a batch folder) records."""
    path = manifest_file(source)
    return parse(read_text(path), "standard input" if path == "-" else path)


def parse(text: str, where: str = "the manifest") -> Remade:
    """The series a manifest's text records; ValidationError in one line (with the line's
    number) if it is not a batchtui manifest."""
    runs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ValidationError(f"{where} line {number} is not JSON") from None
        if not isinstance(record, dict):
            raise ValidationError(f"{where} line {number} is not a JSON object")
        if record.get("kind") == "run":
            if not isinstance(record.get("config"), dict):
                raise ValidationError(f"{where} line {number}: a run line with no config")
            runs.append(record)
        elif record.get("kind") == "output":
            outputs.append(_checked_output(record, f"{where} line {number}"))
    if not runs:
        raise ValidationError(f"{where} has no run line: it is not a batchtui manifest")
    run = runs[-1]
    config_hash = run.get("config_hash") if isinstance(run.get("config_hash"), str) else None
    by_number: dict[int, dict[str, Any]] = {}
    for record in outputs:  # the latest output of each item made with this config
        if config_hash is None or record.get("config_hash") == config_hash:
            by_number[record["position"]] = record
    if not by_number:
        raise ValidationError(f"{where} records no output made with its last run's config")
    remade = Remade(
        name=_name(run), config=dict(run["config"]), config_hash=config_hash, where=where
    )
    numbers = sorted(by_number)
    remade.missing = [n for n in range(1, numbers[-1]) if n not in by_number]
    for number in numbers:
        record = by_number[number]
        remade.contents.append(record["content"])
        remade.variables.append(record.get("vars"))
        remade.keys.append(record.get("key"))
    return remade


def _name(run: dict[str, Any]) -> str:
    """The recorded batch's name, or 'remade' when it has none a batch can take (the name is
    no part of the hash, and `--name` gives another)."""
    name = run.get("batch_name")
    if isinstance(name, str) and name.strip() and len(name) <= MAX_NAME_CHARS:
        return name
    return "remade"


def _checked_output(record: dict[str, Any], where: str) -> dict[str, Any]:
    """An output line's item fields, checked (they are re-made from it)."""
    position, content = record.get("position"), record.get("content")
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        raise ValidationError(f"{where}: an output line with no item number")
    if position > LARGEST_MAX_ITEMS:  # the missing numbers below it are counted
        raise ValidationError(
            f"{where}: item number {position} is past {LARGEST_MAX_ITEMS:,}, the most a batch holds"
        )
    if not isinstance(content, str):
        raise ValidationError(f"{where}: an output line with no content")
    try:
        check_content(content)
    except ValidationError as exc:  # said with the line that holds it
        raise ValidationError(f"{where}: {exc}") from None
    given = record.get("vars")
    if given is not None and not isinstance(given, dict):
        raise ValidationError(f"{where}: its vars are not an object")
    try:
        record["vars"] = check_vars(given)
        record["key"] = check_key(record.get("key"))
    except ValueError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    return record
