"""The app's one watcher of the store: it follows, through the service (`service.follow`,
`service.follow_list`: one cadence, change detection, runner liveness), the list and every
batch a screen shows or the app watches the end of, and posts what changed to the screens that
asked (`ListChanged`, `BatchChanged`: non-bubbling, coalesced). Screens never poll the store."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from typing import TYPE_CHECKING

from textual.worker import Worker, get_current_worker

from ..core.errors import BatchtuiError, NotFoundError
from ..core.textsafe import one_line
from .messages import BatchChanged, ListChanged

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from ..service.follow import Snapshot
    from .app import BatchtuiApp

BATCH_POLL = 0.25
"""Seconds between looks at a followed batch at most (its runner flushes every 0.25 s)."""

_LIST = ""
"""The key of the list's follower (batch ids are never empty)."""


class StoreWatcher:
    """Followers of the list and of batches, one per thing followed, for the whole app."""

    def __init__(self, app: BatchtuiApp) -> None:
        self.app = app
        self.started = False
        self._subscribers: dict[str, list[MessagePump]] = {}
        """Who gets the messages, per batch id (`_LIST`: the list)."""
        self._workers: dict[str, Worker[None]] = {}
        self.on_snapshot: Callable[[Snapshot], None] | None = None
        """Told of every snapshot of a followed batch (the app announces runs' ends)."""
        self.keep: Callable[[str], bool] = lambda batch_id: False
        """Whether a batch no screen shows is still followed (a watched run)."""

    def start(self) -> None:
        """Begin following what was asked for so far (after the first frame)."""
        self.started = True
        for key in list(self._subscribers):
            self._ensure(key)

    # -------------------------------------------------------- subscriptions

    def follow_list(self, screen: MessagePump) -> None:
        """Post `ListChanged` to `screen` on every change of the list."""
        self._subscribe(_LIST, screen)

    def follow_batch(self, screen: MessagePump, batch_id: str) -> None:
        """Post `BatchChanged` to `screen` on every change of this batch."""
        self._subscribe(batch_id, screen)

    def follow_run(self, batch_id: str) -> None:
        """Follow a batch no screen may show (a watched run's end is announced)."""
        self._subscribers.setdefault(batch_id, [])
        self._ensure(batch_id)

    def forget(self, screen: MessagePump) -> None:
        """`screen` wants nothing more; followers nobody needs stop."""
        for key, screens in list(self._subscribers.items()):
            if screen in screens:
                screens.remove(screen)
            self._stop_if_unwanted(key)

    def _subscribe(self, key: str, screen: MessagePump) -> None:
        screens = self._subscribers.setdefault(key, [])
        if screen not in screens:
            screens.append(screen)
        self._ensure(key)

    def _wanted(self, key: str) -> bool:
        return bool(self._subscribers.get(key)) or (key != _LIST and self.keep(key))

    def _stop_if_unwanted(self, key: str) -> None:
        if self._wanted(key):
            return
        self._subscribers.pop(key, None)
        worker = self._workers.pop(key, None)
        if worker is not None:
            worker.cancel()

    def _ensure(self, key: str) -> None:
        if not self.started or key in self._workers:
            return
        follow = self._follow_list() if key == _LIST else self._follow_batch(key)
        self._workers[key] = self.app.run_worker(
            follow, group="follow", name=f"follow {key or 'list'}", exit_on_error=False
        )

    # ------------------------------------------------------------ followers

    async def _follow_list(self) -> None:
        service = self.app.service
        try:
            async with aclosing(service.follow_list(poll=self.app.poll_interval)) as changes:
                async for summaries in changes:
                    for screen in self._subscribers.get(_LIST, ()):
                        screen.post_message(ListChanged(summaries))
        except BatchtuiError as exc:
            self._failed(_LIST, exc)

    async def _follow_batch(self, batch_id: str) -> None:
        service = self.app.service
        poll = min(self.app.poll_interval, BATCH_POLL)
        try:
            follow = service.follow(batch_id, poll=poll, until_ended=False)
            async with aclosing(follow) as snapshots:
                async for snapshot in snapshots:
                    for screen in self._subscribers.get(batch_id, ()):
                        screen.post_message(BatchChanged(snapshot))
                    if self.on_snapshot is not None:
                        self.on_snapshot(snapshot)
                    if snapshot.deleted or not self._wanted(batch_id):
                        break
        except BatchtuiError as exc:
            self._failed(batch_id, exc)
        finally:
            if self._workers.get(batch_id) is get_current_worker():
                del self._workers[batch_id]

    def _failed(self, key: str, exc: BatchtuiError) -> None:
        """A follower that cannot read the store says so once and stops (the screens' next
        action reads again, and says what is wrong)."""
        if self._workers.get(key) is get_current_worker():
            del self._workers[key]
        if not isinstance(exc, NotFoundError):  # gone: the screen's own read says so
            self.app.notify(one_line(str(exc)), severity="error", markup=False, timeout=6)
