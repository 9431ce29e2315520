"""Sending one webhook: the event's JSON, signed the Standard Webhooks way.

Headers `webhook-id` (the event's id, the same on every try), `webhook-timestamp` (this try's
time, in seconds) and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
`id.timestamp.body` with the secret), signed by the specification's own library.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ... import __version__
from .outbox import Delivery
from .outcome import Outcome

TIMEOUT = 15.0
"""Seconds a receiver has to answer (connecting, then each read)."""


def body_bytes(delivery: Delivery) -> bytes:
    """The bytes sent, and signed: compact JSON, UTF-8."""
    return json.dumps(delivery.body, ensure_ascii=False, separators=(",", ":")).encode()


def signed_headers(delivery: Delivery, secret: str, now: datetime) -> dict[str, str]:
    """The headers of one try."""
    from standardwebhooks.webhooks import Webhook

    signature = Webhook(secret).sign(delivery.id, now, body_bytes(delivery))
    return {
        "content-type": "application/json",
        "user-agent": f"batchtui/{__version__}",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def send(delivery: Delivery, secret: str) -> Outcome:
    """One try: delivered on a 2xx answer; any other answer or no answer is tried again."""
    import httpx

    headers = signed_headers(delivery, secret, datetime.now(UTC))
    try:
        answer = httpx.post(
            delivery.target,
            content=body_bytes(delivery),
            headers=headers,
            timeout=TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return Outcome(
            False, f"no answer: {type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        )
    code = answer.status_code
    if 200 <= code < 300:
        return Outcome(True, f"HTTP {code}")
    if code == 410:  # Gone: the receiver says this address takes no more (Standard Webhooks)
        return Outcome(False, "HTTP 410: the receiver is gone", final=True)
    wait = retry_after(answer.headers.get("retry-after"))
    said = f"HTTP {code}" + (f" (retry after {wait:g} s)" if wait is not None else "")
    return Outcome(False, said, wait=wait)


LONGEST_RETRY_AFTER = 3600.0
"""A receiver's Retry-After is believed up to an hour."""


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds, or an HTTP date); None when absent or not
    one of those."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), LONGEST_RETRY_AFTER)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - datetime.now(UTC)).total_seconds()), LONGEST_RETRY_AFTER)
