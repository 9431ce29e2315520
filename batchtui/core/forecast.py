"""The canary's forecast: once a batch's first item (run alone, `--canary`) succeeded, how long
the whole run will take on the slots it has, and what it will cost (no I/O here)."""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, Field

from .symbols import seconds


class Forecast(BaseModel):
    """The whole run projected from its canary."""

    seconds: float = Field(ge=0)
    """The run's whole length, from its start: what it took so far, then the rest in rounds
    of `slots` items, each as long as the canary."""
    cost: float | None = None
    """The whole batch's cost: the canary's for each item (None: the canary reported none)."""
    slots: int = Field(ge=1)
    """How many items it runs at once from now (its concurrency, or the host's fewer slots)."""
    at: datetime
    """When it was made."""


def project(
    *,
    elapsed: float,
    canary_seconds: float,
    spent: float | None,
    canary_cost: float | None,
    remaining: int,
    slots: int,
    now: datetime,
) -> Forecast:
    """The forecast after a canary that ran `canary_seconds` and cost `canary_cost`, with
    `remaining` items still to run on `slots` at once, `elapsed` seconds in and `spent`
    spent so far (the canary's included)."""
    slots = max(1, slots)
    rounds = math.ceil(max(0, remaining) / slots)
    cost = None
    if canary_cost is not None:
        cost = round((spent or 0.0) + canary_cost * max(0, remaining), 6)
    return Forecast(
        seconds=round(elapsed + rounds * max(0.0, canary_seconds), 3),
        cost=cost,
        slots=slots,
        at=now,
    )


def forecast_words(forecast: Forecast) -> str:
    """'forecast: about 4m10s in all, cost 1.20 (from the canary, 3 at once)'."""
    cost = f", cost {forecast.cost:.2f}" if forecast.cost is not None else ""
    return (
        f"forecast: about {seconds(forecast.seconds)} in all{cost} "
        f"(from the canary, {forecast.slots} at once)"
    )


def forecast_short(forecast: Forecast) -> str:
    """'forecast ~4m10s, 1.20': the forecast where a line has little room."""
    cost = f", {forecast.cost:.2f}" if forecast.cost is not None else ""
    return f"forecast ~{seconds(forecast.seconds)}{cost}"


def money_words(cost: float | None, budget: float | None) -> str:
    """'cost 0.90 of budget 2.00' / 'cost 0.90' / 'budget 2.00' ('' when neither is known):
    how every view says a batch's spending."""
    if cost is None and budget is None:
        return ""
    if budget is None:
        return f"cost {cost:.2f}"
    return f"cost {cost or 0:.2f} of budget {budget:.2f}"
