"""Bulk flows: retry, run again, cancel, delete or duplicate several batches at once (the
ones marked in the list).

Each reads the batches as stored now and sorts them with `core.actions.require` (the words the
operation itself would refuse with, nothing changed to find them): the ones that can take the
action, and a reason for each of the others. A destructive action asks first, naming how many
and which (and which are refused, and why); then the others act and one notice says what
happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from ...core.actions import require
from ...core.errors import BatchtuiError, TransitionError
from ...core.textsafe import one_line
from .. import display
from ..messages import RunEnded
from .runs import last_cluster, start_background

if TYPE_CHECKING:
    from datetime import datetime

    from ...core.models import Batch
    from ..app import BatchtuiApp

SHOWN_NAMES = 4
"""Batches named one per line in a question (the rest: "… and N more"), so it fits 80x24."""
SHOWN_REFUSALS = 2
"""Reasons given in a question or a notice: one per refused state (the rest are counted)."""
REASON_CHARS = 110
"""A reason's length in a question (two lines of the dialog at 80 columns)."""


@dataclass(frozen=True)
class Refusal:
    """A marked batch that cannot take the action, and why (`require`'s words)."""

    name: str
    reason: str
    kind: str
    """What the reason depends on (the batch's state): one reason per kind is shown."""


@dataclass(frozen=True)
class BulkAction:
    """One action of the list on several batches."""

    rule: str | None
    """The `core.actions` entry that must allow it for a batch (None: any batch)."""
    verb: str
    """As the question and its button say it: 'Delete'."""
    done: str
    """As the notice says it afterwards: 'deleted'."""
    asks: bool
    """Whether it asks first (every destructive one does)."""
    effect: str
    """What it does to each batch, one line under the question."""


BULK_ACTIONS: dict[str, BulkAction] = {
    "retry": BulkAction(
        "retry",
        "Retry",
        "retrying",
        True,
        "Each runs again only the items that did not succeed, where it last ran.",
    ),
    "rerun": BulkAction(
        "rerun",
        "Run again",
        "running again",
        True,
        "Every item of each renders again, succeeded ones too; an output is replaced "
        "once its new render succeeds.",
    ),
    "cancel": BulkAction(
        "cancel",
        "Cancel",
        "cancelled",
        True,
        "Running items are stopped; waiting ones will not start. Retry later runs only "
        "what did not succeed.",
    ),
    "delete": BulkAction(
        "delete", "Delete", "deleted", True, "Their items and runs are forgotten."
    ),
    "duplicate": BulkAction(
        None,
        "Duplicate",
        "duplicated",
        False,
        "Each gets a new DRAFT with its config and items, named '… (copy)'.",
    ),
}
"""The list's bulk actions, by the name of the list's action."""


