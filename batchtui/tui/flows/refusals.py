"""Refusals explained without side effects: a flow reads the batch as stored now (never a
screen's copy, which may be a poll behind) and asks `core.actions.require`, whose words are
the ones the operation itself would refuse with, without calling the operation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.actions import require
from ...core.errors import TransitionError

if TYPE_CHECKING:
    from ...core.models import Batch
    from ..app import BatchtuiApp


def refused(app: BatchtuiApp, batch: Batch, action: str) -> bool:
    """Whether `batch` (as stored now: read it first, never a screen's copy) refuses
    `action`; if so, say why. The reason is `require`'s, the words the operation itself
    would refuse with, without calling it: nothing is changed to explain a refusal."""
    try:
        require(batch, action)
    except TransitionError as exc:
        report(app, exc)
        return True
    return False


def stored_unless_refused(app: BatchtuiApp, batch_id: str, action: str) -> Batch | None:
    """The batch as stored now, if it exists and allows `action` (else None, and why is said)."""
    stored = app.batch(batch_id)
    if stored is None or refused(app, stored, action):
        return None
    return stored


def report(app: BatchtuiApp, exc: BaseException) -> None:
    """Show an error the way every failed service call is shown (`BatchtuiApp.safe`)."""
    app.safe(_raise, exc)


def _raise(exc: BaseException) -> None:
    """Re-raise `exc` (so that `safe` reports an error caught elsewhere, another thread)."""
    raise exc
