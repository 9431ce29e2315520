"""Quitting: runs go on in their own processes, but those started here may be stopped first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.states import BatchStatus

if TYPE_CHECKING:
    from ...core.models import Batch
    from ..app import BatchtuiApp


def quit_app(app: BatchtuiApp) -> None:
    """Exit; with runs started here still going, ask first whether to stop them. A quit key
    (q, ctrl+c) pressed again on that question takes its default: leave them running."""
    from ..screens.dialogs import QuitChoice, QuitScreen

    if isinstance(app.screen, QuitScreen):
        app.screen.action_confirm()
        return
    running = running_started_here(app)
    if not running:
        app.exit()
        return

    def answered(choice: QuitChoice | None) -> None:
        if choice is None:
            return  # stay
        if choice == "stop":
            for batch in running:
                if app.safe(app.service.cancel, batch.id) is not None:
                    app.stopping.add(batch.id)  # said as stopping on exit, not as going on
        app.exit()

    app.push_screen(QuitScreen([batch.name for batch in running]), answered)


def running_started_here(app: BatchtuiApp) -> list[Batch]:
    """Batches this app started that are still PROCESSING."""
    running = []
    for batch_id in sorted(app.started_here):
        batch = app.safe(app.service.find_by_id, batch_id)
        if batch is not None and batch.status is BatchStatus.PROCESSING:
            running.append(batch)
    return running
