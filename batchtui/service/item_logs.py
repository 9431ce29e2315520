"""An item's log as text: the whole file, or one attempt's part of it.

Every attempt of an item appends to the same file (the engine's `ItemLog`), each after a
header line `=== attempt N of item P at … ===` (`… of item P (stage S) at …` in a pipeline); an
attempt that logged nothing has no header
(its file may not even exist). The CLI's `log` verb and the API read logs through here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import NotFoundError, ValidationError
from .recorded import open_recorded

if TYPE_CHECKING:
    from ..core.models import BatchItem

HEADER = re.compile(r"^=== attempt (\d+) of item [0-9.v]+(?: \(stage [a-z0-9_]+\))? at .*===$")
"""The line the engine writes before each attempt's own lines (a variant's item is `3.v2`, a
pipeline's attempt names its stage: `=== attempt 3 of item 1 (stage card) at … ===`)."""


@dataclass(frozen=True)
class ItemLog:
    """What an item's log holds, as read once."""

    item: BatchItem
    attempt: int | None
    """The attempt asked for (None: every attempt, the whole file)."""
    path: str | None
    """The file read (None: the item never ran, so it has no log)."""
    text: str
    """The log's text ('' when the attempt or the item logged nothing)."""


def log_path(item: BatchItem, attempt: int | None) -> str | None:
    """The file that holds `attempt`'s log (None: every attempt, the latest file)."""
    if attempt is not None:
        for record in reversed(item.attempt_history()):
            if record.attempt == attempt and record.log_path:
                return record.log_path
    return item.log_path


def check_attempt(item: BatchItem, attempt: int | None) -> None:
    """Refuse an attempt the item has not made (`ValidationError`, one line)."""
    if attempt is None:
        return
    if not item.attempts:
        raise ValidationError(f"item {item.label} has not run yet: it has no attempt {attempt}")
    if not 1 <= attempt <= item.attempts:
        raise ValidationError(
            f"item {item.label} has {item.attempts} attempt"
            f"{'s' if item.attempts != 1 else ''}: --attempt takes 1 to {item.attempts}"
        )


def read_text(path: str | None) -> str:
    """A log file's text ('' when there is none yet); bytes that are not UTF-8 are replaced."""
    if not path or not os.path.lexists(path):
        return ""  # a quiet attempt leaves no file
    fd, _size = open_recorded(path, f"the log {path}")
    try:
        with os.fdopen(fd, "rb") as log:
            return log.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise NotFoundError(f"cannot read the log {path}: {exc.strerror or exc}") from None


def attempt_part(text: str, attempt: int) -> str:
    """The lines of `attempt` in a log of every attempt: from its header to the next one
    ('' when it logged nothing, so has no header)."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        found = HEADER.match(line.rstrip("\r\n"))
        if found:
            inside = int(found.group(1)) == attempt
        if inside:
            kept.append(line)
    return "".join(kept)


def item_log(item: BatchItem, attempt: int | None = None) -> ItemLog:
    """`item`'s log: the whole file, or `attempt`'s part of it (`ValidationError` for an
    attempt it has not made)."""
    check_attempt(item, attempt)
    path = log_path(item, attempt)
    text = read_text(path)
    if attempt is not None:
        text = attempt_part(text, attempt)
    return ItemLog(item=item, attempt=attempt, path=path, text=text)