def plural(count: int, word: str = "batch") -> str:
    """'1 batch', '3 batches', '2 output files'."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}{'es' if word.endswith('ch') else 's'}"


def sort_out(
    app: BatchtuiApp, ids: list[str], action: BulkAction
) -> tuple[list[Batch], list[Refusal]]:
    """The batches (as stored now) that can take `action`, and why each other one cannot
    (`require`'s words; a batch gone meanwhile says so). Nothing is changed."""
    ready: list[Batch] = []
    refusals: list[Refusal] = []
    for batch_id in ids:
        try:
            batch = app.service.get(batch_id)
        except BatchtuiError as exc:  # gone, unreadable: said, and the others still act
            refusals.append(Refusal(batch_id, one_line(str(exc)), f"error {batch_id}"))
            continue
        if action.rule is not None:
            try:
                require(batch, action.rule)
            except TransitionError as exc:
                refusals.append(Refusal(batch.name, one_line(str(exc)), batch.status.value))
                continue
        ready.append(batch)
    return ready, refusals


def describe(batch: Batch, now: datetime) -> str:
    """One batch in a question: its name, status and when it was made, in local time (two
    batches of one name are told apart)."""
    made = display.local_time(batch.created_at, now)
    return f"· {one_line(batch.name, 36)} ({batch.status.value}, made {made})"


def question_detail(
    action: BulkAction, ready: list[Batch], refusals: list[Refusal], now: datetime
) -> str:
    """What the question says under its title: which batches, which are refused and why, and
    what the action does."""
    lines = [describe(batch, now) for batch in ready[:SHOWN_NAMES]]
    if len(ready) > SHOWN_NAMES:
        lines.append(f"  … and {len(ready) - SHOWN_NAMES} more")
    lines.extend(refusal_lines(action, refusals))
    effect = action.effect
    if action.rule == "delete":
        outputs = sum(1 for batch in ready for item in batch.items if item.output_path)
        if outputs:
            effect += f" {plural(outputs, 'output file')} on disk are kept."
    lines.append(effect)
    return "\n".join(lines)


def refusal_lines(action: BulkAction, refusals: list[Refusal]) -> list[str]:
    """The refused batches by name, then why: one reason for each state among them (those
    of a state are refused alike), a few, cut to two lines each; the rest counted."""
    if not refusals:
        return []
    names = ", ".join(one_line(refusal.name, 30) for refusal in refusals)
    lines = [one_line(f"Not {action.done} ({len(refusals)}): {names}", 70)]
    first_of_kind: dict[str, str] = {}
    for refusal in refusals:
        first_of_kind.setdefault(refusal.kind, refusal.reason)
    reasons = list(first_of_kind.values())
    lines.extend(one_line(reason, REASON_CHARS) for reason in reasons[:SHOWN_REFUSALS])
    if len(reasons) > SHOWN_REFUSALS:
        lines.append(f"  … and {len(reasons) - SHOWN_REFUSALS} other reasons")
    return lines


def act_on_many(
    app: BatchtuiApp, ids: list[str], name: str, after: Callable[[], None] | None = None
) -> None:
    """Do the list's action `name` (a key of `BULK_ACTIONS`) to the batches `ids`: the
    refused ones are explained, the others act (after a yes, where the action asks);
    `after` runs once it is done (the list clears its marks)."""
    action = BULK_ACTIONS[name]
    ready, refusals = sort_out(app, ids, action)
    if not ready:
        app.notify(
            "\n".join(refusal_lines(action, refusals)),
            title=f"Nothing to {action.verb.lower()}: {plural(len(ids))} refused",
            severity="warning",
            markup=False,
            timeout=8,
        )
        return

    def go() -> None:
        _perform(app, name, action, ready, refusals)
        if after is not None:
            after()

    if not action.asks:
        go()
        return
    from ..screens.dialogs import ConfirmScreen

    def answered(yes: bool | None) -> None:
        if yes:
            go()

    app.push_screen(
        ConfirmScreen(
            f"{action.verb} {plural(len(ready))}?",
            question_detail(action, ready, refusals, app.clock()),
            yes=f"{action.verb} {len(ready)}",
            no="Not now",
        ),
        answered,
    )


def _perform(
    app: BatchtuiApp, name: str, action: BulkAction, ready: list[Batch], refusals: list[Refusal]
) -> None:
    """Act on each ready batch (an error on one is said and the others go on); one notice."""
    acted: list[str] = []
    for batch in ready:
        if _act(app, name, batch):
            acted.append(one_line(batch.name, 30))
    if name == "delete":  # every screen that shows them lets go
        for batch in ready:
            app.broadcast(partial(RunEnded, batch))
    if not acted:
        return
    names = ", ".join(acted[:SHOWN_NAMES]) + (" …" if len(acted) > SHOWN_NAMES else "")
    text = f"{plural(len(acted)).capitalize()} {action.done}: {names}"
    if name == "delete":
        text += "; their files are kept"
    if refusals and action.asks:  # explained in the question: named, not explained again
        text += f" ({len(refusals)} not: " + ", ".join(r.name for r in refusals) + ")"
    elif refusals:
        text += "\n" + "\n".join(refusal_lines(action, refusals))
    app.notify(text, markup=False, timeout=6)


def _act(app: BatchtuiApp, name: str, batch: Batch) -> bool:
    """Do one batch's part; whether it was done (a failure is said by `app.safe`)."""
    service = app.service
    if name in ("retry", "rerun"):
        where = last_cluster(batch)
        every = [item.id for item in batch.items] if name == "rerun" else None
        started = start_background(
            app, batch.id, retry=True, cluster=where, only=every, one_of_many=True
        )
        # On a render farm the start is checked off the event loop and said when it is done.
        return started or where != "local"
    if name == "cancel":
        return app.safe(service.cancel, batch.id) is not None
    if name == "delete":
        return app.safe(service.delete, batch.id) is not None
    if name == "duplicate":
        return app.safe(service.duplicate, batch.id) is not None
    raise ValueError(f"no bulk action {name!r}")
