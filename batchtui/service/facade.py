"""`BatchService`: the one door the CLI, the TUI and the API go through.

Every mutation runs inside one repository transaction and validates before it changes anything,
so a refused operation leaves the database byte-for-byte as it was.

The use cases live in the parts (`Reads`, `Editing`, `Runs`, `Templating`, `Follow`, sharing
one `ServiceContext`), each stated once there: its signature and docstring. Here each is one
line, `name = delegate(lambda s: s._part.method)`, which makes `service.name` the part's bound
method, typed as it (see `delegate`). Only what combines parts or is the facade's own (its
making, the lock timeout) is written out below.

The facade is cheap to import and to make: the parts are made on first use, and those that
need the models (pydantic) import them then, so the TUI's first frame (a list of summaries) is
drawn before them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..store import Repository
from .context import ServiceContext
from .delegate import delegate

if TYPE_CHECKING:
    from ..core.models import Batch, BatchItem
    from ..runners.recorder import Listener
    from .announcing import Announcing
    from .cache import CacheUses
    from .deferred import Deferrals
    from .editing import Editing
    from .follow import Follow
    from .host_queue import HostQueueReads
    from .pausing import Pausing
    from .quality import Quality
    from .reads import Reads
    from .reviewing import Reviewing
    from .runs import Runs
    from .templating import Templating


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
        """What the service takes the time from (the current time, unless a test says)."""
        return self._ctx.clock

    def set_lock_timeout(self, seconds: float) -> None:
        """How long a change waits for a database another process holds locked before it is
        refused with BusyError (an interactive client wants a moment, not 15 s)."""
        self._ctx.repo.lock_timeout = seconds

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
    def _deferrals(self) -> Deferrals:
        from .deferred import Deferrals

        return Deferrals(self._ctx, self._runs)

    @functools.cached_property
    def _cache(self) -> CacheUses:
        from .cache import CacheUses

        return CacheUses(self._ctx)

    @functools.cached_property
    def _announcing(self) -> Announcing:
        from .announcing import Announcing

        return Announcing(self._ctx)

    @functools.cached_property
    def _reviewing(self) -> Reviewing:
        from .reviewing import Reviewing

        return Reviewing(self._ctx)

    @functools.cached_property
    def _quality(self) -> Quality:
        from .quality import Quality

        return Quality(self._ctx)

    @functools.cached_property
    def _host_queue(self) -> HostQueueReads:
        from .host_queue import HostQueueReads

        return HostQueueReads(self._ctx)

    @functools.cached_property
    def _pausing(self) -> Pausing:
        from .pausing import Pausing

        return Pausing(self._ctx, self._runs)

    @functools.cached_property
    def _templating(self) -> Templating:
        from .templating import Templating

        return Templating(self._ctx, self._editing)

    @functools.cached_property
    def _follow(self) -> Follow:
        from .follow import Follow

        return Follow(self._ctx, self.recover_orphans)

    # ----------------------------------------------------------------- queries

    check_readable = delegate(lambda s: s._reads.check_readable)
    list_batches = delegate(lambda s: s._reads.list_batches)
    summaries = delegate(lambda s: s._reads.summaries)
    indexed_summaries = delegate(lambda s: s._reads.indexed_summaries)
    page = delegate(lambda s: s._reads.page)
    broken = delegate(lambda s: s._reads.broken)
    version = delegate(lambda s: s._reads.version)
    get = delegate(lambda s: s._reads.get)
    host_queue = delegate(lambda s: s._host_queue.host_queue)
    caches = delegate(lambda s: s._cache.caches)
    prune_caches = delegate(lambda s: s._cache.prune_caches)
    deliver_outbox = delegate(lambda s: s._announcing.deliver_outbox)
    notify_test = delegate(lambda s: s._announcing.notify_test)
    deliveries = delegate(lambda s: s._announcing.deliveries)
    resend_deliveries = delegate(lambda s: s._announcing.resend_deliveries)
    new_webhook_secret = delegate(lambda s: s._announcing.new_webhook_secret)
    find_by_id = delegate(lambda s: s._reads.find_by_id)
    failed = delegate(lambda s: s._reads.failed)
    outputs = delegate(lambda s: s._reads.outputs)
    item = delegate(lambda s: s._reads.item)
    item_log = delegate(lambda s: s._reads.item_log)
    picture = delegate(lambda s: s._reads.picture)
    thumbnail = delegate(lambda s: s._reads.thumbnail)
    output_folder = delegate(lambda s: s._reads.output_folder)
    generator_names = delegate(lambda s: s._reads.generator_names)
    review = delegate(lambda s: s._reviewing.review)
    approved = delegate(lambda s: s._reviewing.approved)
    export = delegate(lambda s: s._reviewing.export)
    qa_report = delegate(lambda s: s._quality.qa_report)

    # ---------------------------------------------------------------- editing

    create = delegate(lambda s: s._editing.create)
    duplicate = delegate(lambda s: s._editing.duplicate)
    same_name = delegate(lambda s: s._editing.same_name)
    delete = delegate(lambda s: s._editing.delete)
    rename = delegate(lambda s: s._editing.rename)
    update_config = delegate(lambda s: s._editing.update_config)
    run_settings = delegate(lambda s: s._editing.run_settings)
    add_items = delegate(lambda s: s._editing.add_items)
    edit_item = delegate(lambda s: s._editing.edit_item)
    remove_item = delegate(lambda s: s._editing.remove_item)
    move_item = delegate(lambda s: s._editing.move_item)
    remove_items = delegate(lambda s: s._editing.remove_items)
    restore_items = delegate(lambda s: s._editing.restore_items)
    move_items = delegate(lambda s: s._editing.move_items)
    lock = delegate(lambda s: s._editing.lock)
    lock_problems = delegate(lambda s: s._editing.lock_problems)
    unlock = delegate(lambda s: s._editing.unlock)

    def add_rows(
        self,
        ref: str,
        path: str,
        pattern: str | None,
        *,
        kind: str | None = None,
        content_column: str | None = None,
        notes: list[str] | None = None,
    ) -> list[BatchItem]:
        """Append one item per row of a CSV or JSONL file, `pattern` filled from its columns
        (or the column `content_column`; neither: the first column), each column a variable
        of its item and a `key` column its key; all or nothing. `notes` gets a line per column
        not kept as a variable (it still fills the pattern)."""
        from .rows import items_from_rows

        contents, variables, keys = items_from_rows(path, pattern, kind, content_column, notes)
        return self._editing.add_items(ref, contents, variables, keys)

    # -------------------------------------------------------------- templates

    templates = delegate(lambda s: s._templating.templates)
    template = delegate(lambda s: s._templating.template)
    save_template = delegate(lambda s: s._templating.save_template)
    put_template = delegate(lambda s: s._templating.put_template)
    delete_template = delegate(lambda s: s._templating.delete_template)
    create_from_template = delegate(lambda s: s._templating.create_from_template)
    import_manifest = delegate(lambda s: s._templating.import_manifest)

    # ------------------------------------------------------------------- runs

    begin = delegate(lambda s: s._runs.begin)
    start_detached = delegate(lambda s: s._runs.start_detached)
    hand_over = delegate(lambda s: s._runs.hand_over)
    run = delegate(lambda s: s._runs.run)
    set_concurrency = delegate(lambda s: s._runs.set_concurrency)
    set_priority = delegate(lambda s: s._runs.set_priority)
    cancel = delegate(lambda s: s._runs.cancel)
    confirm = delegate(lambda s: s._runs.confirm)
    pause = delegate(lambda s: s._pausing.pause)
    resume = delegate(lambda s: s._pausing.resume)
    toggle_pause = delegate(lambda s: s._pausing.toggle)
    pause_host = delegate(lambda s: s._pausing.pause_host)
    resume_host = delegate(lambda s: s._pausing.resume_host)
    host_pause = delegate(lambda s: s._pausing.host_pause)
    queue_start = delegate(lambda s: s._deferrals.queue)
    wait_turn = delegate(lambda s: s._deferrals.wait_turn)
    take_up_deferred = delegate(lambda s: s._deferrals.take_up)

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
        rejected: bool = False,
    ) -> Batch:
        """Run again, driven by this process, only the items that did not succeed (`only`:
        exactly these items, even succeeded ones; `rejected`: the items whose output was
        rejected, each as a new take)."""
        batch = self.begin(ref, retry=True, cluster=cluster, only=only, rejected=rejected)
        return await self.run(batch.id, listener, begun=batch)

    # Asked of every service on the way out: a process that never ran anything here has no
    # runs part to ask, and making one (importing the run machinery) would be wasted.

    def is_running_here(self, batch_id: str) -> bool:
        """Whether this process is running the batch right now."""
        return "_runs" in self.__dict__ and self._runs.is_running_here(batch_id)

    def cancel_all_here(self) -> None:
        """Cancel every run this process drives (the user asked: items become CANCELLED)."""
        if "_runs" in self.__dict__:
            self._runs.cancel_all_here()

    def interrupt_all_here(self, reason: str) -> None:
        """Stop every run this process drives because it is going away (a signal)."""
        if "_runs" in self.__dict__:
            self._runs.interrupt_all_here(reason)

    def recover_orphans(self) -> list[Batch]:
        """End PROCESSING batches whose runner is gone: RUNNING items become INTERRUPTED.

        Every command asks; with no batch marked running (the usual case) nothing of the
        run machinery is even imported. Deferred starts whose waiting process died are taken
        up here too (`take_up_deferred`): never a batch left QUEUED with nobody waiting; and
        news in the outbox with no courier delivering it gets one."""
        recovered = self._runs.recover_orphans() if self._ctx.repo.any_running() else []
        if self._ctx.repo.queued_ids():
            self._deferrals.take_up()
        from ..runners.notify.outbox import outbox_folder, pending  # (stdlib only: cheap)

        if pending(outbox_folder(self._ctx.repo.path)):  # news a dead runner left undelivered
            from ..runners.notify.courier_start import ensure_courier

            ensure_courier(self._ctx.repo.path)
        return recovered

    # ---------------------------------------------------------------- following

    follow = delegate(lambda s: s._follow.batch)
    follow_list = delegate(lambda s: s._follow.batches)
    current = delegate(lambda s: s._follow.current)
    progress = delegate(lambda s: s._follow.progress)
    progress_on_loop = delegate(lambda s: s._follow.progress_on_loop)


def open_service(db: str | Path | None = None) -> BatchService:
    """The service on `db` (default: `$BATCHTUI_DB` or the user data folder)."""
    return BatchService(db)
