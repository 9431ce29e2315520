"""After an attempt wrote its output: verify it, move it into place, record it in the manifest
(and, on a retry, adopt an output a crashed predecessor finished but never recorded)."""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from ..core.models import BatchConfig, utcnow
from ..generators.base import SIDECARS, GeneratorError, Job, sidecar
from .itemlog import ItemLog
from .layout import Manifest, read_manifest
from .qa_probe import check_qa
from .verify import verify_output


class OutputFinisher:
    """Finishes the outputs of one run: one open manifest per batch folder."""

    def __init__(self, generator_name: str) -> None:
        self.generator_name = generator_name
        self.run_started = utcnow()
        self._manifests: dict[str, tuple[BatchConfig, Manifest]] = {}
        """By batch folder (a string: hashing a path per item cost more than the lookup)."""
        self._adoptable: dict[Path, dict[str, dict[str, Any]]] = {}

    def begin(self) -> None:
        """A run starts: the manifest's `run` line says when."""
        self.run_started = utcnow()

    def close(self) -> None:
        for _, manifest in self._manifests.values():
            with contextlib.suppress(OSError):
                manifest.close()
        self._manifests.clear()
        self._adoptable.clear()

    async def verify(self, job: Job) -> None:
        """Raise GeneratorError unless the attempt's output is valid for the locked config
        (QaFailed: valid, but it failed the config's QA checks)."""
        await verify_output(job.output, job.config)
        await check_qa(job.output, job.config)

    def put_in_place(
        self,
        job: Job,
        started: datetime,
        log: ItemLog,
        *,
        worker: str | None = None,
        host: str | None = None,
    ) -> None:
        """Move the checked output into place, record it in the manifest (with the worker and
        host that made it), close the log."""
        try:
            os.replace(job.output, job.final_output)
            extras = _place_sidecars(job)
            manifest = self._manifest(job)
            record = self._record(job, started, log, manifest.run["config_hash"])
            record.update(extras)
            record["worker"], record["host"] = worker, host
            manifest.append(record)
        except OSError as exc:
            raise GeneratorError(
                f"could not put the output in {job.final_output.parent}: {exc.strerror} "
                "(was the output folder moved or deleted?)"
            ) from None
        log.note(f"[batchtui: SUCCEEDED: {job.final_output}]")
        cleanup(job, log, moved=True)

    def record_stage(self, item_job: Job, job: Job, output: Path, *, cached: bool) -> None:
        """A manifest line for one stage output of a pipeline item (`item_job`: the item's
        own job, whose batch folder holds the manifest): its stage, key, file and attempt."""
        record: dict[str, object] = {
            "kind": "stage",
            "item_id": job.item_id,
            "position": job.index,
            "stage": job.stage,
            "key": job.cache_key,
            "output": str(output),
            "cached": cached,
            "attempts": None if cached else job.attempt,
            "finished_at": utcnow().isoformat(),
        }
        with contextlib.suppress(OSError):  # a manifest that cannot be written loses a line
            self._manifest(item_job).append(record)

    async def adopt(self, job: Job) -> bool:
        """Take over an output a previous attempt finished before its runner died.

        The manifest records an output only after it is complete and in place, so an output
        the manifest says this item made with this exact config is whole; it is checked once
        more and, if valid, recorded instead of rendered again.
        """
        folder = job.final_output.parent
        if folder not in self._adoptable:  # read once per run, and only when retrying
            self._adoptable[folder] = read_manifest(folder)
        record = self._adoptable[folder].get(job.final_output.name)
        if record is None or record.get("item_id") != job.item_id:
            return False
        if record.get("config_hash") != job.config.fingerprint():
            return False
        # Checked within the item's own time limit: a hanging check must not hang the retry
        # (past it, the item is rendered again, under its timeout).
        adopted = False
        with anyio.move_on_after(job.config.timeout):
            try:
                await verify_output(job.final_output, job.config)
            except GeneratorError:
                return False
            adopted = True
        if not adopted:
            return False
        log = ItemLog(job.log_path)
        log.write(f"[batchtui: adopted the finished output {job.final_output}]", "batchtui")
        log.close()
        return True

    def _manifest(self, job: Job) -> Manifest:
        """The manifest of the job's batch folder, with this run's `run` record."""
        folder = os.path.dirname(os.fspath(job.final_output))
        entry = self._manifests.get(folder)
        if entry is not None and entry[0] is job.config:  # the same run: hashed once
            return entry[1]
        if entry is not None:
            entry[1].close()
        manifest = Manifest(
            job.final_output.parent,
            {
                "kind": "run",
                "started_at": self.run_started.isoformat(),
                "batch_id": job.batch_id,
                "batch_name": job.batch_name,
                "generator": self.generator_name,
                "config_hash": job.config.fingerprint(),
                "config": job.config.render_fields(),
            },
        )
        self._manifests[folder] = (job.config, manifest)
        return manifest

    @staticmethod
    def _record(job: Job, started: datetime, log: ItemLog, config_hash: str) -> dict[str, object]:
        """The manifest's line for this item's output (with its variables, when it has any:
        with the config's hash, what a series is re-made from)."""
        record: dict[str, object] = {
            "kind": "output",
            "output": job.final_output.name,
            "item_id": job.item_id,
            "position": job.index,
            "content": job.content,
            "attempts": job.attempt,
            "started_at": started.isoformat(),
            "finished_at": utcnow().isoformat(),
            "log": str(job.log_path) if log.exists else None,  # a quiet success has none
            "config_hash": config_hash,
        }
        if log.cost is not None:  # what the attempt that made it spent (its COST lines)
            record["cost"] = log.cost
        if job.vars:
            record["vars"] = dict(job.vars)
        if job.key is not None:
            record["key"] = job.key
        if job.variant is not None:
            record["variant"] = job.variant
            record["seed"] = job.seed
        return record


def _place_sidecars(job: Job) -> dict[str, str]:
    """Move the files the attempt wrote beside its output (a poster) into place with it; the
    manifest's fields for them (`poster`: its file name)."""
    placed: dict[str, str] = {}
    for suffix in SIDECARS:
        # As strings, not paths: asked after every item, and most items have none.
        source = _sidecar_name(os.fspath(job.output), suffix)
        if not os.path.exists(source):
            continue
        target = sidecar(job.final_output, suffix)
        os.replace(source, target)
        placed[suffix.strip(".").split(".")[0]] = target.name
    return placed


def _sidecar_name(output: str, suffix: str) -> str:
    """`sidecar(Path(output), suffix)` as a string: the stem as pathlib takes it (a leading
    dot or a trailing one is no suffix)."""
    folder, name = os.path.split(output)
    dot = name.rfind(".")
    stem = name[:dot] if 0 < dot < len(name) - 1 else name
    return os.path.join(folder, stem + suffix)


def cleanup(job: Job, log: ItemLog, *, moved: bool = False) -> None:
    """An attempt ended: close its log, remove a partial output (and what it wrote beside
    it); once the item succeeded (`moved`), its scratch folder too (a failed attempt leaves it
    for the next one)."""
    log.close()
    if not moved:  # a partial output never stays behind
        for path in (job.output, *(sidecar(job.output, suffix) for suffix in SIDECARS)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return
    # Only generators that need a scratch folder make one; asking first is cheaper than
    # rmtree's FileNotFoundError on every item.
    if os.access(job.scratch, os.F_OK):
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(job.scratch)
