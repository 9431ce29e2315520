"""The use-cases: the one API the CLI and the TUI call (never TinyDB, never the engine directly).

Every mutation runs inside one repository transaction and validates before it changes anything,
so a refused operation leaves the database byte-for-byte as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pydantic

from ..core.errors import AmbiguousError, BusyError, NotFoundError, TransitionError, ValidationError
from ..core.models import (
    Batch,
    BatchConfig,
    BatchItem,
    BatchStatus,
    ItemStatus,
    Progress,
    require,
    utcnow,
)
from ..engine.liveness import kill_item_processes, same_process_alive
from ..engine.outputs import batch_folder, output_name
from ..engine.runner import Engine
from ..generators import Job, get_generator
from ..runners.recorder import Listener, RunRecorder, runner_info
from ..store import Repository, Transaction

MAX_CONTENT_CHARS = 100_000
# Linux refuses a single argv string over 128 KiB; keep content well inside it.
MAX_CONTENT_BYTES = 120 * 1024
STALE_RUNNER = timedelta(minutes=5)


def new_id() -> str:
    """A fresh 12-hex-digit id, never all decimal digits (those read as item positions)."""
    while True:
        candidate = secrets.token_hex(6)
        if not candidate.isdigit():
            return candidate


def clean_name(name: str) -> str:
    """A batch name with runs of whitespace folded; ValidationError if blank or too long."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError("batch name is blank")
    if len(name) > 200:
        raise ValidationError(f"batch name is too long ({len(name)} characters; at most 200)")
    return name


def _pydantic_message(exc: pydantic.ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "value"
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def make_config(**fields: Any) -> BatchConfig:
    """A validated BatchConfig; ValidationError with every problem on one line otherwise."""
    fields = {key: value for key, value in fields.items() if value is not None}
    try:
        return BatchConfig(**fields)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"invalid config: {_pydantic_message(exc)}") from None


def check_content(content: str) -> None:
    """Refuse item content that cannot be stored and passed on as one argument."""
    if not isinstance(content, str) or not content.strip():
        raise ValidationError("item content is blank; write a prompt or topic")
    if "\x00" in content:
        raise ValidationError("item content contains a NUL character, which no program can receive")
    if len(content) > MAX_CONTENT_CHARS or len(content.encode("utf-8", "surrogatepass")) > (
        MAX_CONTENT_BYTES
    ):
        raise ValidationError(
            f"item content is too long ({len(content):,} characters; at most "
            f"{MAX_CONTENT_CHARS:,} characters and {MAX_CONTENT_BYTES // 1024} KiB)"
        )
    try:
        content.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("item content is not valid text (unpaired surrogate)") from None


