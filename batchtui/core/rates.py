"""A rate limit as people write it ("30/min", "2/s", "100/h") and what it means.

One rule for the config's `rate`, the `[rates]` table of settings.toml, the CLI, the API and
the TUI: they all parse with `parse_rate` and say the rule with `RATE_RULE`.

No imports beyond the standard library: the CLI's parser reads this before any model loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
"""The units a rate may be per, in seconds."""

MAX_RATE_COUNT = 1_000_000
"""The most starts a rate may allow per unit."""

RATE_RULE = "N/s, N/min or N/h, N a whole number from 1, e.g. 30/min"
"""How a rate is written, as a message says it."""

RATE_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
"""A named host-wide rate (`--rate-key tts`, `[rates] tts = "30/min"`)."""

RATE_KEY_RULE = "a-z, 0-9, '_' and '-', up to 32, a letter or digit first"

_RATE = re.compile(r"^\s*([0-9]+)\s*/\s*([a-z]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` starts per `per` seconds, one every `interval` seconds (a bucket of
    burst 1: starts are spaced evenly, never bunched)."""

    count: int
    per: float
    unit: str

    @property
    def interval(self) -> float:
        """Seconds between two starts."""
        return self.per / self.count

    def __str__(self) -> str:
        return f"{self.count}/{self.unit}"


def parse_rate(text: str) -> Rate:
    """The rate `text` says; ValueError (one line naming the text) when it says none."""
    match = _RATE.match(text) if isinstance(text, str) else None
    unit = match.group(2).lower() if match else ""
    if unit.endswith("s") and unit[:-1] in UNITS:  # "30/mins", "2/hours"
        unit = unit[:-1]
    if match is None or unit not in UNITS:
        raise ValueError(f"'{text}' is not a rate ({RATE_RULE})")
    count = int(match.group(1))
    if not 1 <= count <= MAX_RATE_COUNT:
        raise ValueError(
            f"'{text}' is not a rate: N must be from 1 to {MAX_RATE_COUNT:,} ({RATE_RULE})"
        )
    short = {"sec": "s", "second": "s", "minute": "min", "hour": "h"}.get(unit, unit)
    return Rate(count, UNITS[unit], short)


def normal_rate(text: str) -> str:
    """`text` as the config stores it ('30 / Minute' → '30/min'); ValueError when no rate."""
    return str(parse_rate(text))
