"""`BatchService`: the one door the CLI, the TUI (and later the API) go through.

Every mutation runs inside one repository transaction and validates before it changes anything,
so a refused operation leaves the database byte-for-byte as it was. The facade is cheap to
import and to make: the parts that need the models (pydantic) load on first use, so the TUI's
first frame (a list of summaries) is drawn before them.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable, Collection, Hashable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import ValidationError
from ..core.summary import BatchSummary
from ..store import Repository
from .context import ServiceContext

if TYPE_CHECKING:
    from ..core.models import Batch, BatchConfig, BatchItem, Progress
    from ..core.problems import Problem
    from ..runners.recorder import Listener
    from .editing import Editing
    from .follow import Follow, Snapshot
    from .reads import Reads
    from .runs import Detached, Runs
    from .templates import Template


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    from .validation import new_id

    return new_id()


class BatchService:
    """Create, edit, lock, run and inspect batches stored in one repository."""

    def __init__(
        self,
        repo: Repository | Path | str | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        id_factory: Callable[[], str] = _new_id,
        flush_interval: float = 0.25,
    ) -> None:
        if not isinstance(repo, Repository):
            repo = Repository(repo)
        self._ctx = ServiceContext(repo, clock, id_factory, flush_interval)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._ctx.clock

    def set_lock_timeout(self, seconds: float) -> None:
        """How long a change waits for a database another process holds locked before it is
        refused with BusyError (an interactive client wants a moment, not 15 s)."""
        self._ctx.repo.lock_timeout = seconds

    def generator_names(self) -> list[str]:
        """Every generator a batch can name: the built-ins and installed plugins."""
        from ..generators import available

        return available()

    @property
    def database_path(self) -> Path:
        """The database file this service works on."""
        return self._ctx.repo.path

    # The parts, made on first use (each import is paid when it is needed).

    @functools.cached_property
    def _reads(self) -> Reads:
        from .reads import Reads

        return Reads(self._ctx)

    @functools.cached_property
    def _editing(self) -> Editing:
        from .editing import Editing

        return Editing(self._ctx)

    @functools.cached_property
    def _runs(self) -> Runs:
        from .runs import Runs

        return Runs(self._ctx)

    @functools.cached_property
    def _follow(self) -> Follow:
        from .follow import Follow

        return Follow(self._ctx, self.recover_orphans)

    # ----------------------------------------------------------------- queries

    def check_readable(self) -> None:
        """Raise StoreError if the database exists but cannot be used (reads it once; the
        first listing then costs nothing more)."""
        self._ctx.repo.check_readable()

    def list_batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        return self._reads.list_batches()

    def summaries(self) -> list[BatchSummary]:
        """Every batch as a list shows it, oldest first (no models loaded)."""
        return self._reads.summaries()

    def indexed_summaries(self, oldest: int | None = None) -> list[BatchSummary]:
        """Every batch (or the `oldest` N) as the index last recorded it, unchecked against
        the batch files (a first frame's guess; `summaries` is the truth)."""
        return self._ctx.repo.indexed_summaries(oldest)

    def page(self, newest: int | None) -> tuple[list[BatchSummary], int]:
        """The newest N batches (None: all) as a list shows them, and how many there are
        (only those shown are summarised)."""
        return self._reads.page(newest)

    def broken(self) -> list[tuple[str, str]]:
        """(id, name) of batches too malformed to list, as the last listing found them
        (`get` of one says what is wrong; `delete` removes it)."""
        return self._ctx.repo.broken()

    def version(self) -> Hashable:
        """A token that changes whenever anything stored changes: poll it, then read."""
        return self._reads.version()

    def get(self, ref: str) -> Batch:
        """The batch an id, unique id prefix, name or unique name prefix refers to."""
        return self._reads.get(ref)

    def output_folder(self, batch: Batch) -> Path:
        """The folder a batch's outputs (and their logs and manifest) go to."""
        from ..engine.layout import batch_folder  # not at import: the UI's first frame is quick

        return batch_folder(batch.config, batch.id, batch.name)

    def find_by_id(self, batch_id: str) -> Batch | None:
        """One batch by its exact id, or None."""
        return self._reads.find_by_id(batch_id)

    def snapshot(self, batch_id: str) -> Batch | None:
        """One batch by exact id, shared and read-only (validated once per version of its
        file: for followers that poll, like the API's event streams)."""
        return self._ctx.repo.shared(batch_id)

    def progress_is_quick(self, batch_id: str) -> bool:
        """Whether `progress(batch_id)` (an exact id) answers from memory, without reading or
        validating the batch: a server may answer it on its event loop."""
        return self._ctx.repo.shared_is_current(batch_id)

    def progress(self, ref: str) -> Progress:
        """Counts per status, percent, elapsed and ETA."""
        return self._reads.progress(ref)

    def failed(self, ref: str) -> list[BatchItem]:
        """Items that did not succeed (with their reasons)."""
        return self._reads.failed(ref)

    def outputs(self, ref: str) -> list[BatchItem]:
        """Succeeded items with their output files."""
        return self._reads.outputs(ref)

    def item(self, ref: str, item_ref: str | int) -> BatchItem:
        """One item of a batch: an exact id, a 1-based position or a unique id prefix."""
        return self._reads.item(ref, item_ref)

    def is_running_here(self, batch_id: str) -> bool:
        """Whether this process is running the batch right now."""
        return "_runs" in self.__dict__ and self._runs.is_running_here(batch_id)

    # ---------------------------------------------------------------- editing

    def create(self, name: str, config: BatchConfig | None = None, **fields: Any) -> Batch:
        """A new DRAFT batch with `config` (or the defaults with `fields` changed)."""
        return self._editing.create(name, config, **fields)

    def duplicate(self, ref: str, name: str | None = None) -> Batch:
        """A new DRAFT batch with a copy of `ref`'s config and items, named `name` (default:
        "<name> (copy)")."""
        return self._editing.duplicate(ref, name)

    def same_name(self, name: str) -> list[str]:
        """Ids of the batches already named `name` (case and spacing aside)."""
        return self._editing.same_name(name)

    def create_from_template(
        self,
        name: str,
        template: str,
        parameters: dict[str, object] | None = None,
        **fields: Any,
    ) -> Batch:
        """A new DRAFT batch made by a template (its config, then `fields`; its items), all or
        nothing: a template whose items do not fit or are blank makes no batch."""
        from ..core.styles import DEFAULT_STYLE
        from .templates import load
        from .validation import check_content, make_config

        made, contents = load(template).make(parameters or {})
        merged = {**made, **{k: v for k, v in fields.items() if v is not None}}
        merged["style"] = merged.get("style") or DEFAULT_STYLE  # as `create` names one
        config = make_config(**merged)
        if len(contents) > config.max_items:
            raise ValidationError(
                f"template '{template}' makes {len(contents)} items but the batch holds at most "
                f"{config.max_items} (set max_items)"
            )
        for content in contents:
            check_content(content)
        batch = self._editing.create(name, config)
        if contents:
            self._editing.add_items(batch.id, contents)
            batch = self.get(batch.id)
        return batch

    def templates(self) -> tuple[list[Template], list[str]]:
        """Every template, and a one-line report for each malformed template file."""
        from .templates import list_all

        return list_all()

    def template(self, name: str) -> Template:
        """One template by name."""
        from .templates import load

        return load(name)

    def save_template(
        self, ref: str, name: str, *, description: str = "", overwrite: bool = False
    ) -> Template:
        """Save a batch's structure (config and items) as the template `name`."""
        from .templates import from_batch, save

        return save(from_batch(self.get(ref), name, description), overwrite=overwrite)

    def put_template(self, data: dict[str, Any], *, overwrite: bool = False) -> Template:
        """Save a template given as a document (name, description, config, parameters,
        items, count); returns it as its file reads back."""
        from .templates import from_document, save

        return save(from_document(data), overwrite=overwrite)

    def delete_template(self, name: str) -> Template:
        """Remove a template file."""
        from .templates import delete

        return delete(name)

    def add_rows(
        self, ref: str, path: str, pattern: str | None, *, kind: str | None = None
    ) -> list[BatchItem]:
        """Append one item per row of a CSV or JSONL file, `pattern` filled from its columns
        (None: the first column), all or nothing."""
        from .rows import contents_from_rows

        return self._editing.add_items(ref, contents_from_rows(path, pattern, kind))

    def delete(self, ref: str, *, remove_outputs: bool = False) -> Batch:
        """Forget a batch (refused while PROCESSING); its output files stay unless asked."""
        return self._editing.delete(ref, remove_outputs=remove_outputs)

    def rename(self, ref: str, name: str) -> Batch:
        """Give a DRAFT batch a new name."""
        return self._editing.rename(ref, name)

    def update_config(self, ref: str, **fields: Any) -> Batch:
        """Change config fields of a DRAFT batch (validated as a whole)."""
        return self._editing.update_config(ref, **fields)

    def add_items(self, ref: str, contents: Iterable[str]) -> list[BatchItem]:
        """Append items to a DRAFT batch; all or nothing."""
        return self._editing.add_items(ref, contents)

    def edit_item(self, ref: str, item_ref: str | int, content: str) -> BatchItem:
        """Replace one item's content (DRAFT only)."""
        return self._editing.edit_item(ref, item_ref, content)

    def remove_item(self, ref: str, item_ref: str | int) -> BatchItem:
        """Remove one item (DRAFT only); later items move up."""
        return self._editing.remove_item(ref, item_ref)

    def move_item(self, ref: str, item_ref: str | int, offset: int) -> BatchItem:
        """Move one item up (negative) or down (positive), clamped (DRAFT only)."""
        return self._editing.move_item(ref, item_ref, offset)

    def lock(self, ref: str) -> Batch:
        """Validate and freeze the config (DRAFT → LOCKED), recording its hash."""
        return self._editing.lock(ref)

    def lock_problems(self, ref: str) -> list[Problem]:
        """Every reason the batch could not be locked now (empty: it could); for saying so
        as soon as a value is saved, not only at lock."""
        return self._editing.lock_problems(ref)

    def unlock(self, ref: str) -> Batch:
        """Return a LOCKED batch to DRAFT so it can be edited."""
        return self._editing.unlock(ref)

    # ------------------------------------------------------------------- runs

    def begin(
        self,
        ref: str,
        *,
        retry: bool = False,
        detached: bool = False,
        log_path: str | None = None,
        cluster: str | None = None,
        only: Collection[str | int] | None = None,
    ) -> Batch:
        """Move a batch into PROCESSING for a run by this process (start or retry); its items
        run on the Dask scheduler `cluster` (None: `BATCHTUI_CLUSTER` if set; 'local': here).
        `only` (a retry): exactly these items (ids or positions), even succeeded ones."""
        return self._runs.begin(
            ref, retry=retry, detached=detached, log_path=log_path, cluster=cluster, only=only
        )

    def start_detached(
        self,
        ref: str,
        *,
        retry: bool = False,
        cluster: str | None = None,
        only: Collection[str | int] | None = None,
    ) -> Detached:
        """Begin a run and hand it to a new background runner (it outlives this process);
        `only` as for `begin`."""
        return self._runs.start_detached(ref, retry=retry, cluster=cluster, only=only)

    def hand_over(self, batch_id: str, pid: int) -> Batch:
        """Make runner `pid` on this host the owner of a batch this process began."""
        return self._runs.hand_over(batch_id, pid)

    async def run(
        self,
        batch_id: str,
        listener: Listener | None = None,
        *,
        handover_wait: float = 0.0,
        begun: Batch | None = None,
    ) -> Batch:
        """Run a begun batch in this process (this process is its runner)."""
        return await self._runs.run(batch_id, listener, handover_wait=handover_wait, begun=begun)

    async def start(
        self, ref: str, listener: Listener | None = None, *, cluster: str | None = None
    ) -> Batch:
        """LOCKED → PROCESSING → COMPLETE | PARTIAL | FAILED, driven by this process."""
        batch = self.begin(ref, cluster=cluster)
        return await self.run(batch.id, listener, begun=batch)

    async def retry(
        self,
        ref: str,
        listener: Listener | None = None,
        *,
        cluster: str | None = None,
        only: Collection[str | int] | None = None,
    ) -> Batch:
        """Run again, driven by this process, only the items that did not succeed (`only`:
        exactly these items, even succeeded ones)."""
        batch = self.begin(ref, retry=True, cluster=cluster, only=only)
        return await self.run(batch.id, listener, begun=batch)

    def set_concurrency(self, ref: str, value: int, *, relative: bool = False) -> Batch:
        """Change how many items run at once (`relative`: by `value` from the stored
        value); also while running."""
        return self._runs.set_concurrency(ref, value, relative=relative)

    def cancel(self, ref: str) -> Batch:
        """Stop a PROCESSING batch: waiting items are cancelled, running ones stopped."""
        return self._runs.cancel(ref)

    def cancel_all_here(self) -> None:
        """Cancel every run this process drives."""
        if "_runs" in self.__dict__:
            self._runs.cancel_all_here()

    def interrupt_all_here(self, reason: str) -> None:
        """Stop every run this process drives because it is going away (a signal)."""
        if "_runs" in self.__dict__:
            self._runs.interrupt_all_here(reason)

    # ---------------------------------------------------------------- following

    def follow(
        self,
        ref: str,
        *,
        poll: float | None = None,
        until_ended: bool = True,
        keepalive: float | None = None,
    ) -> AsyncGenerator[Snapshot, None]:
        """`async for snapshot in service.follow(ref)`: the batch now, then on each change,
        until it has ended (or is deleted); a dead runner's run is ended within seconds. See
        `service.follow`."""
        return self._follow.batch(ref, poll=poll, until_ended=until_ended, keepalive=keepalive)

    def follow_list(self, *, poll: float | None = None) -> AsyncGenerator[list[BatchSummary], None]:
        """`async for summaries in service.follow_list()`: every batch as a list shows it,
        now and on each change (dead runners' runs ended as for `follow`)."""
        return self._follow.batches(poll=poll)

    def current(self, ref: str) -> Batch:
        """The batch as stored now, shared and read-only, its runner's liveness checked
        first (at most once a second per process): for one-off looks by followers."""
        return self._follow.current(ref)

    def live_progress(self, ref: str) -> Progress:
        """`progress` as a follower sees it: its runner's liveness checked first."""
        return self._follow.progress(ref)

    def recover_orphans(self) -> list[Batch]:
        """End PROCESSING batches whose runner is gone: RUNNING items become INTERRUPTED.

        Every command asks; with no batch marked running (the usual case) nothing of the
        run machinery is even imported."""
        if not self._ctx.repo.any_running():
            return []
        return self._runs.recover_orphans()


def open_service(db: str | Path | None = None) -> BatchService:
    """The service on `db` (default: `$BATCHTUI_DB` or the user data folder)."""
    return BatchService(db)
