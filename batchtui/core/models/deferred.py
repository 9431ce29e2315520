"""A deferred start stored on a LOCKED batch: what it waits for, and the process waiting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..deferral import deferred_word


class Waiter(BaseModel):
    """The process that starts a deferred batch when its turn comes (found dead by pid and
    start token on its host, as a runner is)."""

    pid: int
    host: str
    token: int | None = None
    log_path: str | None = None
    """Its log, which its run's output goes on to once it starts the batch."""


class Deferred(BaseModel):
    """What a LOCKED batch waits for before it starts on its own: another batch's end
    (`after`, its id; `after_ok`: only if it ends COMPLETE) or a time (`at`)."""

    model_config = ConfigDict(extra="ignore")

    after: str | None = None
    after_name: str | None = Field(default=None, max_length=200)
    """The name of `after` when the start was queued (what the views say)."""
    after_ok: bool = False
    at: datetime | None = None
    cluster: str | None = None
    """Where its items are to run (as `start --cluster`), kept for the start."""
    queued_at: datetime | None = None
    waiter: Waiter | None = None

    def raw(self) -> dict[str, Any]:
        """As stored (what the display rule reads)."""
        return self.model_dump(mode="json", exclude_none=True)

    def word(self) -> str:
        """`QUEUED (after 'A')` / `SCHEDULED (02:00)`."""
        return deferred_word(self.raw()) or ""
