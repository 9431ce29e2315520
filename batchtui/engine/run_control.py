"""What a runner controls a run by, whether it is one scheduler or a pipeline of them."""

from __future__ import annotations

from typing import Protocol

from ..core.pausing import PauseMode
from ..generators.base import Job


class RunControl(Protocol):
    """A run in progress: the runner's flush loop and the service steer it through this."""

    @property
    def concurrency(self) -> int: ...

    def set_concurrency(self, value: int) -> None: ...

    def cancel(self, *, interrupt: bool = False, reason: str | None = None) -> None: ...

    @property
    def paused(self) -> PauseMode | None: ...

    def pause(self, mode: PauseMode | None) -> None: ...

    def set_priority(self, value: int) -> None: ...

    async def run(self, jobs: list[Job]) -> None: ...
