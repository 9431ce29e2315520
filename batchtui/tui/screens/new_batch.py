"""The new-batch dialog: a name and a platform; everything else has sensible defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets._select import SelectOverlay  # its UpdateSelection: a pick in the list

from ...core.limits import MAX_NAME_CHARS
from ...core.platforms import DEFAULT_PLATFORM, PLATFORMS
from .dialog_base import TYPING_CANCEL_KEYS, TYPING_CONFIRM_KEYS, Dialog, key_button


class ChoiceList(Select[str], inherit_bindings=False):
    """A Select whose list opens with space or the arrows, leaving enter on a closed list to
    the dialog (it creates).

    Keys that come in the same read as the one that opened the list (`↓↓⏎` in one burst, as
    over a slow link) reach this widget before the focus has moved to the list: here they act
    on the list as they would there, so the burst picks the option the arrows moved to."""

    BINDINGS = [
        Binding("down", "step(1)", "Show menu", show=False),
        Binding("up", "step(-1)", "Show menu", show=False),
        Binding("space", "show_overlay", "Show menu", show=False),
        Binding("enter", "pick", "Pick", show=False),
    ]

    def __init__(self, options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.choices = [value for _label, value in options]
        """The options' values, in the list's order."""

    def _list(self) -> OptionList:
        return self.query_one(OptionList)

    def action_step(self, delta: int) -> None:
        if not self.expanded:
            self.action_show_overlay()
        elif delta > 0:
            self._list().action_cursor_down()
        else:
            self._list().action_cursor_up()

    def action_pick(self) -> None:
        """Enter while the list is open but not yet focused: pick its highlighted option."""
        if not self.expanded:
            raise SkipAction()  # a closed list: enter is the dialog's
        index = self._list().highlighted
        if index is not None:
            self.value = self.choices[index]
        self.expanded = False
        self.focus()
        self.picked()

    @on(SelectOverlay.UpdateSelection)
    def _picked_in_list(self) -> None:
        # Select's own handler sets the value on this message: act once it has.
        self.call_later(self.picked)

    def picked(self) -> None:
        """An option was picked with enter (nothing more, in a list of settings)."""


class TemplateList(ChoiceList):
    """The template list: enter on it means "this template". On the closed list with no
    template chosen, enter opens the list; enter on the open list picks the template and
    creates the batch with it (a template brings the config and the items: nothing is left
    to choose)."""

    def action_pick(self) -> None:
        if not self.expanded and not self.value:
            self.action_show_overlay()
            return
        super().action_pick()

    def picked(self) -> None:
        if isinstance(self.screen, Dialog):
            self.screen.action_confirm()


@dataclass(frozen=True)
class NewBatch:
    """What the user asked for."""

    name: str
    platform: str
    template: str | None = None


class NewBatchScreen(Dialog[NewBatch]):
    """Name the batch and pick a platform; enter creates, escape cancels (a `Dialog`: enter on
    a closed list creates too, the lists opening with space or the arrows; its enter is not a
    priority binding, which would run before the name box has taken keys typed just before)."""

    def __init__(
        self, templates: list[tuple[str, str]] | None = None, taken: set[str] | None = None
    ) -> None:
        super().__init__()
        self.templates = templates or []
        """(name, description) of each template to offer."""
        self.taken = taken or set()
        """The names batches already have (casefolded): typing one of them warns."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("New batch", style="bold"), classes="dialog-title")
            yield Input(placeholder="Name, e.g. Space Facts", max_length=MAX_NAME_CHARS, id="name")
            yield ChoiceList(
                [
                    (f"{p.label} — {p.width}×{p.height}, up to {_limit(p.max_duration)}", p.key)
                    for p in PLATFORMS.values()
                ],
                value=DEFAULT_PLATFORM,
                allow_blank=False,
                id="platform",
            )
            if self.templates:
                yield TemplateList(
                    [("No template", "")]
                    + [
                        (f"Template {name}" + (f" — {about}" if about else ""), name)
                        for name, about in self.templates
                    ],
                    value="",
                    allow_blank=False,
                    id="template",
                )
            yield Static(self._hint(), id="new-hint", classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield key_button("Create", TYPING_CONFIRM_KEYS, "create", "primary")
                yield key_button("Cancel", TYPING_CANCEL_KEYS, "cancel")

    def _hint(self) -> Text:
        return Text(
            "tab: platform"
            + (", template (its config and items)" if self.templates else "")
            + " · space opens a list"
        )

    @on(Input.Changed, "#name")
    def _name_changed(self, event: Input.Changed) -> None:
        name = " ".join(event.value.split())
        hint = self.query_one("#new-hint", Static)
        if name and name.casefold() in self.taken:
            hint.update(
                Text(
                    f"⚠ a batch named '{name}' already exists: enter makes another one "
                    "(ids tell them apart), or choose another name",
                    style="yellow",
                )
            )
        else:
            hint.update(self._hint())

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted, "#name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_confirm()
        else:
            self.action_cancel()

    def confirmed(self) -> NewBatch | None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.query_one("#new-hint", Static).update(Text("The batch needs a name."))
            return None
        platform = self.query_one("#platform", Select).value
        template = None
        if self.templates:
            template = str(self.query_one("#template", Select).value) or None
        return NewBatch(name, str(platform), template)


def _limit(seconds: float) -> str:
    """A platform's length limit as people say it: '60 s', '10 min', '12 h'."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
