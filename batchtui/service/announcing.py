"""The use cases of a run's news: delivering the outbox, testing each target, listing what is
not delivered yet, resending what was given up, and making a webhook secret."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from ..core.errors import BatchtuiError, ValidationError
from ..core.models import BatchConfig
from ..core.notify_settings import load_notify_settings, new_secret
from ..runners.notify import events
from ..runners.notify.courier import run_courier, shown_target
from ..runners.notify.courier_start import ensure_courier
from ..runners.notify.outbox import (
    Delivery,
    failed,
    load,
    outbox_folder,
    pending,
    save,
)
from ..runners.notify.outcome import Outcome
from ..runners.notify.targets import hook_of, targets_for
from .context import ServiceContext


@dataclass(frozen=True)
class TestAnswer:
    """How one target took a test event."""

    kind: str
    target: str
    """As logs show it (no token of an address)."""
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Waiting:
    """A delivery not made yet (`given_up`: its tries are spent)."""

    delivery: Delivery
    given_up: bool

    def as_json(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "id": d.id,
            "type": d.body.get("type"),
            "batch_id": d.batch_id,
            "kind": d.kind,
            "target": shown_target(d),
            "tries": d.tries,
            "attempts": d.attempts,
            "next_at": d.next_at or None,
            "last_error": d.last_error,
            "given_up": self.given_up,
        }


class Announcing:
    """What a person or a program asks of the runs' news."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def deliver_outbox(self) -> int:
        """Deliver this database's outbox until it is empty (the courier's work); how many
        deliveries ended."""
        return run_courier(self.ctx.repo.path)

    def notify_test(self, ref: str | None = None) -> tuple[list[TestAnswer], str | None]:
        """Send a test event now to every webhook and notification target: the batch's
        (`ref`), else the host's defaults. Returns each answer, and the on_end hook that is
        not run by a test (None: there is none)."""
        host = load_notify_settings()
        if ref is not None:
            batch = self.ctx.find(ref)
            config, name, batch_id = batch.config, batch.name, batch.id
        else:
            config, name, batch_id = BatchConfig(), "(host defaults)", "test"
        targets = targets_for(config, host, "test", test=True)
        now = self.ctx.clock()
        body = {
            "type": "batchtui.test",
            "timestamp": now.isoformat(),
            "data": {"batch": {"id": batch_id, "name": name}},
        }
        answers = []
        for target in targets:
            delivery = Delivery(
                id=f"evt_test_{int(time.time() * 1000)}",
                event="test",
                batch_id=batch_id,
                kind=target.kind,
                target=target.target,
                body=body,
                created=time.time(),
                secret=target.secret,
            )
            outcome = _send_now(delivery, host)
            answers.append(
                TestAnswer(target.kind, shown_target(delivery), outcome.ok, outcome.detail)
            )
        return answers, hook_of(config, host)

    def deliveries(self) -> list[Waiting]:
        """The deliveries not made yet: waiting for a try, then the given-up ones."""
        folder = outbox_folder(self.ctx.repo.path)
        found = []
        for path in pending(folder):
            delivery = load(path)
            if delivery is not None:
                found.append(Waiting(delivery, False))
        for path in failed(folder):
            delivery = load(path)
            if delivery is not None:
                found.append(Waiting(delivery, True))
        return found

    def resend_deliveries(self) -> int:
        """Give every given-up delivery its tries again (a receiver that was down is up):
        how many; a courier takes them at once."""
        folder = outbox_folder(self.ctx.repo.path)
        count = 0
        for path in failed(folder):
            delivery = load(path)
            if delivery is None:
                continue
            delivery.tries = 0
            delivery.next_at = 0.0
            delivery.attempts = max(delivery.attempts, 1)
            save(folder / path.name, delivery)
            os.unlink(path)
            count += 1
        if count:
            ensure_courier(self.ctx.repo.path)
        return count

    def new_webhook_secret(self) -> str:
        """A fresh Standard Webhooks secret (whsec_…), for `[secrets]` in settings.toml."""
        return new_secret()


def _send_now(delivery: Delivery, host: Any) -> Outcome:
    from ..runners.notify import people, webhook

    try:
        if delivery.kind == "webhook":
            return webhook.send(delivery, host.secret(delivery.secret or "default"))
        return people.send(delivery)
    except (BatchtuiError, ValidationError) as exc:
        return Outcome(False, str(exc), True)


__all__ = ["Announcing", "TestAnswer", "Waiting", "events"]
