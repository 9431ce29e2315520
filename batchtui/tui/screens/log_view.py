"""One item's log, full screen, following it like `tail -f` (the pane on the progress screen
is five lines: an error with a traceback needs the whole terminal)."""

from __future__ import annotations

import os

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from ...core.models import BatchItem
from ...core.states import TERMINAL_ITEM
from ...core.textsafe import one_line
from ..messages import BatchChanged
from ..widgets.app_header import app_header
from ..widgets.log_search import LogSearch
from ..widgets.log_tail import LogTail
from .base import AppScreen


class LogScreen(AppScreen):
    """The whole log of one item; escape goes back."""

    HELP_TITLE = "log"
    BINDINGS = [
        Binding("escape,q", "back", "Back", tooltip="Back to the item list"),
        Binding("end,G", "follow", "Follow", tooltip="Jump to the end and follow new lines"),
        Binding("home,g", "top", "Top", tooltip="Jump to the first line (stops following)"),
    ]

    def __init__(self, batch_id: str, item: BatchItem, *, search: bool = False) -> None:
        super().__init__()
        self.batch_id = batch_id
        self.item = item
        self.search_first = search
        """Open with the search box (`/` on the progress screen)."""
        self._search_ready = False
        self._typed: list[events.Key] = []
        """Keys typed for the search box before it was there (see `type_into_search`)."""

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static(id="log-view-title")
        yield LogTail(id="log-view")
        yield LogSearch("log-view")
        yield Footer()

    async def on_mount(self) -> None:
        self._show()
        self.query_one(LogTail).focus()
        self.set_interval(0.3, self._poll)
        if self.search_first:
            box = self.query_one(LogSearch)
            box.open()
            while self._typed:  # (a key may be added while one is taken)
                await box.take_key(self._typed.pop(0))
            self._search_ready = True

    async def type_into_search(self, key: events.Key) -> None:
        """A key that came in the same read as the `/` that opened this screen: it reached
        the screen below, and is the search box's (kept until the box is there)."""
        if not self._search_ready:
            self._typed.append(key)
        else:
            await self.query_one(LogSearch).take_key(key)
        if self.item.log_path is None:  # it gets its log once it starts
            self.bt.watcher.follow_batch(self, self.batch_id)

    def on_unmount(self) -> None:
        self.bt.watcher.forget(self)

    @on(BatchChanged)
    def _changed(self, message: BatchChanged) -> None:
        if self.item.log_path is None and message.batch_id == self.batch_id:
            items = message.snapshot.batch.items
            self.item = next((i for i in items if i.id == self.item.id), self.item)
            if self.item.log_path is not None:
                self._show()
                self.bt.watcher.forget(self)

    def _poll(self) -> None:
        self.query_one(LogTail).poll()

    def _show(self) -> None:
        item = self.item
        name = os.path.basename(item.log_path) if item.log_path else "not started yet"
        self.sub_title = f"log of item {item.label}"
        self.query_one("#log-view-title", Static).update(
            Text(f"item {item.label}: {one_line(item.content, 50)} — {name}", style="dim")
        )
        self.query_one(LogTail).follow(item.log_path, ended=item.status in TERMINAL_ITEM)

    def action_back(self) -> None:
        self.dismiss()

    def action_follow(self) -> None:
        self.query_one(LogTail).action_scroll_end()

    def action_top(self) -> None:
        self.query_one(LogTail).action_scroll_home()
