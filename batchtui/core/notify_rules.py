"""What a batch may say about telling the world a run's news: the events, the targets' forms,
the hook's placeholders and the limits. One place, for the config, the settings file, the
CLI, the form and the API (no I/O, no pydantic here)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .textsafe import one_line

EVENTS = ("started", "failed", "ended", "item")
"""What can be announced: the run started, an item failed for good, the run ended, and every
item's end (`item`, off by default: a long series would send one per item)."""
DEFAULT_EVENTS = ("started", "failed", "ended")
EVENT_TYPES = {
    "started": "batch.started",
    "failed": "item.failed",
    "ended": "batch.ended",
    "item": "item.ended",
    "test": "batchtui.test",
}
"""Each event's `type` in a webhook's body (Standard Webhooks' dotted names)."""

HOOK_PLACEHOLDERS = (
    "batch",
    "name",
    "status",
    "items",
    "succeeded",
    "failed",
    "skipped",
    "elapsed",
    "cost",
    "output_dir",
)
"""What `on_end` may name: `{batch}` is the id; the event's whole JSON is on the hook's stdin."""

NEWS_FIELDS = frozenset(
    {"on_end", "hook_timeout", "webhooks", "webhook_secret", "notify", "events"}
)
"""The config fields that say who hears of a run: changeable in any state (not hashed)."""
RUN_LIMIT_FIELDS = frozenset({"budget", "confirm_forecast"})
"""Config fields that limit a run and may change in any state (`retry --budget` raises it;
a running batch's runner takes a change at its next write)."""
ANY_STATE_FIELDS = NEWS_FIELDS | RUN_LIMIT_FIELDS

DEFAULT_HOOK_TIMEOUT = 60.0
MAX_HOOK_TIMEOUT = 3600.0
MAX_TARGETS = 16
"""Webhooks, or people's targets, per batch (each event is one delivery per target)."""
MAX_URL_CHARS = 2048
SECRET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
SECRET_NAME_RULE = "letters, digits, '_', '.' and '-', at most 64"
DEFAULT_SECRET = "default"
"""The secret a webhook is signed with when the batch names none (`[secrets] default`)."""

DEFAULT_ATTEMPTS = 8
DEFAULT_BACKOFF = 2.0
MAX_ATTEMPTS = 50
MAX_BACKOFF = 3600.0


def event_words(text: str) -> list[str]:
    """`started,ended` (comma-separated, as `--events` and the form take it; 'none': none);
    ValueError naming the word that is not an event."""
    words = [part.strip().lower() for part in text.split(",") if part.strip()]
    if words == ["none"]:
        return []
    return check_events(words)


def check_events(words: list[str]) -> list[str]:
    """The events in their canonical order; ValueError for one that is not an event."""
    for word in words:
        if word not in EVENTS:
            raise ValueError(f"'{word}' is not an event (use: {', '.join(EVENTS)})")
    return [event for event in EVENTS if event in words]


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot receive webhooks (an http(s) address with a host), or None."""
    if len(url) > MAX_URL_CHARS:
        return f"a webhook address is at most {MAX_URL_CHARS} characters"
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        return "a webhook address has no spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"'{url}' is not a web address: {exc}"
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{url}' is not an http:// or https:// address"
    if parts.username or parts.password:
        return "a webhook address carries no user or password (it is signed instead)"
    return None


def people_url_problem(url: str) -> str | None:
    """What a notification target (an Apprise URL, `ntfy://topic`) cannot be, before Apprise
    itself judges its scheme: one line, or None."""
    if len(url) > MAX_URL_CHARS:
        return f"a notification address is at most {MAX_URL_CHARS} characters"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return "a notification address has no control characters"
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        return f"'{url}' is not a notification address (like ntfy://topic or mailto://…)"
    return None


def secret_name_problem(name: str) -> str | None:
    """Why `name` cannot name a secret of `[secrets]`, or None."""
    if not SECRET_NAME.fullmatch(name):
        return f"{one_line(name, 64)!r} is not a secret's name ({SECRET_NAME_RULE})"
    return None


def hook_problems(template: str) -> list[str]:
    """What is wrong with an `on_end` template, one line each (its program's existence is a
    run-time matter: the lock checks it where the hook will run)."""
    import shlex
    import string

    if any((ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F for char in template):
        return ["on_end has a control character (a command is one line of text)"]
    try:
        argv = shlex.split(template)
    except ValueError as exc:
        return [f"on_end cannot be split: {exc} (unbalanced quotes?)"]
    if not argv:
        return ["on_end is empty (say none for no hook)"]
    problems: list[str] = []
    for number, arg in enumerate(argv):
        try:
            parsed = [(field, spec, conv) for _, field, spec, conv in string.Formatter().parse(arg)]
        except ValueError as exc:
            problems.append(f"on_end: bad placeholder in '{arg}': {exc} (write {{{{ for a brace)")
            continue
        for field, spec, conversion in parsed:
            if field is None:
                continue
            if spec or conversion:
                problems.append(
                    f"on_end: {{{field}}} takes no format or conversion (write {{{field}}})"
                )
                continue
            if number == 0:
                problems.append("on_end: the program (first word) cannot be a placeholder")
            elif field not in HOOK_PLACEHOLDERS:
                known = " ".join(f"{{{name}}}" for name in HOOK_PLACEHOLDERS)
                problems.append(f"on_end: unknown placeholder {{{field}}} (known: {known})")
    return problems
