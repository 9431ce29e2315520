"""A config field as text and back: what a form's box shows for a value, and the value a
typed text means. The same words as the CLI's flags ('any' resets retry-on, 'none' resets
max-failures); the limits are the config's own (checked when the value is saved), so a
client adds no rule of its own.

No pydantic here: the TUI's first frame may format a config before the models load.
"""

from __future__ import annotations

from typing import Any

WHOLE_NUMBER_FIELDS = frozenset({"fps", "concurrency", "max_items", "retries", "variants"})
NUMBER_FIELDS = frozenset(
    {"duration", "timeout", "backoff", "backoff_max", "hook_timeout", "budget"}
    | {"qa_loudness", "qa_tolerance"}
)
CLEARED_BY_EMPTY = frozenset(
    {
        *("command", "background", "text_color", "max_failures", "var_defaults", "rate"),
        *("rate_key", "on_end", "hook_timeout", "webhooks", "webhook_secret", "notify", "events"),
        "budget",
        "qa",
    }
)
"""Fields whose empty text means "none" (the style's colour, no limit, no command; for the
announcing fields: the host's default)."""
ADDRESS_FIELDS = frozenset({"webhooks", "notify"})
"""Lists of addresses, written apart by spaces (an address may hold a comma)."""
NONE_WORD = "none"
"""What says "none at all" where empty says "the host's default" (the announcing fields)."""

YES = frozenset({"yes", "y", "on", "true", "1"})
NO = frozenset({"no", "n", "off", "false", "0"})


def retry_words(text: str) -> list[str]:
    """`--retry-on` / Retry on: failure kinds, comma-separated ('any' or nothing: every kind,
    the empty list)."""
    kinds = [part.strip().lower() for part in text.split(",") if part.strip()]
    return [] if kinds in ([], ["any"]) else kinds


def value_of(field: str, text: str) -> Any:
    """The config value `text` means for `field`; ValueError (its message names the text, not
    the field) when it is not one."""
    stripped = text.strip()
    if field in CLEARED_BY_EMPTY and (
        not stripped or (field in ("max_failures", "budget") and stripped.lower() == "none")
    ):
        return None
    if field in WHOLE_NUMBER_FIELDS:
        try:
            return int(stripped)
        except ValueError:
            raise ValueError(f"'{text}' is not a whole number") from None
    if field in NUMBER_FIELDS:
        try:
            return float(stripped)
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None
    if field == "retry_on":
        return retry_words(text)
    if field == "qa":  # checked where it is saved (the config's rule: one line)
        words = [part.strip().lower() for part in stripped.split(",") if part.strip()]
        return None if words in ([], [NONE_WORD]) else words
    if field in ADDRESS_FIELDS:
        if stripped.lower() == NONE_WORD:
            return []
        return [word.rstrip(",") for word in stripped.split() if word.rstrip(",")]
    if field == "events":
        from .notify_rules import event_words

        return event_words(stripped)
    if field == "on_end" and stripped.lower() == NONE_WORD:
        return ""
    if field == "var_defaults":
        return assignments(text)
    if field in ("canary", "confirm_forecast"):
        if stripped.lower() in YES:
            return True
        if stripped.lower() in NO:
            return False
        raise ValueError(f"'{text}' is not yes or no")
    return text


def assignments(text: str) -> dict[str, str]:
    """`voice=alto seed=7 title='Space Facts'`: variables as the form's box takes them
    (shell-like quoting for a value with spaces; the names and values are checked where they
    are saved)."""
    import shlex

    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"'{text}' cannot be read: {exc}") from None
    values: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if not sep:
            raise ValueError(f"'{word}' is not NAME=VALUE")
        values[name] = value
    return values


def text_of(value: Any, field: str | None = None) -> str:
    """How a box shows a config value: nothing for none, '5' for 5.0, kinds comma-separated
    ('' for every kind); `field`'s own form where it has one (addresses apart by spaces, and
    'none' for an announcing field said to be none rather than left to the host)."""
    if value is None:
        return ""
    if field in ADDRESS_FIELDS and isinstance(value, list):
        return " ".join(value) if value else NONE_WORD
    if field in ("events", "on_end") and value in ([], ""):
        return NONE_WORD
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    if isinstance(value, dict):
        import shlex

        return " ".join(f"{name}={shlex.quote(str(v))}" for name, v in value.items())
    return str(value)
