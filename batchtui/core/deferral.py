"""Deferred starts: a LOCKED batch queued to start after another one ends (`--after`), or at
a time (`--at`, `--in`). The one rule of the word a deferred batch is shown with, and the
parsing of the times, live here (plain Python: the list's first frame reads it before the
models are loaded).

A deferred batch stays LOCKED (its lifecycle has not moved); what it waits for is stored on
it (`Batch.deferred`, raw: `{"after": id, "after_name": name, "after_ok": bool, "at": iso}`),
and every view shows `QUEUED (after 'A')` or `SCHEDULED (02:00)` from `shown_status`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from .errors import ValidationError
from .states import BatchStatus

QUEUED = "QUEUED"
"""The word of a batch that starts when another one ends."""
SCHEDULED = "SCHEDULED"
"""The word of a batch that starts at a time."""
QUEUED_ICON = "⧗"
"""Single-width, readable without colour, like the status icons."""

DELAY_RULE = "a whole number and a unit: 90s, 15m, 3h or 1d"
AT_RULE = (
    "a time of day (02:00, 23:30:15: the next one, local time) or a date and time "
    "(2026-12-24T02:00)"
)
MAX_DELAY = timedelta(days=366)
"""How far ahead a start may be put (a typo of a year is refused)."""

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DELAY = re.compile(r"(\d{1,9})([smhd])")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_delay(text: str) -> timedelta:
    """`90s`, `15m`, `3h`, `1d` as a duration (ValidationError otherwise, or for 0)."""
    match = _DELAY.fullmatch(text.strip().lower())
    if match is None:
        raise ValidationError(f"--in wants {DELAY_RULE}, not {text!r}")
    delay = timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    if not timedelta(0) < delay <= MAX_DELAY:
        raise ValidationError(f"--in must be more than 0 and at most {MAX_DELAY.days} days")
    return delay


def parse_at(text: str, now: datetime) -> datetime:
    """When `--at TEXT` means, as an aware local time after `now` (aware).

    `HH:MM[:SS]`: the next such time (later today, else tomorrow); a date and time (ISO
    8601, local unless it names its offset) must lie ahead."""
    local_now = now.astimezone()
    text = text.strip()
    clock = _CLOCK.fullmatch(text)
    if clock is not None:
        try:
            wanted = time(int(clock[1]), int(clock[2]), int(clock[3] or 0))
        except ValueError:
            raise ValidationError(f"--at wants {AT_RULE}, not {text!r}") from None
        moment = datetime.combine(local_now.date(), wanted)
        when = moment.astimezone()  # naive: local time, with the offset of that day
        if when <= local_now:
            when = (moment + timedelta(days=1)).astimezone()
        return when
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"--at wants {AT_RULE}, not {text!r}") from None
    when = moment.astimezone()  # naive: local; aware: converted
    if when <= local_now:
        raise ValidationError(f"--at {text} is in the past (now {local_now:%Y-%m-%d %H:%M})")
    if when - local_now > MAX_DELAY:
        raise ValidationError(f"--at must be at most {MAX_DELAY.days} days ahead")
    return when


def clock_text(moment: datetime, now: datetime | None = None) -> str:
    """A start time as a person reads it: `02:00` within the next day, else `2026-12-24 02:00`
    (local time; seconds only when it has some)."""
    local = moment.astimezone()
    hhmm = "%H:%M:%S" if local.second else "%H:%M"
    reference = (now or datetime.now(local.tzinfo)).astimezone()
    if timedelta(0) <= local - reference < timedelta(hours=24) or local.date() == reference.date():
        return local.strftime(hhmm)
    return local.strftime(f"%Y-%m-%d {hhmm}")


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def deferred_parts(
    deferred: Mapping[str, Any] | None, now: datetime | None = None
) -> tuple[str, str] | None:
    """(`QUEUED`, `after 'A'`) or (`SCHEDULED`, `02:00`) for a stored deferral; None for none
    (a narrow view shows the word and puts the rest elsewhere)."""
    if not deferred:
        return None
    if deferred.get("after"):
        name = deferred.get("after_name") or deferred["after"]
        ok = ", if COMPLETE" if deferred.get("after_ok") else ""
        return (QUEUED, f"after '{name}'{ok}")
    at = _moment(deferred.get("at"))
    if at is not None:
        return (SCHEDULED, clock_text(at, now))
    return None


def deferred_word(deferred: Mapping[str, Any] | None, now: datetime | None = None) -> str | None:
    """`QUEUED (after 'A')` or `SCHEDULED (02:00)` for a stored deferral; None for none."""
    parts = deferred_parts(deferred, now)
    return None if parts is None else f"{parts[0]} ({parts[1]})"


def shown_parts(
    status: BatchStatus, deferred: Mapping[str, Any] | None, now: datetime | None = None
) -> tuple[str, str] | None:
    """`deferred_parts` of a batch that shows them: LOCKED with a deferral (else None)."""
    return deferred_parts(deferred, now) if status is BatchStatus.LOCKED else None


def shown_status(
    status: BatchStatus, deferred: Mapping[str, Any] | None, now: datetime | None = None
) -> str:
    """The one rule of the word a batch is shown with: its status, unless it is LOCKED and
    deferred (then `QUEUED (after 'A')` / `SCHEDULED (02:00)`)."""
    if status is BatchStatus.LOCKED:
        word = deferred_word(deferred, now)
        if word is not None:
            return word
    return status.value


def is_deferred(status: BatchStatus, deferred: Mapping[str, Any] | None) -> bool:
    """Whether a batch shows as QUEUED or SCHEDULED (not its plain status)."""
    return status is BatchStatus.LOCKED and deferred_word(deferred) is not None
