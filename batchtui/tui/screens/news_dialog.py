"""The news dialog: who hears of a batch's runs (webhooks, people's notifications, the on_end
hook, its time limit, the events), changeable in any state: a running batch's runner takes a
change at its next announcement.

Tab moves between the boxes; enter (or ctrl+s) saves them all at once or none, and a refusal
is said in one line with the text kept to fix; escape changes nothing. Empty means the host's
default (`[notify]` in settings.toml), `none` means none at all.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ...core.config_text import text_of
from ...core.models import BatchConfig
from ...core.textsafe import one_line
from ..widgets.line_input import LineInput
from .dialog_base import TYPING_CANCEL_KEYS, TYPING_CONFIRM_KEYS, Dialog, key_button

NEWS_BOXES: tuple[tuple[str, str, str], ...] = (
    ("webhooks", "Webhooks", "the host's · https://… (apart by spaces) · none"),
    ("webhook_secret", "Secret name", "default ([secrets] in settings.toml)"),
    ("notify", "Notify", "the host's · ntfy://topic discord://… · none"),
    ("on_end", "On end", "the host's · notify-send {name} {status} · none"),
    ("hook_timeout", "Hook timeout", "60 (seconds)"),
    ("events", "Events", "the host's · started,failed,ended,item · none"),
)
"""Each box: its config field, its label, what empty means and what may be typed."""
NEWS_LABELS = {field: label for field, label, _ in NEWS_BOXES}

Save = Callable[[dict[str, str]], str | None]
"""Saves the boxes' texts (by field); returns why not (one line), or None once saved."""
Test = Callable[[], str]
"""Sends a test event to the targets as saved; says who answered, in one line."""


class NewsDialog(Dialog[bool]):
    """Who hears of a batch's runs; answers True once saved (all or nothing), None when
    cancelled."""

    DEFAULT_CSS = """
    NewsDialog .news-row { height: 1; }
    NewsDialog .news-row Label { width: 14; }
    NewsDialog .news-row Input { width: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+s", "confirm", "Save", show=False, priority=True),
        Binding("ctrl+t", "test", "Test", show=False, priority=True),
    ]

    def __init__(
        self, name: str, config: BatchConfig, save: Save, test: Test | None = None
    ) -> None:
        super().__init__()
        self.test = test
        """Sends a test event to the saved targets; one line on who answered."""
        self.batch_name = name
        self.before = {field: text_of(getattr(config, field), field) for field, _, _ in NEWS_BOXES}
        self.save = save
        self._typed: dict[str, str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = f"News of '{one_line(self.batch_name, 40)}'"
            yield Label(Text(title, style="bold"), classes="dialog-title")
            yield Static(
                Text("empty: the host's ([notify] in settings.toml) · none: none at all"),
                classes="dialog-detail",
            )
            for field, label, hint in NEWS_BOXES:
                with Horizontal(classes="news-row"):
                    yield Label(label)
                    yield LineInput(
                        value=self.before[field], placeholder=hint, id=f"news-{field}", compact=True
                    )
            yield Static(Text(""), id="news-error", classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield key_button("Save", TYPING_CONFIRM_KEYS, "ok", "primary")
                if self.test is not None:
                    yield key_button("Test saved", "^t", "test")
                yield key_button("Cancel", TYPING_CANCEL_KEYS, "cancel")

    def on_mount(self) -> None:
        self.query_one(f"#news-{NEWS_BOXES[0][0]}", Input).focus()

    def texts(self) -> dict[str, str]:
        """Each box's text now, by field."""
        return {field: self.query_one(f"#news-{field}", Input).value for field, _, _ in NEWS_BOXES}

    def confirmed(self) -> bool | None:
        typed, self._typed = self._typed, None
        texts = typed if typed is not None else self.texts()
        if texts == self.before:
            return True  # nothing changed: nothing to save
        problem = self.save(texts)
        if problem is not None:
            self.query_one("#news-error", Static).update(Text(one_line(problem, 300)))
            self.app.bell()
            return None
        return True

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # The boxes as they were at the line end (keys read behind it are not part of it).
        event.stop()
        texts = self.texts()
        box = (event.input.id or "").removeprefix("news-")
        if box in texts:  # its text at the line end: keys read behind it are not part of it
            texts[box] = event.value
        self._typed = texts
        self.action_confirm()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#news-error", Static).update(Text(""))

    def action_test(self) -> None:
        """Send a test event to the targets as saved (a slow receiver does not hold the
        screen: it runs in a thread, and says who answered when it is done)."""
        if self.test is None or self.answered:
            return
        self.query_one("#news-error", Static).update(Text("testing the saved targets …"))
        self._run_test()

    @work(thread=True, exclusive=True, group="news-test")
    def _run_test(self) -> None:
        assert self.test is not None
        said = self.test()
        self.app.call_from_thread(self._said, said)

    def _said(self, said: str) -> None:
        if not self.answered:
            self.query_one("#news-error", Static).update(Text(one_line(said, 300)))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_confirm()
        elif event.button.id == "test":
            self.action_test()
        else:
            self.action_cancel()
