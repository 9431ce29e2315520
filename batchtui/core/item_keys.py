"""Item keys: a caller's own name for an item (`intro`, `ep-07`), unique in its batch, as the
`custom_id` of the OpenAI and Anthropic batch APIs. An item with a key is found by it (`edit
B intro`, `…/items/intro`) and its output and log are named by it (`03-intro.mp4`) instead of
by its content.

One rule, used by the model, the CLI, the API and the table import: lower-case letters and
digits, then letters, digits, `_` or `-`, at most `MAX_KEY_CHARS`. That is a file name on
every system and one argument with no quoting; a key made only of digits is refused, because
`3` already names the third item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_KEY_CHARS = 64
KEY_RULE = (
    "a lower-case letter or digit, then letters, digits, _ or - (at most 64; not only digits)"
)

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""The rule as a JSON-schema pattern (all of it but "not only digits")."""

_KEY = re.compile(KEY_PATTERN.strip("^$"))


def check_key(key: object) -> str | None:
    """`key` if it may name an item (None or empty: no key); ValueError in one line if not."""
    if key is None or key == "":
        return None
    if not isinstance(key, str):
        raise ValueError("an item key must be text")
    if _KEY.fullmatch(key) is None or key.isdigit():
        raise ValueError(f"{key[:40]!r} is not an item key ({KEY_RULE})")
    return key


def first_repeat(keys: Iterable[str | None]) -> str | None:
    """The first key given twice among `keys` (None: each is unique)."""
    seen: set[str] = set()
    for key in keys:
        if key is None:
            continue
        if key in seen:
            return key
        seen.add(key)
    return None
