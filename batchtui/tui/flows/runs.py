"""Run flows: start or retry a batch (asking where it runs), run one item again, cancel.

The app never owns a run: a started batch is handed to a detached runner process that
outlives the app, and the app follows it (`BatchtuiApp.watch_run`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core.errors import BatchtuiError
from ...core.textsafe import one_line
from .refusals import report, stored_unless_refused

if TYPE_CHECKING:
    from ...core.models import Batch, BatchItem
    from ...service.runs import Detached
    from ..app import BatchtuiApp


def request_start(app: BatchtuiApp, batch_id: str, *, retry: bool = False) -> None:
    """Confirm, then hand the batch to a background runner and follow it here."""
    batch = stored_unless_refused(app, batch_id, "retry" if retry else "start")
    if batch is None:
        return

    def chosen(where: str | None) -> None:
        if where is not None:  # '' runs here, even when BATCHTUI_CLUSTER names a farm
            start_background(app, batch_id, retry=retry, cluster=where or "local")

    from ..screens.start_choice import StartScreen

    app.push_screen(StartScreen(batch, retry=retry), chosen)


def start_background(
    app: BatchtuiApp,
    batch_id: str,
    *,
    retry: bool = False,
    cluster: str | None = None,
    only: list[str] | None = None,
    one_of_many: bool = False,
    rejected: bool = False,
) -> bool:
    """Hand the batch to a detached runner that outlives the app (its items on the Dask
    scheduler `cluster`, or here; `only`: exactly these items again); follow it here; unless
    `one_of_many` (a bulk start: the list stays, and says it once), say so and open its
    progress. A render farm is checked first, off the event loop (that may take seconds):
    then this returns False and the run follows."""
    service = app.service
    if cluster and cluster != "local":
        app.notify(f"checking the render farm at {one_line(cluster, 50)} …", markup=False)

        def check_and_start() -> None:
            try:
                started = service.start_detached(
                    batch_id, retry=retry, cluster=cluster, only=only, rejected=rejected
                )
            except BatchtuiError as exc:
                app.call_from_thread(report, app, exc)
            else:
                app.call_from_thread(_started, app, started, batch_id, one_of_many=one_of_many)

        app.run_worker(check_and_start, thread=True, group="start")
        return False
    started = app.safe(
        service.start_detached, batch_id, retry=retry, cluster=cluster, only=only, rejected=rejected
    )
    if started is None:
        return False
    _started(app, started, batch_id, one_of_many=one_of_many)
    return True


def rerun_items(
    app: BatchtuiApp,
    batch: Batch,
    items: list[BatchItem],
    then: Callable[[], None] = lambda: None,
) -> None:
    """Confirm, then run `items` again on purpose (succeeded ones too) in a runner; `then`
    once they were handed over."""
    from ..screens.dialogs import ConfirmScreen

    stored = stored_unless_refused(app, batch.id, "rerun")  # `batch`: maybe a poll behind
    if stored is None:
        return
    batch = stored
    where = last_cluster(batch)
    if len(items) == 1:
        item = items[0]
        question = f"Run item {item.label} again?"
        what = f"{one_line(item.content, 60)}\nA new render in a runner process"
        kept = "its output is replaced once the new render succeeds" if item.output_path else ""
    else:
        question = f"Run {len(items)} items again?"
        shown = ", ".join(item.label for item in items[:12])
        shown += f" and {len(items) - 12} more" if len(items) > 12 else ""
        what = f"Items {shown}: new renders in a runner process"
        outputs = sum(1 for item in items if item.output_path)
        kept = (
            f"the {outputs} outputs they have are replaced once theirs succeed" if outputs else ""
        )

    def answered(yes: bool | None) -> None:
        if yes:
            ids = [item.id for item in items]
            start_background(app, batch.id, retry=True, cluster=where, only=ids)
            then()

    app.push_screen(
        ConfirmScreen(
            question,
            what + (f"; {kept}." if kept else ".") + " The other items keep what they have.",
            yes="Run again",
            no="Not now",
        ),
        answered,
    )


def last_cluster(batch: Batch) -> str:
    """Where the batch's last run ran: its render farm, or "local" (a retry goes there too)."""
    return batch.runner.cluster if batch.runner and batch.runner.cluster else "local"


def confirm_cancel(app: BatchtuiApp, batch: Batch) -> None:
    """Ask, then cancel the batch (`batch` may be a screen's out-of-date copy: what is
    asked and refused is decided by the batch as stored now)."""
    from ..screens.dialogs import ConfirmScreen

    stored = stored_unless_refused(app, batch.id, "cancel")
    if stored is None:
        return
    batch = stored

    def answered(yes: bool | None) -> None:
        if yes:
            app.safe(app.service.cancel, batch.id)

    app.push_screen(
        ConfirmScreen(
            f"Cancel '{one_line(batch.name, 40)}'?",
            "Running items are stopped; waiting ones will not start. "
            "Retry later runs only what did not succeed.",
            yes="Cancel batch",
            no="Keep running",
        ),
        answered,
    )


def _started(
    app: BatchtuiApp, started: Detached, batch_id: str, *, one_of_many: bool = False
) -> None:
    app.started_here.add(started.batch.id)
    app.watch_run(started.batch)
    if one_of_many:
        return
    where = started.batch.runner.cluster if started.batch.runner else None
    farm = f" (items on {where})" if where else ""
    app.notify(
        f"{one_line(started.batch.name, 40)} runs in its own process (pid {started.pid})"
        f"{farm}; it goes on if you quit.",
        markup=False,
    )
    show_progress_instead_of_editor(app, batch_id)


def show_progress_instead_of_editor(app: BatchtuiApp, batch_id: str) -> None:
    """Open live progress; an editor of that batch underneath is closed first."""
    from ..screens.item_editor import ItemEditorScreen

    if isinstance(app.screen, ItemEditorScreen) and app.screen.batch_id == batch_id:
        app.pop_screen()
    app.open_progress(batch_id)
