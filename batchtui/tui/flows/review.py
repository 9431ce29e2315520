"""Review flows: approve or reject outputs (the item under the cursor, or the marked ones),
and make the rejected ones again as new takes.

Every decision is the stored batch's (a screen's copy may be a poll behind), and every
refusal is the service's own one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core.limits import MAX_NOTE_CHARS
from ...core.review import rejected_items, review_counts, reviewable_problem
from ...core.textsafe import one_line
from .refusals import stored_unless_refused

if TYPE_CHECKING:
    from ...core.models import Batch, BatchItem
    from ..app import BatchtuiApp


def _reviewable(app: BatchtuiApp, batch_id: str, item_ids: list[str]) -> list[BatchItem] | None:
    """The named items as stored, if each has an output to review (else None, said)."""
    stored = stored_unless_refused(app, batch_id, "review")
    if stored is None:
        return None
    chosen = [item for item in stored.items if item.id in set(item_ids)]
    if not chosen:
        app.notify("no item chosen to review", severity="warning")
        return None
    problems = [p for p in (reviewable_problem(item) for item in chosen) if p]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        app.notify(problems[0] + more, severity="warning", markup=False)
        return None
    return chosen


def _said(app: BatchtuiApp, batch: Batch | None, what: str) -> None:
    if batch is None:
        return
    counts = review_counts(batch.items).words()
    app.notify(f"{what} · {counts}", markup=False)


def approve(
    app: BatchtuiApp, batch_id: str, item_ids: list[str], then: Callable[[], None] = lambda: None
) -> None:
    """Approve the outputs of the items `item_ids` (no question: a verdict is changed as
    easily); `then` once done."""
    chosen = _reviewable(app, batch_id, item_ids)
    if chosen is None:
        return
    ids = [item.id for item in chosen]
    if app.safe(app.service.review, batch_id, ids, "approve") is None:
        return
    what = f"item {chosen[0].label} approved" if len(chosen) == 1 else f"{len(chosen)} approved"
    _said(app, app.batch(batch_id), what)
    then()


def reject(
    app: BatchtuiApp, batch_id: str, item_ids: list[str], then: Callable[[], None] = lambda: None
) -> None:
    """Ask why (a one-line note, optional), then reject the outputs of `item_ids`."""
    from ..screens.dialogs import PromptScreen

    chosen = _reviewable(app, batch_id, item_ids)
    if chosen is None:
        return
    ids = [item.id for item in chosen]
    if len(chosen) == 1:
        title = f"Reject item {chosen[0].label}: {one_line(chosen[0].content, 40)}"
    else:
        title = f"Reject {len(chosen)} items"

    def answered(note: str | None) -> None:
        if note is None:  # escape: nothing rejected
            return
        if app.safe(app.service.review, batch_id, ids, "reject", note or None) is None:
            return
        what = f"item {chosen[0].label} rejected" if len(chosen) == 1 else f"{len(chosen)} rejected"
        _said(app, app.batch(batch_id), what + " (r makes them again)")
        then()

    app.push_screen(
        PromptScreen(
            title,
            placeholder="why, in one line (optional): too dark, wrong voice…",
            hint="enter rejects · escape changes nothing",
            max_length=MAX_NOTE_CHARS,
            ok="Reject",
            allow_empty=True,
        ),
        answered,
    )


def retake_rejected(app: BatchtuiApp, batch_id: str) -> None:
    """Ask, then make the rejected outputs again (each a new take, in a runner process)."""
    from ..screens.dialogs import ConfirmScreen
    from .runs import last_cluster, start_background

    stored = stored_unless_refused(app, batch_id, "rerun")
    if stored is None:
        return
    rejected = rejected_items(stored.items)
    if not rejected:
        app.notify("no rejected output to make again", severity="warning")
        return
    shown = ", ".join(item.label for item in rejected[:12])
    shown += f" and {len(rejected) - 12} more" if len(rejected) > 12 else ""
    where = last_cluster(stored)

    def answered(yes: bool | None) -> None:
        if yes:
            start_background(app, batch_id, retry=True, cluster=where, rejected=True)

    count = len(rejected)
    app.push_screen(
        ConfirmScreen(
            f"Make the {count} rejected item{'s' * (count != 1)} again?",
            f"{'Item' if count == 1 else 'Items'} {shown}: each a new take with a new seed, in "
            "a runner process. The "
            "rejected outputs are kept (as NN-topic.v1) until the new ones are approved.",
            yes="Make again",
        ),
        answered,
    )
