"""The host's queue (`Q` on the batch list): what runs in which slot (and its GPU), who waits for
a slot and in what order, and the batches running here — as `batchtui queue` shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from ...core.symbols import seconds
from ...core.textsafe import one_line
from ..widgets.app_header import app_header
from .base import AppScreen

if TYPE_CHECKING:
    from textual.worker import Worker

REFRESH_SECONDS = 1.0
"""How often the view reads the queue again (the slot folder and the running batches)."""


def _ago(when: datetime | None, now: datetime) -> str:
    return seconds((now - when).total_seconds()) if when is not None else "—"


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
        yield Static("RUNNING", classes="queue-title")
        yield DataTable(id="queue-running", cursor_type="none", zebra_stripes=True)
        yield Static("WAITING FOR A SLOT (served in this order)", classes="queue-title")
        yield DataTable(id="queue-waiting", cursor_type="none", zebra_stripes=True)
        yield Static("BATCHES HERE", classes="queue-title")
        yield DataTable(id="queue-batches", cursor_type="none", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "host queue"
        columns = {
            "#queue-running": ("SLOT", "ENV", "BATCH", "ITEM", "FOR"),
            "#queue-waiting": ("#", "BATCH", "ITEM", "PRIORITY", "WAITING"),
            "#queue-batches": ("BATCH", "STATE", "PRIORITY", "RUNNING", "TO GO"),
        }
        for selector, names in columns.items():
            self.query_one(selector, DataTable).add_columns(*names)
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
        now = datetime.now(UTC)
        if queue.slots is None:
            limit = "no host limit (each batch runs its own concurrency)"
        else:
            limit = f"{queue.slots} slot{'s' if queue.slots != 1 else ''}, {queue.free} free"
        pools = "".join(f" · pool {n}: {size}" for n, size in sorted(queue.pools.items()))
        self.query_one("#queue-limit", Static).update(
            Text(one_line(f"host {queue.host}: {limit}{pools}"))
        )
        running = [
            (
                "—" if use.slot is None else str(use.slot),
                " ".join(f"{k}={v}" for k, v in sorted(use.env.items())) or "—",
                use.batch_name, use.item, _ago(use.since, now),
            )
            for use in queue.running
        ]  # fmt: skip
        waiting = [
            (
                str(w.position), w.batch_name or f"{w.batch_id} (another database)",
                w.item or "—", str(w.priority), _ago(w.asked_at, now),
            )
            for w in queue.waiting
        ]  # fmt: skip
        batches = [
            (b.name, b.state, str(b.priority), str(b.running), str(b.to_go)) for b in queue.batches
        ]
        for selector, rows in (
            ("#queue-running", running),
            ("#queue-waiting", waiting),
            ("#queue-batches", batches),
        ):
            table = self.query_one(selector, DataTable)
            table.clear()
            for row in rows:  # user text: inert, never markup
                table.add_row(*(Text(one_line(cell)) for cell in row))

    def action_back(self) -> None:
        self.dismiss()
