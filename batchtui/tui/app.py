"""The batchtui Textual app: screens, runs in workers, coalesced live updates, safe quitting.

Runs started here execute in Textual workers on the app's event loop (anyio over asyncio). The
engine's per-item events only mark a batch dirty; a short timer posts one `BatchUpdated` per
dirty batch to the screens, so a burst of a thousand events costs one redraw, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..core.errors import BatchtuiError, ValidationError
from ..core.states import BatchStatus
from ..core.textsafe import one_line
from .messages import BatchUpdated, RunEnded

if TYPE_CHECKING:
    from ..core.models import Batch
    from ..engine.events import EngineEvent
    from ..service.facade import BatchService
    from ..store import Repository
    from .screens.new_batch import NewBatch

T = TypeVar("T")

EXAMPLE_NAME = "Space Facts"
EXAMPLE_ITEMS = ("Why is space dark?", "What are black holes?", "How stars die")
RUN_GROUP = "runs"


class BatchtuiApp(App[None]):
    """Batch list → item editor → live progress, over one service."""

    CSS_PATH = "app.tcss"
    TITLE = "batchtui"
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show keys and concepts"),
        Binding("q", "quit", "Quit", tooltip="Quit (asks first while batches run)"),
    ]

    def __init__(
        self,
        service: BatchService | None = None,
        *,
        repo: Repository | None = None,
        tick: float = 0.15,
        poll_interval: float = 0.5,
        blink: bool = True,
    ) -> None:
        super().__init__()
        self.blink = blink
        if service is None and repo is None:
            raise TypeError("BatchtuiApp needs a service or a repository")
        self._service = service
        self.repo: Repository = service.repo if service is not None else repo  # type: ignore[assignment]
        self.tick = tick
        self.poll_interval = poll_interval
        self.live_batches: dict[str, Batch] = {}
        self._dirty: dict[str, set[str]] = {}  # batch id → ids of the items that changed
        self._seen_store: dict[int, tuple[int, int, int] | None] = {}
        self._quitting = False
        self._collect_after = False

    # ------------------------------------------------------------- lifecycle

    @property
    def service(self) -> BatchService:
        """The service, made on first use: the first frame (the batch list, from summaries)
        needs only the repository, so loading the models waits until it is on screen."""
        if self._service is None:
            from ..service.facade import BatchService

            self._service = BatchService(self.repo)
        return self._service

    def clock(self) -> datetime:
        """Now, by the service's clock once there is a service."""
        return self._service.clock() if self._service is not None else datetime.now(UTC)

    def on_mount(self) -> None:
        from .screens.batch_list import BatchListScreen

        # Until the first frame is on screen, no cycle collection: reading a large database
        # allocates enough to trigger a full one (~15 ms of 0.27 s, measured), and nothing
        # made meanwhile is cyclic garbage worth that wait.
        self._collect_after = gc.isenabled()
        gc.disable()
        self.push_screen(BatchListScreen())
        self.call_after_refresh(self._after_first_frame)

    def on_unmount(self) -> None:
        if self._collect_after:  # in case no frame was ever drawn
            gc.enable()

    def _after_first_frame(self) -> None:
        # What exists by now (Textual, the app, its first screen: ~80,000 objects) lives as
        # long as the app: frozen, it is left out of every full collection. Those come every
        # second or so in a large run (a rebuilt table leaves tens of thousands of objects in
        # cycles) and took 60-115 ms each, long enough to be felt as a missed key; frozen,
        # 15-70 ms (measured: bench/responsiveness.py, key p95 43 -> 26 ms).
        gc.freeze()
        if self._collect_after:
            gc.enable()
        self._recover_orphans()
        self.set_interval(self.tick, self._flush_updates)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop = asyncio.get_running_loop()
            # Textual installs no SIGHUP handler: an SSH drop would kill us without stopping
            # the children or recording their items.
            loop.add_signal_handler(signal.SIGHUP, self._hangup, signal.SIGHUP)
            loop.add_signal_handler(signal.SIGTERM, self._hangup, signal.SIGTERM)

    def _recover_orphans(self) -> None:
        """End runs whose runner died (after the first frame: it needs the models)."""
        for batch in self.safe(self.service.recover_orphans) or []:
            self.broadcast(partial(RunEnded, batch))

    def _hangup(self, signum: int) -> None:
        # The terminal is gone (or we were told to stop): stop our runs' children cleanly and
        # record their items INTERRUPTED. Background runs are not ours and go on.
        name = signal.Signals(signum).name
        self.service.interrupt_all_here(f"stopped: batchtui got {name}")
        self.call_later(self._stop_runs_and_exit, signum)

    # --------------------------------------------------------------- helpers

    def safe(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Call a service operation; show its error as a notification instead of raising."""
        try:
            return operation(*args, **kwargs)
        except ValidationError as exc:
            detail = "\n".join(f"• {one_line(p)}" for p in exc.problems)
            self.notify(detail, title=one_line(exc.message, 70), severity="error", markup=False)
        except BatchtuiError as exc:
            self.notify(one_line(str(exc)), severity="error", markup=False, timeout=6)
        return None

    def store_changed(self, screen: Screen) -> bool:
        """Whether the database file changed since `screen` last asked (cheap: one stat)."""
        signature = self.repo.signature()
        key = id(screen)
        changed = key not in self._seen_store or self._seen_store[key] != signature
        self._seen_store[key] = signature
        return changed

    def broadcast(self, message_factory: Callable[[], Any]) -> None:
        """Post a fresh message to every screen on the stack."""
        for screen in self.screen_stack:
            screen.post_message(message_factory())

    def batch(self, batch_id: str) -> Batch | None:
        """The freshest view of a batch: the live one if it runs here, else from the store."""
        if batch_id in self.live_batches:
            return self.live_batches[batch_id]
        return self.safe(self.service.get, batch_id)

    # ------------------------------------------------------------------ runs

    def request_start(self, batch_id: str, *, retry: bool = False) -> None:
        """Ask where to run (here or in the background), then start or retry the batch."""
        batch = self.batch(batch_id)
        if batch is None:
            return
        allowed = (BatchStatus.PARTIAL, BatchStatus.FAILED) if retry else (BatchStatus.LOCKED,)
        if batch.status not in allowed:
            self.safe(self.service.begin, batch_id, retry=retry)  # explains why not
            return

        def chosen(choice: str | None) -> None:
            if choice == "here":
                if self.start_run(batch_id, retry=retry, show=False):
                    self.show_progress_instead_of_editor(batch_id)
            elif choice == "background":
                self.start_background(batch_id, retry=retry)

        from .screens.start_choice import StartScreen

        self.push_screen(StartScreen(batch, retry=retry), chosen)

    def start_background(self, batch_id: str, *, retry: bool = False) -> bool:
        """Hand the batch to a detached runner that outlives this app; follow it here."""
        from ..runners.detached import start_detached

        started = self.safe(start_detached, self.service, batch_id, retry=retry)
        if started is None:
            return False
        self.notify(
            f"{one_line(started.batch.name, 40)} runs in the background (pid {started.pid}); "
            "it goes on if you quit.",
            markup=False,
        )
        self.show_progress_instead_of_editor(batch_id)
        return True

    def show_progress_instead_of_editor(self, batch_id: str) -> None:
        """Open live progress; an editor of that batch underneath is closed first."""
        from .screens.item_editor import ItemEditorScreen

        if isinstance(self.screen, ItemEditorScreen) and self.screen.batch_id == batch_id:
            self.pop_screen()
        self.open_progress(batch_id)

    def start_run(self, batch_id: str, *, retry: bool = False, show: bool = True) -> bool:
        """Start (or retry) a batch in a worker and, by default, show its progress."""
        batch = self.safe(self.service.begin, batch_id, retry=retry)
        if batch is None:
            return False
        self.live_batches[batch.id] = batch
        self.run_worker(
            self._run(batch.id),
            name=batch.id,
            group=RUN_GROUP,
            exit_on_error=False,
            description=f"run {batch.name}",
        )
        if show:
            self.open_progress(batch.id)
        return True

    async def _run(self, batch_id: str) -> Batch:
        ended = await self.service.run(batch_id, self.record_event)
        self.live_batches.pop(batch_id, None)
        self._dirty.pop(batch_id, None)
        self.broadcast(lambda: RunEnded(ended))
        severity = "information" if ended.status is BatchStatus.COMPLETE else "warning"
        progress = ended.progress()
        self.notify(
            f"{one_line(ended.name, 40)}: {ended.status.value} — "
            f"{progress.succeeded}/{progress.total} succeeded",
            severity=severity,
            markup=False,
        )
        return ended

    def record_event(self, event: EngineEvent, batch: Batch) -> None:
        """Engine listener: remember the batch changed; the tick redraws (coalescing bursts)."""
        self.live_batches[batch.id] = batch
        self._dirty.setdefault(batch.id, set()).add(event.item_id)

    def _flush_updates(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        with self.batch_update():
            for batch_id, items in dirty.items():
                batch = self.live_batches.get(batch_id)
                if batch is not None:
                    self.broadcast(partial(BatchUpdated, batch, frozenset(items)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed run is reported (the app never exits because of it)."""
        worker = event.worker
        if worker.group != RUN_GROUP or event.state is not WorkerState.ERROR:
            return
        self.live_batches.pop(worker.name, None)
        self.notify(
            f"run stopped by an internal error: {one_line(str(worker.error), 200)}",
            severity="error",
            markup=False,
            timeout=10,
        )
        self.safe(self.service.recover_orphans)

    def running_workers(self) -> list[Worker]:
        return [w for w in self.workers if w.group == RUN_GROUP and not w.is_finished]

    # --------------------------------------------------------------- actions

    def open_batch(self, batch_id: str) -> None:
        """Editor for DRAFT/LOCKED batches, live progress for the rest."""
        batch = self.batch(batch_id)
        if batch is None:
            return
        if batch.status in (BatchStatus.DRAFT, BatchStatus.LOCKED):
            from .screens.item_editor import ItemEditorScreen

            self.push_screen(ItemEditorScreen(batch.id))
        else:
            self.open_progress(batch.id)

    def open_progress(self, batch_id: str) -> None:
        from .screens.progress import ProgressScreen

        if isinstance(self.screen, ProgressScreen) and self.screen.batch_id == batch_id:
            return
        self.push_screen(ProgressScreen(batch_id))

    def lock(self, batch_id: str) -> Batch | None:
        batch = self.safe(self.service.lock, batch_id)
        if batch is not None:
            self.notify(
                f"Locked {one_line(batch.name, 40)} (hash {batch.config_hash}) — s to start",
                markup=False,
            )
        return batch

    def unlock(self, batch_id: str) -> Batch | None:
        batch = self.safe(self.service.unlock, batch_id)
        if batch is not None:
            self.notify(f"{one_line(batch.name, 40)} is a DRAFT again", markup=False)
        return batch

    def confirm_cancel(self, batch: Batch) -> None:
        from .screens.dialogs import ConfirmScreen

        if batch.status is not BatchStatus.PROCESSING:
            self.safe(self.service.cancel, batch.id)  # explains what is allowed instead
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.safe(self.service.cancel, batch.id)

        self.push_screen(
            ConfirmScreen(
                f"Cancel '{one_line(batch.name, 40)}'?",
                "Running items are stopped; waiting ones will not start. "
                "Retry later runs only what did not succeed.",
                yes="Cancel batch",
                no="Keep running",
            ),
            answered,
        )

    def confirm_delete(self, batch: Batch) -> None:
        from .screens.dialogs import ConfirmScreen

        if batch.status is BatchStatus.PROCESSING:
            self.safe(self.service.delete, batch.id)  # refused, with the reason
            return

        def answered(yes: bool | None) -> None:
            if yes and self.safe(self.service.delete, batch.id) is not None:
                self.notify(f"Deleted {one_line(batch.name, 40)}; its files are kept", markup=False)
                self.broadcast(lambda: RunEnded(batch))

        outputs = sum(1 for item in batch.items if item.output_path)
        self.push_screen(
            ConfirmScreen(
                f"Delete '{one_line(batch.name, 40)}'?",
                f"{len(batch.items)} items are forgotten; {outputs} output files on disk are kept.",
                yes="Delete",
                no="Keep",
            ),
            answered,
        )

    def action_new_batch(self) -> None:
        def created(answer: NewBatch | None) -> None:
            if answer is None:
                return
            batch = self.safe(self.service.create, answer.name, platform=answer.platform)
            if batch is not None:
                self.open_batch(batch.id)

        from .screens.new_batch import NewBatchScreen

        self.push_screen(NewBatchScreen(), created)

    def action_example_batch(self) -> None:
        batch = self.safe(self.service.create, EXAMPLE_NAME, platform="youtube_shorts")
        if batch is None:
            return
        self.safe(self.service.add_items, batch.id, list(EXAMPLE_ITEMS))
        self.notify(
            f"Created '{EXAMPLE_NAME}' with {len(EXAMPLE_ITEMS)} items — l to lock, s to start",
            markup=False,
        )
        select = getattr(self.screen, "select", None)
        if callable(select):
            select(batch.id)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        from .screens.dialogs import ConfirmScreen

        running = self.running_workers()
        if not running:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.service.cancel_all_here()
                self.call_later(self._stop_runs_and_exit)

        self.push_screen(
            ConfirmScreen(
                f"{len(running)} batch{'es' * (len(running) != 1)} still running. Quit?",
                "Running items are stopped cleanly and recorded as CANCELLED; retry resumes "
                "them later.",
                yes="Stop and quit",
                no="Keep running",
            ),
            answered,
        )

    async def _stop_runs_and_exit(self, signum: int | None = None) -> None:
        if self._quitting:
            return
        self._quitting = True
        await self.workers.wait_for_complete(self.running_workers())
        if signum == signal.SIGHUP:
            # No terminal left to restore, and Textual's input thread would spin on the dead
            # tty: everything is recorded, so leave at once.
            os._exit(128 + signum)
        self.exit()
        if signum is not None:  # a signal asked us to go: never linger if shutdown stalls
            timer = threading.Timer(5.0, os._exit, (128 + signum,))
            timer.daemon = True
            timer.start()

    # ------------------------------------------------------- command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every key binding of the current screen is also a palette command."""
        seen: set[str] = set()
        for binding in [*screen.BINDINGS, *self.BINDINGS]:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.action in seen or binding.action.startswith("clear_"):
                continue
            seen.add(binding.action)
            target = screen if binding in screen.BINDINGS else self
            key = (binding.key_display or binding.key.split(",")[0]).replace("question_mark", "?")
            yield SystemCommand(
                f"{binding.tooltip or binding.description}",
                f"key: {key}",
                partial(self.call_later, self.run_action, binding.action, target),
            )
        yield from super().get_system_commands(screen)
