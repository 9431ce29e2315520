"""Telling people: one notification through Apprise (ntfy, Discord, Slack, mail, Telegram and
dozens more from one address form), never a hand-written client per service."""

from __future__ import annotations

import logging

from .events import words
from .outbox import Delivery
from .outcome import Outcome


def known_address(url: str) -> bool:
    """Whether Apprise can send to `url` (its scheme is one it knows, its form is right)."""
    import apprise

    return bool(apprise.Apprise().add(url))


def send(delivery: Delivery) -> Outcome:
    """One try: Apprise's own answer, with its reason when it says no."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(delivery.target):
        return Outcome(False, "Apprise does not know this address (its scheme or form)", True)
    title, message = words(delivery.body)
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as said:
        sent = notifier.notify(title=title, body=message)
    if sent:
        return Outcome(True, "sent")
    lines = [line for line in said.getvalue().splitlines() if line.strip()]
    return Outcome(False, lines[-1] if lines else "Apprise could not send it")
