"""Batch flows: a new batch (or the example one), duplicate, save as a template, delete,
lock and unlock. Each asks what it needs, calls the service, and says what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.kept_files import kept_note
from ...core.limits import MAX_COPY_BASE_CHARS, MAX_NAME_CHARS, MAX_TEMPLATE_NAME_CHARS
from ...core.names import same_name_note
from ...core.textsafe import one_line
from ..messages import RunEnded
from .refusals import stored_unless_refused

if TYPE_CHECKING:
    from ...core.models import Batch
    from ..app import BatchtuiApp
    from ..screens.new_batch import NewBatch

EXAMPLE_NAME = "Space Facts"
EXAMPLE_ITEMS = ("Why is space dark?", "What are black holes?", "How stars die")
NARRATED_NAME = "Ocean Facts"
NARRATED_ITEMS = (
    "The ocean holds about 97 percent of the water on Earth.",
    "Octopuses have three hearts, and their blood is blue.",
    "Sound travels about four times faster in water than in air.",
)


def new_batch(app: BatchtuiApp) -> None:
    """Ask for a name and a platform or template, then open the new batch."""
    service = app.service

    def created(answer: NewBatch | None) -> None:
        if answer is None:
            return
        if answer.template:  # its config and items (parameters at their defaults)
            batch = app.safe(service.create_from_template, answer.name, answer.template)
        else:
            batch = app.safe(service.create, answer.name, platform=answer.platform)
        if batch is not None:
            app.open_batch(batch.id)

    from ..screens.new_batch import NewBatchScreen

    found = app.safe(service.templates)
    templates = [(t.name, t.description) for t in found[0]] if found else []
    summaries = app.safe(service.summaries) or []
    taken = {summary.name.casefold() for summary in summaries}
    app.push_screen(NewBatchScreen(templates, taken), created)


def example_batch(app: BatchtuiApp, *, narrated: bool = False) -> None:
    """Make the example batch (no dialog) and select it where the screen can: title cards,
    or (`narrated`) the built-in narrated pipeline — a voice, captions, loudness."""
    from ...core.stages_text import EXAMPLE, parse_stages

    name = NARRATED_NAME if narrated else EXAMPLE_NAME
    items = NARRATED_ITEMS if narrated else EXAMPLE_ITEMS
    extra = {"stages": parse_stages(EXAMPLE)} if narrated else {}
    batch = app.safe(app.service.create, name, platform="youtube_shorts", **extra)
    if batch is None:
        return
    app.safe(app.service.add_items, batch.id, list(items))
    made = f"Created '{name}' with {len(items)} items — l to lock, s to start"
    if not narrated:
        made += " (E: a narrated one, with a voice and captions)"
    # A second one is made too (names need not be unique), but never silently: the note the
    # CLI's `create` prints for a name already taken.
    others = [i for i in app.safe(app.service.same_name, name) or [] if i != batch.id]
    note = same_name_note(name, others)
    if note:
        app.notify(f"{made}. Note: {note}.", severity="warning", markup=False, timeout=8)
    else:
        app.notify(made, markup=False)
    select = getattr(app.screen, "select", None)
    if callable(select):
        select(batch.id)


def duplicate(app: BatchtuiApp, batch_id: str, name: str) -> None:
    """Ask for a name (the source's, "(copy)"), then make a DRAFT from the batch."""
    from ..screens.dialogs import PromptScreen

    def named(answer: str | None) -> None:
        if not answer:
            return
        made = app.safe(app.service.duplicate, batch_id, answer.strip())
        if made is not None:
            app.notify(
                f"Created '{one_line(made.name, 40)}': {len(made.items)} items, the same "
                "config — a DRAFT to change and lock",
                markup=False,
            )
            app.open_batch(made.id)

    app.push_screen(
        PromptScreen(
            f"New batch from '{one_line(name, 40)}'",
            value=f"{name[:MAX_COPY_BASE_CHARS]} (copy)",
            max_length=MAX_NAME_CHARS,
            hint="Its config and items are copied; none of its runs or outputs.",
        ),
        named,
    )


def save_as_template(app: BatchtuiApp, batch: Batch) -> None:
    """Ask for a name, then save the batch's config and items as a template."""
    from ..screens.dialogs import PromptScreen

    def named(name: str | None) -> None:
        if not name:
            return
        saved = app.safe(app.service.save_template, batch.id, name.strip())
        if saved is not None:
            app.notify(
                f"saved template {saved.name} ({len(saved.items)} items): pick it in the "
                "new-batch dialog (n)",
                markup=False,
            )

    app.push_screen(
        PromptScreen(
            f"Save '{one_line(batch.name, 40)}' as a template",
            placeholder="template name, e.g. space-facts",
            max_length=MAX_TEMPLATE_NAME_CHARS,
            hint="Its config and items, kept as a TOML file a team can share.",
        ),
        named,
    )


def confirm_delete(app: BatchtuiApp, batch: Batch) -> None:
    """Ask, then delete the batch. `batch` may be a screen's out-of-date copy: what is
    asked and refused is decided by the batch as stored now, and nothing is deleted
    without the dialog's yes."""
    from ..screens.dialogs import ConfirmScreen

    stored = stored_unless_refused(app, batch.id, "delete")
    if stored is None:
        return
    batch = stored

    kept = kept_note(batch)  # only when there are files to keep (a draft has none)

    def answered(yes: bool | None) -> None:
        if yes and app.safe(app.service.delete, batch.id) is not None:
            note = f"; {kept}" if kept else ""
            app.notify(f"Deleted {one_line(batch.name, 40)}{note}", markup=False)
            app.broadcast(lambda: RunEnded(batch))

    items = f"{len(batch.items)} item{'s' if len(batch.items) != 1 else ''}"
    app.push_screen(
        ConfirmScreen(
            f"Delete '{one_line(batch.name, 40)}'?",
            f"{items} {'are' if len(batch.items) != 1 else 'is'} forgotten"
            + (f"; {kept}." if kept else "."),
            yes="Delete",
            no="Keep",
        ),
        answered,
    )


def lock(app: BatchtuiApp, batch_id: str) -> Batch | None:
    """Validate and lock the batch's config; say its hash (problems: notified)."""
    batch = app.safe(app.service.lock, batch_id)
    if batch is not None:
        app.notify(
            f"Locked {one_line(batch.name, 40)} (hash {batch.config_hash}) — s to start",
            markup=False,
        )
    return batch


def unlock(app: BatchtuiApp, batch_id: str) -> Batch | None:
    """Make a LOCKED batch a DRAFT again."""
    batch = app.safe(app.service.unlock, batch_id)
    if batch is not None:
        app.notify(f"{one_line(batch.name, 40)} is a DRAFT again", markup=False)
    return batch
