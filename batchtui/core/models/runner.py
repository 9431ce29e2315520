"""Who is processing a batch: its runner's identity and heartbeat."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RunnerInfo(BaseModel):
    """Who is processing a batch: one runner per batch, found dead by pid (and its start
    token, so a recycled pid does not pass for it) on its host, or by a stale heartbeat."""

    pid: int
    host: str
    started_at: datetime
    heartbeat: datetime
    token: int | None = None
    detached: bool = False
    log_path: str | None = None
    cluster: str | None = None
    """The Dask scheduler the run's items go to (None: they run on the runner's host). A run
    choice, not config: it never changes the config hash."""

    def describe(self, now: datetime) -> str:
        """'pid 4242 on render-box (background), started 12:01, heartbeat 1s ago'."""
        kind = " (background)" if self.detached else ""
        if self.cluster:
            kind += f" on cluster {self.cluster}"
        beat = max(0.0, (now - self.heartbeat).total_seconds())
        started = self.started_at.astimezone().strftime("%H:%M:%S")
        return f"pid {self.pid} on {self.host}{kind}, started {started}, heartbeat {beat:.0f}s ago"
