"""How one try of a delivery went."""

from __future__ import annotations

from typing import NamedTuple


class Outcome(NamedTuple):
    """`ok`: delivered; `detail`: one line for the log; `final`: not worth another try;
    `wait`: the receiver's own word on when to try again (Retry-After), in seconds."""

    ok: bool
    detail: str
    final: bool = False
    wait: float | None = None
