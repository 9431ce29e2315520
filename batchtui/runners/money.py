"""What one run spends, kept as its events are folded: the budget's gate (no new item once
what was spent and what the running items are expected to spend reach it) and the canary's
forecast (once it succeeded, the whole run's time and cost on the slots it has)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..core.events import EngineEvent, ItemCost, ItemFinished, ItemRetrying, ItemStarted
from ..core.forecast import project
from ..core.models import Batch, ItemStatus


class RunMoney:
    """One run's spending and forecast."""

    def __init__(self, batch: Batch, slots: int | None, clock: Callable[[], datetime]) -> None:
        self.batch = batch
        self.slots = slots
        """The host's slots the run's items share (None: only its concurrency limits it)."""
        self.clock = clock
        self.spent = sum(item.cost or 0.0 for item in batch.items)
        ended = [
            record
            for item in batch.items
            for record in item.attempt_history()
            if record.status is not ItemStatus.RUNNING and record.finished_at is not None
        ]
        self.ended_cost = sum(record.cost or 0.0 for record in ended)
        self.ended = len(ended)
        self.running: dict[str, float] = {}
        """Each running item's attempt, and what it spent so far."""
        self.canary: str | None = None
        """The canary's item id (set by the runner once it knows its jobs)."""
        self.on_hold: Callable[[], None] | None = None
        """Holds the run's new items back (a forecast waits for a yes: `confirm_forecast`)."""
        self.run_items = 0

    @property
    def expected(self) -> float:
        """What an attempt is expected to spend: the mean of those that ended (0: none)."""
        return self.ended_cost / self.ended if self.ended else 0.0

    def heard(self, event: EngineEvent, batch: Batch) -> None:
        """An engine event, folded into `batch`."""
        if isinstance(event, ItemStarted):
            self.running.setdefault(event.item_id, 0.0)  # (a later stage: the same attempt)
        elif isinstance(event, ItemCost):
            self.spent += event.amount
            self.running[event.item_id] = self.running.get(event.item_id, 0.0) + event.amount
        elif isinstance(event, ItemRetrying | ItemFinished):
            spent = self.running.pop(event.item_id, None)
            if spent is not None:
                self.ended_cost += spent
                self.ended += 1
            if (
                isinstance(event, ItemFinished)
                and event.status is ItemStatus.SUCCEEDED
                and event.item_id == self.canary
            ):
                self._forecast(batch, event.item_id, spent)
                left = any(item.status is ItemStatus.PENDING for item in batch.items)
                if batch.config.confirm_forecast and left and self.on_hold is not None:
                    batch.awaiting_confirm = True  # said at the next write
                    self.on_hold()

    def gate(self) -> str | None:
        """Why no new item may start (the budget is reached), or None."""
        budget = self.batch.config.budget
        if budget is None:
            return None
        expected = self.expected
        ahead = sum(max(0.0, expected - spent) for spent in self.running.values())
        if self.spent + ahead < budget:
            return None
        running = f", {ahead:.2f} expected from {len(self.running)} running" if ahead else ""
        return f"budget {budget:g} reached: spent {self.spent:.2f}{running}"

    def _forecast(self, batch: Batch, item_id: str, spent: float | None) -> None:
        item = batch.item(item_id)
        if item.started_at is None or item.finished_at is None or batch.started_at is None:
            return
        now = self.clock()
        remaining = sum(1 for i in batch.items if i.status is ItemStatus.PENDING)
        slots = batch.config.concurrency
        if self.slots is not None:
            slots = min(slots, self.slots)
        batch.forecast = project(
            elapsed=(now - batch.started_at).total_seconds(),
            canary_seconds=(item.finished_at - item.started_at).total_seconds(),
            spent=self.spent,
            canary_cost=spent if spent or self.spent else None,  # (nothing reported: no cost)
            remaining=remaining,
            slots=slots,
            now=now,
        )
