"""The host's queue (`Q` on the batch list): what runs in which slot (and its GPU), who waits for
a slot and in what order, and the batches running here — as `batchtui queue` shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from ...core.textsafe import one_line
from ..widgets.app_header import app_header
from .base import AppScreen

if TYPE_CHECKING:
    from textual.worker import Worker

REFRESH_SECONDS = 1.0
"""How often the view reads the queue again (the slot folder and the running batches)."""


TABLES = ("running", "waiting", "batches")
"""The view's tables, in the order the service gives them."""


class QueueScreen(AppScreen):
    """This host's slots, the line for them, and the batches running here; escape goes back."""

    HELP_TITLE = "host queue"
    BINDINGS = [Binding("escape,q", "back", "Back", tooltip="Back to the batch list")]
    DEFAULT_CSS = """
    QueueScreen DataTable { height: auto; max-height: 12; margin-bottom: 1; }
    QueueScreen .queue-title { text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static(id="queue-limit")
        for name in TABLES:
            yield Static(id=f"queue-{name}-title", classes="queue-title")
            yield DataTable(id=f"queue-{name}", cursor_type="none", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "host queue"
        self._read()
        self.set_interval(REFRESH_SECONDS, self._read)

    def _read(self) -> None:
        self.run_worker(self.bt.service.host_queue, thread=True, exclusive=True, name="queue")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.name != "queue" or not worker.is_finished:
            return
        if worker.error is not None:
            self.query_one("#queue-limit", Static).update(
                Text(one_line(f"cannot read the queue: {worker.error}"), style="red")
            )
            return
        self._show(worker.result)

    def _show(self, queue: Any) -> None:
        """Draw the service's HostQueue: its headline and its three tables."""
        self.query_one("#queue-limit", Static).update(Text(one_line(queue.headline)))
        for name, shown in zip(TABLES, queue.tables(datetime.now(UTC)), strict=True):
            self.query_one(f"#queue-{name}-title", Static).update(Text(shown.title))
            table = self.query_one(f"#queue-{name}", DataTable)
            if not table.columns:
                table.add_columns(*shown.columns)
            table.clear()
            for row in shown.rows:  # user text: inert, never markup
                table.add_row(*(Text(one_line(cell)) for cell in row))

    def action_back(self) -> None:
        self.dismiss()
