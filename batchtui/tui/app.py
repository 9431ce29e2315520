"""The batchtui Textual app: a live view and control panel over one service.

The app never owns a run. Starting or retrying a batch hands it to a detached runner process
(as `batchtui start --detach` does), so closing the terminal, dropping the SSH connection,
killing this process or closing a browser tab never stops a run; the app's one watcher
(`watcher.StoreWatcher`, through `service.follow`) follows the store and tells the screens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..core.actions import require
from ..core.errors import BatchtuiError, TransitionError, ValidationError
from ..core.limits import MAX_COPY_BASE_CHARS, MAX_NAME_CHARS, MAX_TEMPLATE_NAME_CHARS
from ..core.states import BatchStatus
from ..core.textsafe import one_line
from .messages import RunEnded
from .watcher import StoreWatcher

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from ..core.models import Batch, BatchItem
    from ..service import BatchService
    from ..service.follow import Snapshot
    from ..service.runs import Detached
    from .screens.new_batch import NewBatch

T = TypeVar("T")

EXAMPLE_NAME = "Space Facts"
EXAMPLE_ITEMS = ("Why is space dark?", "What are black holes?", "How stars die")
LOCK_PATIENCE = 1.0
"""Seconds an action waits for a database another process holds locked before it says so: a
held lock costs the UI a moment, never a freeze."""


class BatchtuiApp(App[None]):
    """Batch list → item editor → live progress, over one service."""

    CSS_PATH = "app.tcss"
    TITLE = "batchtui"
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show keys and concepts"),
        Binding("q", "quit", "Quit", tooltip="Quit (runs go on in the background)"),
    ]

    def __init__(
        self,
        service: BatchService,
        *,
        poll_interval: float = 0.5,
        blink: bool = True,
        on_first_frame: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.blink = blink
        self.service = service
        service.set_lock_timeout(LOCK_PATIENCE)
        self.poll_interval = poll_interval
        self._on_first_frame = on_first_frame
        self.started_here: set[str] = set()
        """Batches this app handed to runners (quitting offers to stop those still running)."""
        self.watched: dict[str, str] = {}
        """Running batches started or watched here (id → name): their end is announced."""
        self._ended_runs: dict[str, datetime] = {}
        """When each watched run was seen to end (id → the batch's `updated_at` then)."""
        self.watcher = StoreWatcher(self)
        """The one follower of the store (through the service): screens ask it for the list
        or a batch, and it tells them of every change; a dead runner's run is ended."""
        self.watcher.on_snapshot = self._run_snapshot
        self.watcher.keep = self.watched.__contains__

    # ------------------------------------------------------------- lifecycle

    def clock(self) -> datetime:
        """Now, by the service's clock."""
        return self.service.clock()

    def on_mount(self) -> None:
        from .screens.batch_list import BatchListScreen

        self.push_screen(BatchListScreen())
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        if self._on_first_frame is not None:
            self._on_first_frame()
        self._recover_orphans()
        # From here the watcher follows the store; a runner killed while we watch (kill -9,
        # out of memory) has its run ended within seconds, and the screens showing it see so.
        self.watcher.start()

    def _recover_orphans(self) -> None:
        """End runs whose runner died (after the first frame: it needs the models)."""
        for batch in self.safe(self.service.recover_orphans) or []:
            self.broadcast(partial(RunEnded, batch))

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

    def broadcast(self, message_factory: Callable[[], Any]) -> None:
        """Post a fresh message to every screen on the stack."""
        for screen in self.screen_stack:
            screen.post_message(message_factory())

    def batch(self, batch_id: str) -> Batch | None:
        """The batch as stored now."""
        return self.safe(self.service.get, batch_id)

    def refused(self, batch: Batch, action: str) -> bool:
        """Whether `batch` (as stored now: read it first, never a screen's copy) refuses
        `action`; if so, say why. The reason is `require`'s, the words the operation itself
        would refuse with, without calling it: nothing is changed to explain a refusal."""
        try:
            require(batch, action)
        except TransitionError as exc:
            self.safe(_raise, exc)
            return True
        return False

    # ------------------------------------------------------------------ runs

    def request_start(self, batch_id: str, *, retry: bool = False) -> None:
        """Confirm, then hand the batch to a background runner and follow it here."""
        batch = self.batch(batch_id)
        if batch is None or self.refused(batch, "retry" if retry else "start"):
            return

        def chosen(where: str | None) -> None:
            if where is not None:  # '' runs here, even when BATCHTUI_CLUSTER names a farm
                self.start_background(batch_id, retry=retry, cluster=where or "local")

        from .screens.start_choice import StartScreen

        self.push_screen(StartScreen(batch, retry=retry), chosen)

    def start_background(
        self,
        batch_id: str,
        *,
        retry: bool = False,
        cluster: str | None = None,
        only: list[str] | None = None,
    ) -> bool:
        """Hand the batch to a detached runner that outlives this app (its items on the Dask
        scheduler `cluster`, or here; `only`: exactly these items again); follow it here. A
        render farm is checked first, off the event loop (that may take seconds): then this
        returns False and the run follows."""
        if cluster and cluster != "local":
            self.notify(f"checking the render farm at {one_line(cluster, 50)} …", markup=False)

            def check_and_start() -> None:
                try:
                    started = self.service.start_detached(
                        batch_id, retry=retry, cluster=cluster, only=only
                    )
                except BatchtuiError as exc:
                    self.call_from_thread(self.safe, _raise, exc)
                else:
                    self.call_from_thread(self._started, started, batch_id)

            self.run_worker(check_and_start, thread=True, group="start")
            return False
        started = self.safe(
            self.service.start_detached, batch_id, retry=retry, cluster=cluster, only=only
        )
        if started is None:
            return False
        self._started(started, batch_id)
        return True

    def rerun_item(self, batch: Batch, item: BatchItem) -> None:
        """Confirm, then run one item again on purpose (a succeeded one too) in a runner."""
        from .screens.dialogs import ConfirmScreen

        stored = self.batch(batch.id)  # `batch` is a screen's copy: it may be a poll behind
        if stored is None or self.refused(stored, "rerun"):
            return
        batch = stored
        replaced = "its output is replaced once the new render succeeds" if item.output_path else ""
        where = batch.runner.cluster if batch.runner and batch.runner.cluster else "local"

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_background(batch.id, retry=True, cluster=where, only=[item.id])

        self.push_screen(
            ConfirmScreen(
                f"Run item {item.position} again?",
                f"{one_line(item.content, 60)}\nA new render in a runner process"
                + (f"; {replaced}." if replaced else ".")
                + " The other items keep what they have.",
                yes="Run again",
                no="Not now",
            ),
            answered,
        )

    def copy_path(self, path: str, what: str) -> None:
        """Put a path on the clipboard with OSC 52 (it reaches the clipboard of the machine
        the terminal runs on, over SSH too, where the terminal allows it)."""
        self.copy_to_clipboard(path)
        self.notify(f"copied the {what} path: {one_line(path, 60)}", markup=False)

    def open_folder(self, folder: str) -> None:
        """Open a folder in the desktop's file manager; without a desktop (SSH), copy its
        path instead and say so."""
        opener = desktop_opener()
        if opener is None:
            self.copy_path(folder, "folder")
            self.notify("no desktop to open it on here (SSH?): its path is on the clipboard")
            return
        try:
            subprocess.Popen(  # never through a shell; its own session outlives us
                [opener, folder],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            self.notify(f"could not open {folder}: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"opened {one_line(folder, 60)}", markup=False)

    def watch_run(self, batch: Batch) -> None:
        """Say (once) when this PROCESSING batch's run ends, whatever screen is showing."""
        ended = self._ended_runs.get(batch.id)
        if batch.status is BatchStatus.PROCESSING and (ended is None or batch.updated_at > ended):
            self.watched[batch.id] = batch.name
            self.watcher.follow_run(batch.id)

    def _run_snapshot(self, snapshot: Snapshot) -> None:
        """A followed batch changed: a watched run that is no longer running is announced."""
        batch = snapshot.batch
        if batch.id not in self.watched or (
            batch.status is BatchStatus.PROCESSING and not snapshot.deleted
        ):
            return
        name = self.watched.pop(batch.id)
        # A screen may still be showing an older, running snapshot: not watched again for it.
        self._ended_runs[batch.id] = batch.updated_at
        if not snapshot.deleted:
            self.say_run_ended(batch, name)

    def say_run_ended(self, batch: Batch, name: str) -> None:
        progress = batch.progress()
        word = batch.status.value + (" (cancelled)" if batch.cancelled else "")
        severity: SeverityLevel = (
            "information" if batch.status is BatchStatus.COMPLETE else "warning"
        )
        self.notify(
            f"{progress.succeeded}/{progress.total} succeeded"
            + ("" if batch.status is BatchStatus.COMPLETE else " — r retries the rest"),
            title=f"{one_line(name, 40)}: {word}",
            severity=severity,
            markup=False,
            timeout=10,
        )
        self.bell()

    def _started(self, started: Detached, batch_id: str) -> None:
        self.started_here.add(started.batch.id)
        self.watch_run(started.batch)
        where = started.batch.runner.cluster if started.batch.runner else None
        farm = f" (items on {where})" if where else ""
        self.notify(
            f"{one_line(started.batch.name, 40)} runs in its own process (pid {started.pid})"
            f"{farm}; it goes on if you quit.",
            markup=False,
        )
        self.show_progress_instead_of_editor(batch_id)

    def show_progress_instead_of_editor(self, batch_id: str) -> None:
        """Open live progress; an editor of that batch underneath is closed first."""
        from .screens.item_editor import ItemEditorScreen

        if isinstance(self.screen, ItemEditorScreen) and self.screen.batch_id == batch_id:
            self.pop_screen()
        self.open_progress(batch_id)

    def running_started_here(self) -> list[Batch]:
        """Batches this app started that are still PROCESSING."""
        running = []
        for batch_id in sorted(self.started_here):
            batch = self.safe(self.service.find_by_id, batch_id)
            if batch is not None and batch.status is BatchStatus.PROCESSING:
                running.append(batch)
        return running

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
        """Ask, then cancel the batch (`batch` may be a screen's out-of-date copy: what is
        asked and refused is decided by the batch as stored now)."""
        from .screens.dialogs import ConfirmScreen

        stored = self.batch(batch.id)
        if stored is None or self.refused(stored, "cancel"):
            return
        batch = stored

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
        """Ask, then delete the batch. `batch` may be a screen's out-of-date copy: what is
        asked and refused is decided by the batch as stored now, and nothing is deleted
        without the dialog's yes."""
        from .screens.dialogs import ConfirmScreen

        stored = self.batch(batch.id)
        if stored is None or self.refused(stored, "delete"):
            return
        batch = stored

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
            if answer.template:  # its config and items (parameters at their defaults)
                batch = self.safe(self.service.create_from_template, answer.name, answer.template)
            else:
                batch = self.safe(self.service.create, answer.name, platform=answer.platform)
            if batch is not None:
                self.open_batch(batch.id)

        from .screens.new_batch import NewBatchScreen

        found = self.safe(self.service.templates)
        templates = [(t.name, t.description) for t in found[0]] if found else []
        summaries = self.safe(self.service.summaries) or []
        taken = {summary.name.casefold() for summary in summaries}
        self.push_screen(NewBatchScreen(templates, taken), created)

    def duplicate(self, batch_id: str, name: str) -> None:
        """Ask for a name (the source's, "(copy)"), then make a DRAFT from the batch."""
        from .screens.dialogs import PromptScreen

        def named(answer: str | None) -> None:
            if not answer:
                return
            made = self.safe(self.service.duplicate, batch_id, answer.strip())
            if made is not None:
                self.notify(
                    f"Created '{one_line(made.name, 40)}': {len(made.items)} items, the same "
                    "config — a DRAFT to change and lock",
                    markup=False,
                )
                self.open_batch(made.id)

        self.push_screen(
            PromptScreen(
                f"New batch from '{one_line(name, 40)}'",
                value=f"{name[:MAX_COPY_BASE_CHARS]} (copy)",
                max_length=MAX_NAME_CHARS,
                hint="Its config and items are copied; none of its runs or outputs.",
            ),
            named,
        )

    def save_as_template(self, batch: Batch) -> None:
        """Ask for a name, then save the batch's config and items as a template."""
        from .screens.dialogs import PromptScreen

        def named(name: str | None) -> None:
            if not name:
                return
            saved = self.safe(self.service.save_template, batch.id, name.strip())
            if saved is not None:
                self.notify(
                    f"saved template {saved.name} ({len(saved.items)} items): pick it in the "
                    "new-batch dialog (n)",
                    markup=False,
                )

        self.push_screen(
            PromptScreen(
                f"Save '{one_line(batch.name, 40)}' as a template",
                placeholder="template name, e.g. space-facts",
                max_length=MAX_TEMPLATE_NAME_CHARS,
                hint="Its config and items, kept as a TOML file a team can share.",
            ),
            named,
        )

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
        from .screens.dialogs import QuitChoice, QuitScreen

        running = self.running_started_here()
        if not running:
            self.exit()
            return

        def answered(choice: QuitChoice | None) -> None:
            if choice is None:
                return  # stay
            if choice == "stop":
                for batch in running:
                    self.safe(self.service.cancel, batch.id)
            self.exit()

        self.push_screen(QuitScreen([batch.name for batch in running]), answered)

    # ------------------------------------------------------- command palette

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every key binding of the current screen is also a palette command (those the
        selected batch allows: the same check as the footer's), titled with the footer's
        word first, so what the footer says is what the palette finds."""
        seen: set[str] = set()
        titles: set[str] = set()
        for binding in [*screen.BINDINGS, *self.BINDINGS]:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if binding.action in seen or binding.action.startswith("clear_"):
                continue
            seen.add(binding.action)
            target = screen if binding in screen.BINDINGS else self
            name = binding.action.split("(")[0]
            if target is screen and screen.check_action(name, ()) is False:
                continue
            key = (binding.key_display or binding.key.split(",")[0]).replace("question_mark", "?")
            title = binding.description
            if binding.tooltip and binding.tooltip.lower() != title.lower():
                title = f"{title}: {binding.tooltip}"
            titles.add(binding.description.lower())
            yield SystemCommand(
                title,
                f"key: {key}",
                partial(self.call_later, self.run_action, binding.action, target),
            )
        for command in super().get_system_commands(screen):
            if command.title.lower() not in titles:  # Textual's own Quit, Help: ours stand
                yield command


def desktop_opener() -> str | None:
    """The program that opens a folder on this machine's desktop, if it has one."""
    if sys.platform == "darwin":
        return shutil.which("open")
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return shutil.which("xdg-open")
    return None


def _raise(exc: BaseException) -> None:
    """Re-raise `exc` (so that `safe` reports an error caught on another thread)."""
    raise exc
