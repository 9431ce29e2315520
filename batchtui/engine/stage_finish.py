"""How a pipeline stage's verified output is put away: an earlier stage's into the stage cache
(with a manifest line saying its key), the last stage's into its place in the batch folder and
linked into the cache; both let a stage's videos last any length when it says so."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..core.models import utcnow
from ..generators.base import POSTER, GeneratorError, Job, sidecar
from .finish import OutputFinisher, cleanup
from .itemlog import ItemLog
from .qa_probe import check_qa
from .stage_cache import StageCache
from .verify import verify_output


class _StageFinisher(OutputFinisher):
    """What a pipeline stage's finishers share: the stage cache, and a check that lets a
    stage's videos last any length when it says so (`core.models.config.any_length`)."""

    def __init__(self, name: str, cache: StageCache, *, any_length: bool = False) -> None:
        super().__init__(name)
        self.cache = cache
        self.any_length = any_length

    async def verify(self, job: Job) -> None:
        await verify_output(job.output, job.config, any_length=self.any_length)

    async def adopt(self, job: Job) -> bool:
        return False  # the pipeline asks the cache before a stage's job is queued


class StageFinisher(_StageFinisher):
    """An earlier stage's finisher: a verified output goes into the stage cache (not into the
    batch folder), and a manifest line says which key it has."""

    def __init__(
        self,
        name: str,
        cache: StageCache,
        record: Callable[[Job, Path], None],
        *,
        any_length: bool = False,
    ) -> None:
        super().__init__(name, cache, any_length=any_length)
        self._record_stage = record

    def put_in_place(
        self,
        job: Job,
        started: datetime,
        log: ItemLog,
        *,
        worker: str | None = None,
        host: str | None = None,
    ) -> None:
        assert job.cache_key is not None
        try:
            kept = self.cache.store(job.output, job.cache_key, job.config.output_ext)
        except OSError as exc:
            raise GeneratorError(
                f"could not keep the output in the stage cache: {exc.strerror or exc}"
            ) from None
        log.note(f"[batchtui: stage {job.stage} done: {kept}]")
        self._record_stage(job, kept)
        cleanup(job, log)


class LastStageFinisher(_StageFinisher):
    """The last stage's finisher: the output into its place as always, then linked into the
    stage cache (no copy), so another run of the same recipe finds it."""

    async def verify(self, job: Job) -> None:
        await super().verify(job)
        await check_qa(job.output, job.config)  # the series' QA: of what the item made only

    def put_in_place(
        self,
        job: Job,
        started: datetime,
        log: ItemLog,
        *,
        worker: str | None = None,
        host: str | None = None,
    ) -> None:
        poster = job.poster
        if not os.path.exists(poster):  # the card's poster (a mux makes none) is the item's
            for earlier in reversed(list(job.inputs.values())):
                theirs = sidecar(earlier, POSTER)
                if os.path.exists(theirs):
                    with contextlib.suppress(OSError):
                        shutil.copyfile(theirs, poster)
                    break
        super().put_in_place(job, started, log, worker=worker, host=host)
        if job.cache_key is not None:
            with contextlib.suppress(OSError):  # a cache that cannot take it: made next time
                self.cache.link(job.final_output, job.cache_key, job.config.output_ext)

    def record_adopted(self, job: Job, log: ItemLog) -> None:
        """The manifest's output line for an item whose every stage came from the cache (its
        output was put in place from there): as a made one's, marked `cached`."""
        with contextlib.suppress(OSError):
            manifest = self._manifest(job)
            record = self._record(job, utcnow(), log, manifest.run["config_hash"])
            if os.path.exists(sidecar(job.final_output, POSTER)):
                record["poster"] = sidecar(job.final_output, POSTER).name
            record["cached"] = True
            manifest.append(record)
