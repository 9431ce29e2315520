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
    if 200 <= answer.status_code < 300:
        return Outcome(True, f"HTTP {answer.status_code}")
    return Outcome(False, f"HTTP {answer.status_code}")
