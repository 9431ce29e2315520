"""What a user may do to a batch in each state: one table that the service enforces and the
CLI, the TUI (footer, palette, dialogs) and the HTTP API all read.

No pydantic here: the TUI's first frame decides its footer from this table before the models
are loaded.
"""

from __future__ import annotations

from typing import Protocol

from .errors import TransitionError
from .states import ENDED_BATCH, BatchStatus


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def status(self) -> BatchStatus: ...


ACTIONS: dict[str, frozenset[BatchStatus]] = {
    "edit": frozenset({BatchStatus.DRAFT}),
    "lock": frozenset({BatchStatus.DRAFT}),
    # FAILED → DRAFT too: no item succeeded, so a config that was wrong is fixed in the editor
    # (every item runs again from the start); PARTIAL keeps its outputs and is retried instead.
    "unlock": frozenset({BatchStatus.LOCKED, BatchStatus.FAILED}),
    "start": frozenset({BatchStatus.LOCKED}),
    "retry": frozenset({BatchStatus.PARTIAL, BatchStatus.FAILED}),
    # Chosen items again, on purpose (a succeeded one too): once a run has ended.
    "rerun": ENDED_BATCH,
    "cancel": frozenset({BatchStatus.PROCESSING}),
    # Drain (or freeze) a run; resume it. `resume` of an ended batch is a retry (the CLI's
    # old meaning), so it is allowed where a retry is; a running batch must be paused.
    "pause": frozenset({BatchStatus.PROCESSING}),
    "resume": frozenset({BatchStatus.PROCESSING, BatchStatus.PARTIAL, BatchStatus.FAILED}),
    "delete": frozenset(set(BatchStatus) - {BatchStatus.PROCESSING}),
    "concurrency": frozenset({BatchStatus.DRAFT, BatchStatus.LOCKED, BatchStatus.PROCESSING}),
    # A queue setting, kept for the next run: any time.
    "priority": frozenset(BatchStatus),
    # A yes to the canary's forecast (the run waits for it: `confirm_forecast`).
    "confirm": frozenset({BatchStatus.PROCESSING}),
    # Who hears of a run (webhooks, notify, on_end…) and its budget: any time, a running
    # one's too (its runner reads them as it goes); never part of what the lock froze.
    "announce": frozenset(BatchStatus),
    # A verdict on a succeeded item's output: where one can have succeeded, mid-run too (the
    # runner keeps the people's reviews as it writes). A FAILED batch has no success.
    "review": frozenset({BatchStatus.PROCESSING, *ENDED_BATCH} - {BatchStatus.FAILED}),
}
"""Each user operation, and the batch states that allow it."""

# What a user in a given state should do next, to end a refusal with a way forward.
_NEXT_STEP: dict[BatchStatus, str] = {
    BatchStatus.DRAFT: "add items and lock it first",
    BatchStatus.LOCKED: "unlock it to edit, or start it",
    BatchStatus.PROCESSING: "cancel it first, or wait for it to finish",
    BatchStatus.COMPLETE: "it is finished; run chosen items again (retry --item) or duplicate it",
    BatchStatus.PARTIAL: "retry it to re-run the items that did not succeed",
    BatchStatus.FAILED: "retry it to re-run the items, or unlock it to change the config",
}

_ACTION_WORDS = {
    "edit": "editing items or config",
    "lock": "locking",
    "unlock": "unlocking",
    "start": "starting",
    "retry": "retrying",
    "rerun": "running chosen items again",
    "cancel": "cancelling",
    "pause": "pausing",
    "resume": "resuming",
    "delete": "deleting",
    "concurrency": "changing concurrency",
    "priority": "changing priority",
    "announce": "changing who hears of its runs or its budget",
    "confirm": "confirming a forecast",
    "review": "reviewing outputs",
}


def allowed(action: str, status: BatchStatus) -> bool:
    """Whether `action` (a key of `ACTIONS`) is allowed for a batch in `status`."""
    return status in ACTIONS[action]


def actions_for(status: BatchStatus) -> frozenset[str]:
    """Every action a batch in `status` allows."""
    return frozenset(action for action, states in ACTIONS.items() if status in states)


def require(batch: _Named, action: str) -> None:
    """Raise `TransitionError` unless `action` is allowed in the batch's current state."""
    states = ACTIONS[action]
    if batch.status in states:
        return
    needs = " or ".join(s.value for s in BatchStatus if s in states)
    raise TransitionError(
        f"batch '{batch.name}' is {batch.status.value}; {_ACTION_WORDS[action]} needs "
        f"{needs} — {_NEXT_STEP[batch.status]}"
    )
