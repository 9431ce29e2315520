"""A batch's config as a form: each box saved on enter or when left (only what the user
changed, applied to the batch as stored now), a select saved when changed. The form tells its
screen what happened with messages (`ConfigForm.Saved`, `ConfigForm.Refused`); what to show
for them (a notice, the problems panel) is the screen's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from ...core.actions import allowed
from ...core.errors import BatchtuiError, ValidationError
from ...core.limits import MAX_NAME_CHARS
from ...core.platforms import PLATFORMS
from ...core.states import BatchStatus
from ...core.styles import STYLES

if TYPE_CHECKING:
    from ...core.models import Batch
    from ...service import BatchService

# (field, label, kind) — kind says how the text in the box becomes a config value.
FIELDS: tuple[tuple[str, str, type], ...] = (
    ("command", "Command", str),
    ("duration", "Duration s", float),
    ("fps", "FPS", int),
    ("concurrency", "Concurrency", int),
    ("max_items", "Max items", int),
    ("timeout", "Timeout s", float),
    ("background", "Background", str),
    ("text_color", "Text colour", str),
    ("output_dir", "Output", str),
)

FIELD_LABELS = {
    "name": "Name",
    "platform": "Platform",
    "generator": "Generator",
    "style": "Style",
} | {field: label for field, label, _ in FIELDS}

FIELD_KINDS = {field: kind for field, _, kind in FIELDS}

FIELD_HINTS = {"background": "the style's", "text_color": "the style's"}
"""What an empty box means."""


class ConfigForm(VerticalScroll):
    """The config of one batch, editable while its status allows (`core.actions`)."""

    @dataclass
    class Saved(Message):
        """A field was saved (or already held that value, written another way)."""

        form: ConfigForm
        field: str
        value: str
        """The text saved, as the user typed or picked it."""

        @property
        def control(self) -> ConfigForm:
            return self.form

    @dataclass
    class Refused(Message):
        """A field was not saved: the reasons, each one line a person can act on."""

        form: ConfigForm
        field: str
        problems: list[str]

        @property
        def control(self) -> ConfigForm:
            return self.form

    def __init__(self, service: BatchService, generators: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service
        self.generators = generators
        self.current: Batch | None = None
        """The batch as last shown (stored, or as the watcher read it)."""
        self._shown: dict[str, str] = {}
        """Each box's text as the form last filled it: a box whose text differs is the user's
        unsaved edit (kept across refreshes, and the only thing a blur saves)."""

    def compose(self) -> ComposeResult:
        yield Static(Text("Config", style="bold"), classes="pane-title")
        with Horizontal(classes="field"):
            yield Label("Name")
            yield Input(id="f-name", compact=True, max_length=MAX_NAME_CHARS)
        with Horizontal(classes="field"):
            yield Label("Platform")
            yield Select(
                [(p.label, p.key) for p in PLATFORMS.values()],
                allow_blank=False,
                id="f-platform",
                compact=True,
            )
        with Horizontal(classes="field", id="row-style"):
            yield Label("Style")
            yield Select(
                [(f"{style.label}", key) for key, style in STYLES.items()],
                allow_blank=True,
                prompt="(default)",
                id="f-style",
                compact=True,
            )
        with Horizontal(classes="field"):
            yield Label("Generator")
            yield Select(
                [(name, name) for name in self.generators],
                allow_blank=False,
                id="f-generator",
                compact=True,
            )
        for field, label, _ in FIELDS:
            with Horizontal(classes="field", id=f"row-{field}"):
                yield Label(label)
                yield Input(
                    id=f"f-{field}",
                    compact=True,
                    placeholder=FIELD_HINTS.get(field, ""),
                )

    # ------------------------------------------------------------------ view

    @property
    def editable(self) -> bool:
        return self.current is not None and allowed("edit", self.current.status)

    def show(self, batch: Batch, *, keep_edits: bool = False) -> None:
        """Fill the boxes from `batch` (as stored); `keep_edits`: leave a box the user has
        changed (and not saved) as it is."""
        self.current = batch
        config = batch.config
        for field, text in _texts(batch).items():
            box = self.query_one(f"#f-{field}", Input)
            if keep_edits and field in self._shown and box.value != self._shown[field]:
                continue
            box.value = text
            self._shown[field] = text
        self.query_one("#f-platform", Select).value = config.platform
        self.query_one("#f-generator", Select).value = config.generator
        style = self.query_one("#f-style", Select)
        style.value = config.style if config.style else Select.NULL
        self.query_one("#row-command").display = config.generator == "command"
        self.query_one("#row-style").display = config.generator == "titlecard"
        for widget in self.query("Input, Select"):
            widget.disabled = not self.editable
        # Concurrency may change in any state but a running one (that is on the progress screen).
        self.query_one("#f-concurrency", Input).disabled = batch.status not in (
            BatchStatus.DRAFT,
            BatchStatus.LOCKED,
        )

    # ------------------------------------------------------------------ save

    def save(self, field: str, raw: str) -> ConfigForm.Saved | ConfigForm.Refused | None:
        """Save one field if the user changed it (only what they changed, applied to the
        batch as stored now, not to the form's copy of it); say how it went (None: nothing
        to save). Only refusals (the project's errors) are answers here: any other exception
        is a bug, and goes where bugs go."""
        batch = self.current
        if batch is None or raw == self._shown.get(field):
            return None
        action = "concurrency" if field == "concurrency" else "edit"  # also while LOCKED
        if not allowed(action, batch.status):
            reason = f"the batch is {batch.status.value} now: unlock (u) to edit"
            return self.Refused(self, field, [reason])
        if field == "name":
            if not raw.strip():
                return None
            try:
                self.service.rename(batch.id, raw)
            except BatchtuiError as exc:
                return self.Refused(self, field, [str(exc)])
            return self._saved(field, raw)
        kind = FIELD_KINDS.get(field, str)
        try:
            value: Any = None if (raw.strip() == "" and field == "command") else kind(raw)
        except ValueError:
            noun = "number" if kind is float else "whole number"
            label = FIELD_LABELS.get(field, field)
            return self.Refused(self, field, [f"{label}: '{raw}' is not a {noun}"])
        if value == getattr(batch.config, field):  # the same value written another way ("5.0")
            return self._saved(field, raw)
        try:
            if field == "concurrency":
                self.service.set_concurrency(batch.id, value)
            else:
                self.service.update_config(batch.id, **{field: value})
        except ValidationError as exc:
            found = exc.problems or [exc.message]
            return self.Refused(self, field, [p.removeprefix("invalid config: ") for p in found])
        except BatchtuiError as exc:  # other refusals: the state, a busy database
            return self.Refused(self, field, [str(exc)])
        return self._saved(field, raw)

    def save_focused(self) -> ConfigForm.Saved | ConfigForm.Refused | None:
        """Save the box that has the focus, if it is one of the form's (before a lock)."""
        focused = self.screen.focused
        if isinstance(focused, Input) and focused.id and focused.id.startswith("f-"):
            return self.save(focused.id.removeprefix("f-"), focused.value)
        return None

    def _saved(self, field: str, raw: str) -> ConfigForm.Saved:
        self._shown[field] = raw  # no longer an edit: the refill shows the stored form of it
        return self.Saved(self, field, raw)

    def _save_and_tell(self, field: str, raw: str) -> None:
        outcome = self.save(field, raw)
        if outcome is not None:
            self.post_message(outcome)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save_and_tell(event.input.id.removeprefix("f-"), event.value)  # type: ignore[union-attr]

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        self._save_and_tell(event.input.id.removeprefix("f-"), event.value)  # type: ignore[union-attr]

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if self.current is None or event.value is Select.NULL:
            return
        if event.value != event.select.value:
            return  # a stale message from before the form was (re)filled
        field = event.select.id.removeprefix("f-")  # type: ignore[union-attr]
        if getattr(self.current.config, field) == event.value:
            return
        self._save_and_tell(field, str(event.value))


def _texts(batch: Batch) -> dict[str, str]:
    """Each box's text for the batch as stored."""
    values: dict[str, Any] = batch.config.model_dump()
    texts = {"name": batch.name}
    for field, _, _ in FIELDS:
        value = values[field]
        texts[field] = (
            "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        )
    return texts
