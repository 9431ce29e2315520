"""The host's defaults for announcing runs, and its webhook secrets: `[notify]` and
`[secrets]` of `settings.toml`.

```toml
[notify]                                   # for every batch on this host that sets none
webhooks = ["https://example.com/hooks/batchtui"]
notify = ["ntfy://my-renders"]             # Apprise addresses: people's phones, chats, mail
on_end = "notify-send {name} {status}"
hook_timeout = 60
events = ["started", "failed", "ended"]
webhook_secret = "default"
attempts = 8                               # tries per webhook or notification
backoff = 2                                # seconds before the second try, then doubled

[secrets]
default = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"   # a Standard Webhooks secret
```

A file holding secrets must be private (mode 0600): one readable by others is refused with
the command that fixes it, rather than signing with a secret anybody on the box can read.
"""

from __future__ import annotations

import base64
import binascii
import math
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ValidationError
from .notify_rules import (
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    DEFAULT_EVENTS,
    DEFAULT_HOOK_TIMEOUT,
    DEFAULT_SECRET,
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    MAX_HOOK_TIMEOUT,
    check_events,
    hook_problems,
    people_url_problem,
    secret_name_problem,
    webhook_url_problem,
)
from .settings import _read_file, settings_path

SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class NotifySettings:
    """`[notify]` and `[secrets]` as this host has them (defaults where the file says none)."""

    webhooks: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    on_end: str | None = None
    hook_timeout: float = DEFAULT_HOOK_TIMEOUT
    events: tuple[str, ...] = DEFAULT_EVENTS
    webhook_secret: str = DEFAULT_SECRET
    attempts: int = DEFAULT_ATTEMPTS
    backoff: float = DEFAULT_BACKOFF
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    path: Path | None = None

    def secret(self, name: str) -> str:
        """The secret named `name`; ValidationError, one line, saying how to add it."""
        value = self.secrets.get(name)
        if value is None:
            where = self.path or settings_path()
            raise ValidationError(
                f"no secret '{name}' in {where}: add [secrets] {name} = \"whsec_…\" "
                "(batchtui notify secret makes one)"
            )
        return value


def load_notify_settings() -> NotifySettings:
    """The host's `[notify]` and `[secrets]` now; ValidationError, one line, for a value that
    cannot be used (read afresh each time: an edit applies to the next event)."""
    path = settings_path()
    data = _read_file(path)
    table = data.get("notify", {})
    if not isinstance(table, dict):
        raise ValidationError(f"{path}: [notify] must be a table")
    secrets = _secrets(data.get("secrets", {}), path)
    known = {
        *("webhooks", "notify", "on_end", "hook_timeout", "events"),
        *("webhook_secret", "attempts", "backoff"),
    }
    for key in table:
        if key not in known:
            raise ValidationError(
                f"{path}: [notify] {key!r} is not a setting (known: {', '.join(sorted(known))})"
            )
    on_end = table.get("on_end")
    if on_end is not None:
        if not isinstance(on_end, str):
            raise ValidationError(f"{path}: [notify] on_end must be a command (a string)")
        problems = hook_problems(on_end) if on_end else []
        if problems:
            raise ValidationError(f"{path}: [notify] {problems[0]}")
    events = table.get("events", list(DEFAULT_EVENTS))
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValidationError(f"{path}: [notify] events must be a list of event names")
    try:
        events = check_events(events)
    except ValueError as exc:
        raise ValidationError(f"{path}: [notify] events: {exc}") from None
    secret_name = table.get("webhook_secret", DEFAULT_SECRET)
    if not isinstance(secret_name, str) or secret_name_problem(secret_name):
        raise ValidationError(
            f"{path}: [notify] webhook_secret: {secret_name_problem(str(secret_name))}"
        )
    return NotifySettings(
        webhooks=_addresses(table.get("webhooks", []), "webhooks", webhook_url_problem, path),
        notify=_addresses(table.get("notify", []), "notify", people_url_problem, path),
        on_end=on_end or None,
        hook_timeout=_number(table, "hook_timeout", DEFAULT_HOOK_TIMEOUT, MAX_HOOK_TIMEOUT, path),
        events=tuple(events),
        webhook_secret=secret_name,
        attempts=int(_number(table, "attempts", DEFAULT_ATTEMPTS, MAX_ATTEMPTS, path, whole=True)),
        backoff=_number(table, "backoff", DEFAULT_BACKOFF, MAX_BACKOFF, path, zero=True),
        secrets=secrets,
        path=path,
    )


def _addresses(value: object, key: str, problem_of: object, path: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{path}: [notify] {key} must be a list of addresses")
    for url in value:
        problem = problem_of(url)  # type: ignore[operator]
        if problem:
            raise ValidationError(f"{path}: [notify] {key}: {problem}")
    return tuple(dict.fromkeys(value))


def _number(
    table: dict,
    key: str,
    default: float,
    largest: float,
    path: Path,
    *,
    whole: bool = False,
    zero: bool = False,
) -> float:
    """`key` of `[notify]`: a finite number above 0 (or from 0, `zero`) up to `largest`."""
    value = table.get(key, default)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and whole:
        ok = float(value).is_integer()
    if ok:
        ok = (value >= 0 if zero else value > 0) and value <= largest
    if not ok:
        kind = "a whole number" if whole else "a number of seconds"
        low = "0" if zero else "above 0"
        raise ValidationError(f"{path}: [notify] {key} must be {kind} from {low} to {largest:g}")
    return float(value)


def _secrets(table: object, path: Path) -> dict[str, str]:
    """`[secrets]`: NAME = "whsec_<base64>"; the file must be private when it holds any."""
    if not isinstance(table, dict):
        raise ValidationError(f'{path}: [secrets] must be a table of NAME = "whsec_…"')
    if not table:
        return {}
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0
    if mode & 0o077:
        raise ValidationError(
            f"{path} holds webhook secrets but others may read it (mode {mode:o}): chmod 600 {path}"
        )
    secrets: dict[str, str] = {}
    for name, value in table.items():
        problem = secret_name_problem(name)
        if problem:
            raise ValidationError(f"{path}: [secrets] {problem}")
        if not isinstance(value, str) or not _is_secret(value):
            raise ValidationError(
                f"{path}: [secrets] {name} must be whsec_ and base64 of at least 24 bytes "
                "(batchtui notify secret makes one)"
            )
        secrets[name] = value
    return secrets


def _is_secret(value: str) -> bool:
    raw = value.removeprefix(SECRET_PREFIX)
    try:
        decoded = base64.b64decode(raw + "==", validate=False)
    except (binascii.Error, ValueError):
        return False
    return len(decoded) >= 24


def new_secret() -> str:
    """A fresh Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    import secrets

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
