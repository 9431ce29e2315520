"""The retry schedule's arithmetic: how long an item waits before its next automatic retry,
and how far a stored retry time may lie ahead. Pure: the caller passes the jitter and `now`.

The waits double from `backoff` and never exceed `backoff_max`; each is stretched by up to
`JITTER` (25%) at random, so many items that fail together do not retry in lockstep. Near the
cap the stretch still applies, below it: there the waits spread over 80–100% of `backoff_max`
(a plain `min(cap, wait × jitter)` would make every capped wait the same).
"""

from __future__ import annotations

from datetime import datetime, timedelta

JITTER = 0.25
"""How much longer than its doubled backoff a wait may be, at random (a fraction)."""

_MAX_EXPONENT = 62
"""Doublings beyond this are the cap anyway (and 2**n of a huge retry count would overflow a
float)."""


def retry_delay(backoff: float, backoff_max: float, retry: int, jitter: float) -> float:
    """Seconds before retry number `retry` (1-based): `backoff` doubled after each failure,
    stretched by up to `JITTER` by `jitter` (0..1), never more than `backoff_max` — and still
    jittered at the cap (the unstretched wait is capped at `backoff_max / (1 + JITTER)`)."""
    base = backoff * 2.0 ** min(max(retry - 1, 0), _MAX_EXPONENT)
    return min(base, backoff_max / (1 + JITTER)) * (1 + JITTER * jitter)


def capped_retry_at(at: datetime, now: datetime, backoff_max: float) -> datetime:
    """A stored retry time, believed only up to `backoff_max` from `now`: no wait is longer,
    so one further ahead (the clock went back, or a hand edit) starts at the cap instead."""
    latest = now + timedelta(seconds=backoff_max)
    return min(at, latest)
