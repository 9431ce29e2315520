"""The batchtui Textual app: a live view and control panel over one service.

The app holds the lifecycle (the first frame, then recovery and the one watcher), the
announcements of watched runs' ends, navigation and the command palette; what the user does
through a dialog is a flow in `flows/`, desktop integration is in `desktop.py`.

The app never owns a run. Starting or retrying a batch hands it to a detached runner process
(as `batchtui start --detach` does), so closing the terminal, dropping the SSH connection,
killing this process or closing a browser tab never stops a run; the app's one watcher
(`watcher.StoreWatcher`, through `service.follow`) follows the store and tells the screens.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..core.errors import BatchtuiError, ValidationError
from ..core.states import BatchStatus
from ..core.textsafe import one_line
from .messages import RunEnded
from .watcher import StoreWatcher

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from ..core.models import Batch
    from ..service import BatchService
    from ..service.follow import Snapshot

T = TypeVar("T")

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
        # ctrl+c quits as in every terminal program (asking first, as `q` does, while runs
        # started here go on); a priority binding, so a focused text field does not keep it.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
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
        self.stopping: set[str] = set()
        """Batches the user chose to stop on quitting (they are ending, not going on)."""
        self.crash: str | None = None
        """The traceback of the error that ended the app, if one did (a bug)."""
        self._held: list[Callable[[], None]] = []
        """Notifications raised while a dialog was up, shown once it closes."""
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

    def _handle_exception(self, error: Exception) -> None:
        """An unhandled error ends the app (Textual prints it); kept for the crash log."""
        if self.crash is None:
            self.crash = "".join(traceback.format_exception(error))
        super()._handle_exception(error)

    # --------------------------------------------------------------- helpers

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast; while a dialog is up it waits until the dialog closes, so that no toast
        covers a dialog's buttons and none times out unseen behind one."""
        show = partial(
            super().notify, message, title=title, severity=severity, timeout=timeout, markup=markup
        )
        if self._dialog_up():
            self._held.append(show)
        else:
            show()

    def release_held_notifications(self) -> None:
        """Show the toasts held while a dialog was up (unless another dialog is up now)."""
        if self._dialog_up():
            return
        held, self._held = self._held, []
        for show in held:
            show()

    def _dialog_up(self) -> bool:
        from .screens.dialog_base import Dialog

        try:
            return isinstance(self.screen, Dialog)
        except ScreenStackError:  # before the first screen, after the last
            return False

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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker is reported. Workers that may fail without ending
        the app (`exit_on_error=False`: the watcher's followers) say so here instead of
        stopping in silence; the others end the app with the traceback, as any bug does."""
        worker = event.worker
        if event.state is WorkerState.ERROR and not worker.exit_on_error:
            self.notify(
                f"{worker.name or 'a background task'} stopped by an internal error: "
                f"{one_line(repr(worker.error), 200)}",
                severity="error",
                markup=False,
                timeout=10,
            )

    # ------------------------------------------------------------ run ends

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
        """Notify (and ring) that a watched run ended, with what to do next."""
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

    # ------------------------------------------------------------ navigation

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
        """Live progress of a batch (unless it is already the screen shown)."""
        from .screens.progress import ProgressScreen

        if isinstance(self.screen, ProgressScreen) and self.screen.batch_id == batch_id:
            return
        self.push_screen(ProgressScreen(batch_id))

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        from .flows.quit import quit_app

        quit_app(self)

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
