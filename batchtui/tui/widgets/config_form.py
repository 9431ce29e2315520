"""A batch's config as a form: every field `batchtui create` takes, in the CLI's words, in
groups that fit 80x24 (the basics open, the rest collapsed, each titled with what it holds
that is not the default). Each box is saved on enter or when left (only what the user
changed, applied to the batch as stored now), a select or the checkbox when changed; a value
the config refuses is not saved, and its reason shows under its box. The form tells its
screen what happened with messages (`ConfigForm.Saved`, `ConfigForm.Refused`); what else to
show for them (a notice, the problems panel) is the screen's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Collapsible, Input, Label, Select, Static

from ...core.actions import allowed
from ...core.config_text import text_of, value_of
from ...core.errors import BatchtuiError, ValidationError
from ...core.limits import MAX_NAME_CHARS
from ...core.notify_rules import ANY_STATE_FIELDS, NEWS_FIELDS
from ...core.platforms import PLATFORMS
from ...core.states import BatchStatus
from ...core.styles import STYLES
from ...core.textsafe import one_line
from .line_input import LineInput

if TYPE_CHECKING:
    from ...core.models import Batch, BatchConfig
    from ...service import BatchService

VALIDATE_MODES = ("auto", "video", "nonempty", "exists")
"""`--validate`'s choices (the config's `ValidateMode`)."""

# (field, label, widget) per group; labels are the CLI's flags in words ("Ext" is --ext).
GROUPS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "basics",
        "Basics",
        (
            ("name", "Name", "input"),
            ("platform", "Platform", "select"),
            ("generator", "Generator", "select"),
            ("command", "Command", "input"),
            ("stages", "Stages", "stages"),
            ("var_defaults", "Var defaults", "input"),
            ("style", "Style", "select"),
            ("output_ext", "Ext", "input"),
            ("output_dir", "Output", "input"),
            ("workdir", "Workdir", "input"),
        ),
    ),
    (
        "video",
        "Video and checks",
        (
            ("duration", "Duration s", "input"),
            ("fps", "FPS", "input"),
            ("validate_output", "Validate", "select"),
            ("background", "Background", "input"),
            ("text_color", "Text colour", "input"),
            ("qa", "QA checks", "input"),
            ("qa_loudness", "QA loudness", "input"),
            ("qa_tolerance", "QA tolerance", "input"),
        ),
    ),
    (
        "running",
        "Running",
        (
            ("concurrency", "Concurrency", "input"),
            ("max_items", "Max items", "input"),
            ("variants", "Variants", "input"),
            ("timeout", "Timeout s", "input"),
            ("rate", "Rate", "input"),
            ("rate_key", "Rate key", "input"),
        ),
    ),
    (
        "retries",
        "Retries",
        (
            ("retries", "Retries", "input"),
            ("backoff", "Backoff s", "input"),
            ("backoff_max", "Backoff max", "input"),
            ("retry_on", "Retry on", "input"),
            ("max_failures", "Max failures", "input"),
            ("budget", "Budget", "input"),
            ("canary", "Canary", "select"),
            ("confirm_forecast", "Confirm", "select"),
        ),
    ),
    (
        "news",
        "News of a run",
        (
            ("webhooks", "Webhooks", "input"),
            ("webhook_secret", "Secret name", "input"),
            ("notify", "Notify", "input"),
            ("on_end", "On end", "input"),
            ("hook_timeout", "Hook timeout", "input"),
            ("events", "Events", "input"),
        ),
    ),
)

FIELD_LABELS = {field: label for _, _, fields in GROUPS for field, label, _ in fields}
FIELD_GROUP = {field: group for group, _, fields in GROUPS for field, _, _ in fields}
INPUT_FIELDS = tuple(
    field for _, _, fields in GROUPS for field, _, widget in fields if widget == "input"
)

FIELD_HINTS = {
    "background": "the style's",
    "text_color": "the style's",
    "retry_on": "any (or: timeout,exit…)",
    "qa": "none (black,frozen,loudness…)",
    "max_failures": "none (N or N%)",
    "budget": "none (5.00: COST lines' sum)",
    "var_defaults": "none (voice=alto seed=7)",
    "rate": "none (30/min, 2/s)",
    "rate_key": "none ([rates] name)",
    "webhooks": "the host's (https://… ; none)",
    "webhook_secret": "default ([secrets] name)",
    "notify": "the host's (ntfy://topic … ; none)",
    "on_end": "the host's (cmd {name} {status}; none)",
    "hook_timeout": "60",
    "events": "the host's (started,failed,ended,item)",
}
"""What an empty box means."""

TITLE_CHARS = 30
"""The most a group's title may take, its values included ('▶ ' and the pane's padding aside:
it stays one line in the pane)."""


class ConfigForm(VerticalScroll):
    """The config of one batch, editable while its status allows (`core.actions`)."""

    DEFAULT_CSS = """
    ConfigForm Collapsible {
        padding: 0;
        border-top: none;
        background: transparent;
    }
    ConfigForm Collapsible > Contents {
        padding: 0 0 0 1;
    }
    ConfigForm .field-error {
        display: none;
        height: auto;
        color: $text-error;
        padding-left: 1;
    }
    ConfigForm .field-error.shown {
        display: block;
    }
    """

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
    class EditStages(Message):
        """The user asked to see or change the batch's stages (enter on the Stages row)."""

        form: ConfigForm

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
        for group, title, fields in GROUPS:
            with Collapsible(title=title, collapsed=group != "basics", id=f"group-{group}"):
                for field, label, widget in fields:
                    with Horizontal(classes="field", id=f"row-{field}"):
                        yield Label(label)
                        yield self._widget(field, widget)
                    yield Static(id=f"e-{field}", classes="field-error", markup=False)

    def _widget(self, field: str, kind: str) -> Input | Select[str] | Button:
        if kind == "stages":  # a pipeline is many lines: edited in a dialog of its own
            button = Button("none: one step · enter: edit", id=f"f-{field}", compact=True)
            return button
        if kind == "input":
            return LineInput(  # its keys in their order: `ab⌫c` in one read is 'ac'
                id=f"f-{field}",
                compact=True,
                placeholder=FIELD_HINTS.get(field, ""),
                max_length=MAX_NAME_CHARS if field == "name" else 0,
            )
        options: list[tuple[str, str]] = {
            "platform": [(p.label, p.key) for p in PLATFORMS.values()],
            "generator": [(name, name) for name in self.generators],
            "style": [(style.label, key) for key, style in STYLES.items()],
            "validate_output": [(mode, mode) for mode in VALIDATE_MODES],
            # Words, not a checkbox: its state must read without colour (NO_COLOR).
            "canary": [("no", "no"), ("yes: item 1 first", "yes")],
            "confirm_forecast": [("no", "no"), ("yes: after the canary", "yes")],
        }[field]
        return Select(
            options,
            allow_blank=field == "style",
            prompt="(default)",
            id=f"f-{field}",
            compact=True,
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
        for field in ("platform", "generator", "validate_output", "canary", "confirm_forecast"):
            self.query_one(f"#f-{field}", Select).value = text_of(getattr(config, field))
        style = self.query_one("#f-style", Select)
        style.value = config.style if config.style else Select.NULL
        stages = config.stages or []
        self.query_one("#row-command").display = config.generator == "command" and not stages
        self.query_one("#row-style").display = config.generator == "titlecard" or any(
            stage.program == "titlecard" for stage in stages
        )
        self.query_one("#row-generator").display = not stages  # a pipeline's are its stages'
        said = " → ".join(stage.name for stage in stages) if stages else "none: one step"
        verb = "edit" if self.editable else "view"
        self.query_one("#f-stages", Button).label = Content(f"{one_line(said, 40)} · {verb}")
        for widget in self.query("Input, Select"):
            widget.disabled = not self.editable
        for field in ANY_STATE_FIELDS:  # who hears of a run, the budget: in any state
            self.query_one(f"#f-{field}").disabled = not allowed("announce", batch.status)
        # (The stages button opens them read-only once locked: it is never disabled.)
        # Concurrency may change in any state but a running one (that is on the progress screen).
        self.query_one("#f-concurrency", Input).disabled = batch.status not in (
            BatchStatus.DRAFT,
            BatchStatus.LOCKED,
        )
        for group, title, _ in GROUPS:
            summary = _summary(config, group)
            room = TITLE_CHARS - len(title) - 2
            text = f"{title}: {one_line(summary, room)}" if summary else title
            # Content: the values are shown as typed, never read as markup.
            self.query_one(f"#group-{group}", Collapsible).title = Content(text)  # type: ignore[assignment]

    def show_error(self, field: str, problems: list[str]) -> None:
        """Say why `field` was not saved under its box (its group opened to show it);
        nothing: clear what it said."""
        if field not in FIELD_GROUP:
            return
        error = self.query_one(f"#e-{field}", Static)
        error.update(Text("\n".join(problems)))
        error.set_class(bool(problems), "shown")
        if problems:
            self.query_one(f"#group-{FIELD_GROUP[field]}", Collapsible).collapsed = False

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
        if field in ANY_STATE_FIELDS:
            action = "announce"  # in any state
        if not allowed(action, batch.status):
            reason = f"the batch is {batch.status.value} now: unlock (u) to edit"
            return self._refused(field, [reason])
        if field == "name":
            try:
                self.service.rename(batch.id, raw)
            except BatchtuiError as exc:
                if not raw.strip():  # the name it has stays, in the box too
                    self.query_one("#f-name", Input).value = self._shown.get("name", "")
                    return self._refused(field, [f"{exc}: the name stays '{batch.name}'"])
                return self._refused(field, [str(exc)])
            return self._saved(field, raw)
        try:
            value = value_of(field, raw)
        except ValueError as exc:
            return self._refused(field, [f"{FIELD_LABELS.get(field, field)}: {exc}"])
        try:  # compared with the batch as stored now: the form's copy may predate a save
            stored = self.service.get(batch.id).config
        except BatchtuiError as exc:  # deleted by another client meanwhile, a busy database
            return self._refused(field, [str(exc)])
        if value == getattr(stored, field):  # the same value written another way ("5.0")
            return self._saved(field, raw)
        try:
            if field == "concurrency":
                self.service.set_concurrency(batch.id, value)
            else:
                self.service.update_config(batch.id, **{field: value})
        except ValidationError as exc:
            found = exc.problems or [exc.message]
            return self._refused(field, [p.removeprefix("invalid config: ") for p in found])
        except BatchtuiError as exc:  # other refusals: the state, a busy database
            return self._refused(field, [str(exc)])
        return self._saved(field, raw)

    def save_focused(self) -> ConfigForm.Saved | ConfigForm.Refused | None:
        """Save the box that has the focus, if it is one of the form's (before a lock)."""
        focused = self.screen.focused
        if isinstance(focused, Input) and focused.id and focused.id.startswith("f-"):
            return self.save(focused.id.removeprefix("f-"), focused.value)
        return None

    def _saved(self, field: str, raw: str) -> ConfigForm.Saved:
        self._shown[field] = raw  # no longer an edit: the refill shows the stored form of it
        self.show_error(field, [])
        return self.Saved(self, field, raw)

    def _refused(self, field: str, problems: list[str]) -> ConfigForm.Refused:
        self.show_error(field, problems)
        return self.Refused(self, field, problems)

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

    @on(Button.Pressed, "#f-stages")
    def _edit_stages(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.EditStages(self))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if self.current is None or event.value is Select.NULL:
            return
        if event.value != event.select.value:
            return  # a stale message from before the form was (re)filled
        field = event.select.id.removeprefix("f-")  # type: ignore[union-attr]
        if text_of(getattr(self.current.config, field)) == event.value:
            return
        self._save_and_tell(field, str(event.value))


def _texts(batch: Batch) -> dict[str, str]:
    """Each box's text for the batch as stored."""
    config = batch.config
    texts = {"name": batch.name}
    for field in INPUT_FIELDS:
        if field != "name":
            texts[field] = text_of(getattr(config, field), field)
    return texts


SUMMARY_WORDS: dict[str, str] = {
    "duration": "{}s",
    "fps": "{} fps",
    "validate_output": "validate {}",
    "background": "colours",
    "text_color": "colours",
    "concurrency": "{} at once",
    "max_items": "max {} items",
    "variants": "{} variants",
    "timeout": "timeout {}s",
    "rate": "{}",
    "rate_key": "{}",
    "retries": "{} retries",
    "backoff": "backoff {}s",
    "backoff_max": "waits ≤{}s",
    "retry_on": "on {}",
    "qa": "qa {}",
    "qa_loudness": "{} LUFS",
    "max_failures": "stop at {}",
    "budget": "budget {}",
    "canary": "canary",
    "confirm_forecast": "confirm",
    "webhooks": "webhooks",
    "notify": "notify",
    "on_end": "hook",
    "events": "{}",
}
"""How a group's title says a value that is not the default (short: the pane is narrow)."""


def _summary(config: BatchConfig, group: str) -> str:
    """What a group holds that is not the default, in a few words ('' when all are)."""
    defaults = type(config).model_fields
    said: list[str] = []
    for _, _, fields in (g for g in GROUPS if g[0] == group):
        for field, _, _ in fields:
            words = SUMMARY_WORDS.get(field)
            if words is None:  # the basics are open: their values are in sight
                continue
            value = getattr(config, field)
            if value == defaults[field].get_default(call_default_factory=True):
                continue
            if value in ([], "") and field in NEWS_FIELDS:  # said to be none, not the host's
                said.append(f"no {words.format('events')}")
                continue
            said.append(words.format(text_of(value, field)))
    return ", ".join(dict.fromkeys(said))
