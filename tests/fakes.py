"""A fast in-process generator for tests: writes a small text file, can fail or wait on cue."""

from __future__ import annotations

from typing import ClassVar

import anyio

from batchtui.core.models import BatchConfig
from batchtui.generators.base import Context, Generator, GeneratorError, Job


class FakeGenerator(Generator):
    """Writes `content` to the output. Content starting with 'FAIL' fails the item, 'FLAKY'
    fails its first attempt only; 'BOOM' raises an unexpected exception; while `gate` is set,
    every item waits for it."""

    name = "fake"
    description = "test generator"
    active: ClassVar[int] = 0
    peak: ClassVar[int] = 0
    calls: ClassVar[list[str]] = []
    gate: ClassVar[anyio.Event | None] = None
    delay: ClassVar[float] = 0.0

    @classmethod
    def reset(cls) -> None:
        cls.active = cls.peak = 0
        cls.calls = []
        cls.gate = None
        cls.delay = 0.0

    def output_ext(self, config: BatchConfig) -> str:
        return "txt"

    async def generate(self, job: Job, ctx: Context) -> None:
        cls = type(self)
        cls.calls.append(job.content)
        cls.active += 1
        cls.peak = max(cls.peak, cls.active)
        try:
            ctx.progress(0.5)
            if cls.gate is not None:
                await cls.gate.wait()
            if cls.delay:
                await anyio.sleep(cls.delay)
            if job.content.startswith("FAIL") or (
                job.content.startswith("FLAKY") and job.attempt == 1
            ):
                raise GeneratorError(f"refused: {job.content}")
            if job.content.startswith("BOOM"):
                raise RuntimeError("generator bug")
            job.output.write_text(job.content)
        finally:
            cls.active -= 1