class BatchService:
    """Create, edit, lock, run and inspect batches stored in one repository."""

    def __init__(
        self,
        repo: Repository,
        *,
        clock: Callable[[], datetime] = utcnow,
        id_factory: Callable[[], str] = new_id,
        flush_interval: float = 0.25,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.new_id = id_factory
        self.flush_interval = flush_interval
        self._engines: dict[str, Engine] = {}

    # ----------------------------------------------------------------- queries

    def list_batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        return self.repo.all()

    def get(self, ref: str) -> Batch:
        """The batch an id, unique id prefix, name or unique name prefix refers to."""
        return self.repo.find(lambda index: self._resolve(ref, index))

    def progress(self, ref: str) -> Progress:
        """Counts per status, percent, elapsed and ETA."""
        return self.get(ref).progress(self.clock())

    def failed(self, ref: str) -> list[BatchItem]:
        """Items that did not succeed in an ended or running batch (with their reasons)."""
        failed = {ItemStatus.FAILED, ItemStatus.CANCELLED, ItemStatus.INTERRUPTED}
        return [item for item in self.get(ref).items if item.status in failed]

    def outputs(self, ref: str) -> list[BatchItem]:
        """Succeeded items with their output files."""
        return [
            item
            for item in self.get(ref).items
            if item.status is ItemStatus.SUCCEEDED and item.output_path
        ]

    def is_running_here(self, batch_id: str) -> bool:
        """Whether this process is running the batch right now."""
        return batch_id in self._engines

    # --------------------------------------------------------------- resolving

    @staticmethod
    def _resolve(ref: str, index: list[tuple[str, str]]) -> str:
        """The id of the one batch `ref` names among (id, name) pairs."""
        ref = ref.strip()
        if not ref:
            raise NotFoundError("no batch given; pass an id, an id prefix or a name")
        folded = ref.casefold()
        candidates: list[tuple[str, str]] = []
        # Most specific first: exact id, exact name, id prefix, name in any case, name start.
        for match in (
            lambda batch_id, name: batch_id == ref,
            lambda batch_id, name: name == ref,
            lambda batch_id, name: batch_id.startswith(ref.lower()),
            lambda batch_id, name: name.casefold() == folded,
            lambda batch_id, name: name.casefold().startswith(folded),
        ):
            candidates = [pair for pair in index if match(*pair)]
            if candidates:
                break
        if len(candidates) == 1:
            return candidates[0][0]
        if not candidates:
            raise NotFoundError(f"no batch matches '{ref}' (see: batchtui list)")
        listed = ", ".join(f"{batch_id} ({name})" for batch_id, name in candidates[:5])
        raise AmbiguousError(
            f"'{ref}' matches {len(candidates)} batches: {listed}; give more of the id"
        )

    def _in(self, tx: Transaction, ref: str) -> Batch:
        """The batch `ref` names, read inside `tx` (only that batch is validated)."""
        batch = tx.get(self._resolve(ref, tx.index()))
        assert batch is not None  # the id came from this transaction's own documents
        return batch

    @staticmethod
    def _resolve_item(batch: Batch, ref: str | int) -> BatchItem:
        text = str(ref).strip()
        for item in batch.items:  # an exact id always wins
            if item.id == text:
                return item
        if text.isascii() and text.isdigit():  # a number is a position (1-based), not a prefix
            position = int(text)
            if 1 <= position <= len(batch.items):
                return batch.items[position - 1]
            raise NotFoundError(
                f"batch '{batch.name}' has no item '{text}' (it has {len(batch.items)} items)"
            )
        matches = [item for item in batch.items if item.id.startswith(text.lower())] if text else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFoundError(
                f"batch '{batch.name}' has no item '{text}' (it has {len(batch.items)}; "
                "give a position or an item id prefix)"
            )
        raise AmbiguousError(f"'{text}' matches {len(matches)} items; give more of the id")

    def _mutate(self, ref: str, action: str, change: Callable[[Batch], Any]) -> Any:
        """Resolve, check the action is allowed, apply `change`, save — all under the lock."""
        with self.repo.transaction() as tx:
            batch = self._in(tx, ref)
            require(batch, action)
            result = change(batch)
            batch.updated_at = self.clock()
            tx.save(batch)
        return result

    # --------------------------------------------------------------- lifecycle

    def create(self, name: str, config: BatchConfig | None = None, **fields: Any) -> Batch:
        """A new DRAFT batch with `config` (or the defaults with `fields` changed)."""
        name = clean_name(name)
        if config is None:
            config = make_config(**fields)
        elif fields:
            config = make_config(**{**config.model_dump(), **fields})
        get_generator(config.generator)  # unknown generator: refuse now, not at lock
        now = self.clock()
        batch = Batch(id=self.new_id(), name=name, config=config, created_at=now, updated_at=now)
        with self.repo.transaction() as tx:
            tx.save(batch)
        return batch

    def delete(self, ref: str, *, remove_outputs: bool = False) -> Batch:
        """Forget a batch (refused while PROCESSING); its output files stay unless asked."""
        with self.repo.transaction() as tx:
            batch = self._in(tx, ref)
            require(batch, "delete")
            tx.delete(batch.id)
        if remove_outputs:
            shutil.rmtree(batch_folder(batch.config, batch.id, batch.name), ignore_errors=True)
        return batch

    def rename(self, ref: str, name: str) -> Batch:
        """Give a DRAFT batch a new name."""
        name = clean_name(name)

        def change(batch: Batch) -> Batch:
            batch.name = name
            return batch

        return self._mutate(ref, "edit", change)

    def update_config(self, ref: str, **fields: Any) -> Batch:
        """Change config fields of a DRAFT batch (validated as a whole)."""

        def change(batch: Batch) -> Batch:
            config = make_config(**{**batch.config.model_dump(), **fields})
            if config.max_items < len(batch.items):
                raise ValidationError(
                    f"max items {config.max_items} is below the {len(batch.items)} items "
                    f"the batch already has"
                )
            get_generator(config.generator)
            batch.config = config
            return batch

        return self._mutate(ref, "edit", change)

    def add_items(self, ref: str, contents: Iterable[str]) -> list[BatchItem]:
        """Append items to a DRAFT batch; all or nothing (blank or too many: none added)."""
        contents = list(contents)
        if not contents:
            raise ValidationError("no items given")
        for content in contents:
            check_content(content)

        def change(batch: Batch) -> list[BatchItem]:
            limit = batch.config.max_items
            if len(batch.items) + len(contents) > limit:
                room = limit - len(batch.items)
                raise ValidationError(
                    f"batch '{batch.name}' holds at most {limit} items; it has "
                    f"{len(batch.items)}, so {room} more fit, not {len(contents)} "
                    f"(raise it: batchtui config {batch.id} --max-items N)"
                )
            added = []
            for content in contents:
                item = BatchItem(id=self.new_id(), position=len(batch.items) + 1, content=content)
                batch.items.append(item)
                added.append(item)
            return added

        return self._mutate(ref, "edit", change)

    def edit_item(self, ref: str, item_ref: str | int, content: str) -> BatchItem:
        """Replace one item's content (DRAFT only)."""
        check_content(content)

        def change(batch: Batch) -> BatchItem:
            item = self._resolve_item(batch, item_ref)
            item.content = content
            return item

        return self._mutate(ref, "edit", change)

    def remove_item(self, ref: str, item_ref: str | int) -> BatchItem:
        """Remove one item (DRAFT only); later items move up."""

        def change(batch: Batch) -> BatchItem:
            item = self._resolve_item(batch, item_ref)
            batch.items.remove(item)
            _renumber(batch)
            return item

        return self._mutate(ref, "edit", change)

    def move_item(self, ref: str, item_ref: str | int, offset: int) -> BatchItem:
        """Move one item up (negative) or down (positive), clamped to the list (DRAFT only)."""

        def change(batch: Batch) -> BatchItem:
            item = self._resolve_item(batch, item_ref)
            index = batch.items.index(item)
            target = min(max(index + offset, 0), len(batch.items) - 1)
            batch.items.insert(target, batch.items.pop(index))
            _renumber(batch)
            return item

        return self._mutate(ref, "edit", change)

    def validate(self, batch: Batch) -> list[str]:
        """Every reason this batch cannot be locked (empty when it can)."""
        problems: list[str] = []
        config = batch.config
        if not batch.items:
            problems.append(f"batch '{batch.name}' has no items; add at least one")
        if len(batch.items) > config.max_items:
            problems.append(f"{len(batch.items)} items exceed the maximum of {config.max_items}")
        preset = config.preset
        if config.duration > preset.max_duration:
            problems.append(
                f"duration {config.duration:g}s exceeds {preset.label}'s limit of "
                f"{preset.max_duration:g}s"
            )
        try:
            generator = get_generator(config.generator)
        except ValidationError as exc:
            problems.append(str(exc))
        else:
            problems.extend(generator.check(config))
        problem = _folder_problem(Path(config.output_dir))
        if problem:
            problems.append(problem)
        return problems

    def lock(self, ref: str) -> Batch:
        """Validate and freeze the config (DRAFT → LOCKED), recording its hash."""

        def change(batch: Batch) -> Batch:
            problems = self.validate(batch)
            if problems:
                summary = problems[0] if len(problems) == 1 else "; ".join(problems)
                raise ValidationError(f"cannot lock '{batch.name}': {summary}", problems)
            batch.status = BatchStatus.LOCKED
            batch.locked_at = self.clock()
            batch.config_hash = batch.config.fingerprint()
            return batch

        return self._mutate(ref, "lock", change)

    def unlock(self, ref: str) -> Batch:
        """Return a LOCKED batch to DRAFT so it can be edited."""

        def change(batch: Batch) -> Batch:
            batch.status = BatchStatus.DRAFT
            batch.locked_at = None
            batch.config_hash = None
            return batch

        return self._mutate(ref, "unlock", change)

    def set_concurrency(self, ref: str, value: int) -> Batch:
        """Change how many items run at once; takes effect at once when running."""
        if not isinstance(value, int) or not 1 <= value <= 64:
            raise ValidationError(f"concurrency must be between 1 and 64, not {value}")

        def change(batch: Batch) -> Batch:
            batch.config.concurrency = value
            return batch

        batch = self._mutate(ref, "concurrency", change)
        engine = self._engines.get(batch.id)
        if engine is not None:
            engine.set_concurrency(value)
        return batch

    def cancel(self, ref: str) -> Batch:
        """Stop a PROCESSING batch: waiting items are cancelled, running ones stopped."""

        def change(batch: Batch) -> Batch:
            batch.cancel_requested = True
            return batch

        batch = self._mutate(ref, "cancel", change)
        engine = self._engines.get(batch.id)
        if engine is not None:
            engine.cancel()
        return batch

    # ------------------------------------------------------------------ running

    def begin(
        self,
        ref: str,
        *,
        retry: bool = False,
        detached: bool = False,
        log_path: str | None = None,
    ) -> Batch:
        """Move a batch into PROCESSING for a run by this process (start or retry).

        Exactly one process wins this (it happens under the database lock); any other is told
        who owns the batch. A detached run is begun here and then handed to its runner.
        """
        self.recover_orphans()

        def change(batch: Batch) -> Batch:
            if retry:
                todo = [it for it in batch.items if it.status is not ItemStatus.SUCCEEDED]
                if not todo:
                    raise ValidationError(f"batch '{batch.name}' has nothing to retry")
            elif batch.config_hash != batch.config.fingerprint():
                raise ValidationError(
                    f"batch '{batch.name}' config changed since it was locked; unlock and lock it"
                )
            generator = get_generator(batch.config.generator)
            problems = generator.check(batch.config)
            folder = _folder_problem(Path(batch.config.output_dir))
            if folder:
                problems.append(folder)
            if problems:
                raise ValidationError(f"cannot run '{batch.name}': {'; '.join(problems)}")
            now = self.clock()
            for item in batch.items:
                if item.status is not ItemStatus.SUCCEEDED:
                    item.status = ItemStatus.PENDING
                    item.error = None
                    item.progress = 0.0
                    item.output_path = None
            batch.status = BatchStatus.PROCESSING
            batch.started_at = now
            batch.finished_at = None
            batch.cancel_requested = False
            batch.runner = runner_info(now, detached=detached, log_path=log_path)
            return batch

        try:
            return self._mutate(ref, "retry" if retry else "start", change)
        except TransitionError:
            current = self.get(ref)
            if current.status is BatchStatus.PROCESSING and current.runner is not None:
                raise TransitionError(
                    f"batch '{current.name}' is already being processed by "
                    f"{current.runner.describe(self.clock())} — watch it: batchtui attach "
                    f"{current.id}; stop it: batchtui cancel {current.id}"
                ) from None
            raise

    def jobs(self, batch: Batch) -> list[Job]:
        """The jobs a run of `batch` has to do: its PENDING items, in order."""
        config = batch.config
        generator = get_generator(config.generator)
        ext = generator.output_ext(config)
        # One join onto an already parsed folder per path (a join parses only the new part):
        # this runs for every item before the first one can start.
        folder = batch_folder(config, batch.id, batch.name)
        work, logs = folder / ".work", folder / "logs"
        jobs = []
        for item in batch.items:
            if item.status is not ItemStatus.PENDING:
                continue
            name = output_name(item.position, item.content, config.max_items, ext)
            stem, suffix = os.path.splitext(name)
            attempt = item.attempts + 1
            jobs.append(
                Job(
                    batch_id=batch.id,
                    batch_name=batch.name,
                    item_id=item.id,
                    index=item.position,
                    total=len(batch.items),
                    content=item.content,
                    attempt=attempt,
                    config=config,
                    output=folder / f".{stem}.part{attempt}{suffix}",
                    final_output=folder / name,
                    scratch=work / item.id,
                    log_path=logs / f"{stem}.log",
                )
            )
        return jobs

    def hand_over(self, batch_id: str, pid: int) -> Batch:
        """Make process `pid` (a detached runner on this host) the owner of a PROCESSING batch
        this process began."""
        with self.repo.transaction() as tx:
            batch = tx.get(batch_id)
            if batch is None or batch.status is not BatchStatus.PROCESSING or not batch.runner:
                raise NotFoundError(f"batch '{batch_id}' is not waiting for a runner")
            if batch.runner.pid != os.getpid():
                raise BusyError(f"batch '{batch.name}' belongs to pid {batch.runner.pid}")
            batch.runner = runner_info(
                self.clock(), pid, detached=True, log_path=batch.runner.log_path
            )
            tx.save(batch)
        return batch

    async def _await_ownership(self, batch_id: str, patience: float) -> Batch:
        """The batch, once its runner record names this process (a detached runner may start
        before its parent has handed the batch over)."""
        with anyio.move_on_after(patience):
            while True:
                batch = self.repo.get(batch_id)
                if batch is None:
                    raise NotFoundError(f"no batch '{batch_id}'")
                runner = batch.runner
                if runner is not None and runner.pid == os.getpid():
                    return batch
                if batch.status is not BatchStatus.PROCESSING:
                    break
                await anyio.sleep(0.05)
        raise BusyError(f"batch '{batch_id}' was not handed to this runner (pid {os.getpid()})")

    async def run(
        self,
        batch_id: str,
        listener: Listener | None = None,
        *,
        handover_wait: float = 0.0,
        begun: Batch | None = None,
    ) -> Batch:
        """Run a PROCESSING batch that `begin` handed to this process; returns the ended batch.

        `begun` is what `begin` returned, when this process called it: the batch as stored, so
        it is not read and validated again (10,000 items: ~0.15 s).
        """
        if handover_wait:
            await self._await_ownership(batch_id, handover_wait)
        batch = begun if begun is not None and not handover_wait else self.repo.get(batch_id)
        if batch is None:
            raise NotFoundError(f"no batch '{batch_id}'")
        if batch.status is not BatchStatus.PROCESSING:
            raise ValidationError(f"batch '{batch.name}' is {batch.status.value}, not PROCESSING")
        generator = get_generator(batch.config.generator)
        recorder = RunRecorder(self.repo, batch, self.clock, listener, self.flush_interval)
        engine = Engine(generator, recorder.apply, concurrency=batch.config.concurrency)
        self._engines[batch.id] = engine
        jobs = self.jobs(batch)
        _remove_partials(jobs)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(recorder.flush_loop, engine)
                try:
                    await engine.run(jobs)
                finally:
                    tg.cancel_scope.cancel()
        finally:
            self._engines.pop(batch.id, None)
            with anyio.CancelScope(shield=True):
                batch = recorder.finish()
            _remove_empty(batch_folder(batch.config, batch.id, batch.name) / ".work")
        return batch

    async def start(self, ref: str, listener: Listener | None = None) -> Batch:
        """LOCKED → PROCESSING → COMPLETE | PARTIAL | FAILED, in this process."""
        batch = self.begin(ref)
        return await self.run(batch.id, listener, begun=batch)

    async def retry(self, ref: str, listener: Listener | None = None) -> Batch:
        """Run again only the items that did not succeed."""
        batch = self.begin(ref, retry=True)
        return await self.run(batch.id, listener, begun=batch)

    def cancel_all_here(self) -> None:
        """Cancel every run this process is driving (the user asked: items become CANCELLED)."""
        for engine in list(self._engines.values()):
            engine.cancel()

    def interrupt_all_here(self, reason: str) -> None:
        """Stop every run this process drives because the process is going away (a signal):
        running items are stopped cleanly and recorded INTERRUPTED, for retry to resume."""
        for engine in list(self._engines.values()):
            engine.cancel(interrupt=True, reason=reason)

    def recover_orphans(self) -> list[Batch]:
        """End PROCESSING batches whose runner is gone: RUNNING items become INTERRUPTED."""
        now = self.clock()
        host = socket.gethostname()

        def orphaned(batch: Batch) -> bool:
            if batch.status is not BatchStatus.PROCESSING or batch.id in self._engines:
                return False
            runner = batch.runner
            if runner is None:
                return True
            if runner.host == host and runner.pid == os.getpid():
                return False  # begun here; the run is about to start
            if runner.host == host and not same_process_alive(runner.pid, runner.token):
                return True
            return now - runner.heartbeat > STALE_RUNNER

        snapshot = [b for b in self.repo.processing() if orphaned(b)]
        if not snapshot:
            return []
        recovered = []
        with self.repo.transaction() as tx:
            for stale in snapshot:
                batch = tx.get(stale.id)
                if batch is None or not orphaned(batch):
                    continue
                running = [it.id for it in batch.items if it.status is ItemStatus.RUNNING]
                if batch.runner is not None and batch.runner.host == host:
                    kill_item_processes(running)  # children the dead runner left behind
                batch.end_run(now, "its runner stopped (killed, crashed or rebooted)")
                tx.save(batch)
                recovered.append(batch)
        return recovered


def _remove_partials(jobs: list[Job]) -> None:
    """Delete half-written outputs that earlier, interrupted attempts left behind (one listing
    of the folder, not one per item)."""
    if not jobs:
        return
    folder = jobs[0].final_output.parent
    stems = {f".{job.final_output.stem}.part" for job in jobs}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.startswith(".") and ".part" in name and name[: name.index(".part") + 5] in stems:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def _renumber(batch: Batch) -> None:
    for position, item in enumerate(batch.items, start=1):
        item.position = position


def _folder_problem(folder: Path) -> str | None:
    """Why outputs cannot be written under `folder` (created if missing), or None."""
    if folder.exists() and not folder.is_dir():
        return f"output folder {folder} is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"output folder {folder} cannot be created: {exc.strerror}"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".batchtui-write-test-"):
            pass
    except OSError:
        return f"output folder {folder} is not writable"
    return None


__all__ = ["BatchService", "check_content", "make_config", "new_id"]
