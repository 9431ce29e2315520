"""What every batchtui dialog shares: it answers once, and it confirms and cancels by one scheme.

Answering once is structural. A second enter in the same read as the first (a person pressing
it twice, a slow link delivering both at once) reaches the dialog before Textual has popped
it; `Screen.dismiss` would then run the flow again and pop the screen *below* the dialog (a
blank app, or a `ScreenStackError`). A `Dialog` dismisses at most once and takes no action
after: later keys, button presses and submissions are ignored until it is gone.

The key scheme is the same on every dialog: enter or `y` confirms, escape or `n` cancels (in a
text field `y` and `n` are typed, so there only enter and escape), and every dialog shows its
keys the same way, in its buttons: `Delete ⏎/y`, `Keep esc/n`.

Toasts never cover a dialog: while one is up the toasts already shown are hidden (app.tcss),
and the app holds new ones until it closes (`BatchtuiApp.notify`), so none is lost unseen.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button
from textual.widgets.button import ButtonVariant

from .steady import SteadyCursor

ResultType = TypeVar("ResultType")

CONFIRM_KEYS = "⏎/y"
"""How a dialog shows its confirming keys (enter, y)."""
CANCEL_KEYS = "esc/n"
"""How a dialog shows its cancelling keys (escape, n)."""
TYPING_CONFIRM_KEYS = "⏎"
"""The confirming key of a dialog whose text field has the focus (`y` is typed there)."""
TYPING_CANCEL_KEYS = "esc"
"""The cancelling key of a dialog whose text field has the focus (`n` is typed there)."""


def labelled(word: str, keys: str) -> str:
    """A button's label with its keys, the same way on every dialog: `Delete ⏎/y`."""
    return f"{word}  {keys}"


def key_button(word: str, keys: str, button_id: str, variant: ButtonVariant = "default") -> Button:
    """A dialog's button, labelled with its keys. Never focused: enter is the dialog's
    confirm key whatever button a tab would have reached (a mouse still clicks it)."""
    button = Button(labelled(word, keys), variant=variant, id=button_id)
    button.can_focus = False
    return button


async def _nothing() -> None:
    """What awaiting a second dismissal does."""


class Dialog(SteadyCursor, ModalScreen[ResultType], Generic[ResultType]):
    """A modal that answers once: `dismiss` acts the first time only, then input is ignored.

    Subclasses implement `confirmed()` (the answer for enter/`y`) and may override
    `cancelled()` (the answer for escape/`n`, None by default). A text field keeps `y` and
    `n` (Textual gives printable keys to a focused input before a screen's bindings).
    """

    AUTO_FOCUS = ""  # a text field is focused by the dialog that has one; buttons never are
    BINDINGS = [
        Binding("enter,y", "confirm", "Confirm", show=False),
        Binding("escape,n", "cancel", "Cancel", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answered = False
        """Whether the dialog has given its answer (it is then on its way out)."""

    def confirmed(self) -> ResultType | None:
        """The answer when the user confirms."""
        raise NotImplementedError

    def cancelled(self) -> ResultType | None:
        """The answer when the user cancels."""
        return None

    def action_confirm(self) -> None:
        answer = self.confirmed()
        if answer is not None:
            self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(self.cancelled())

    def dismiss(self, result: ResultType | None = None) -> AwaitComplete:
        """Answer and close, the first time only: a second answer would run the flow again
        and pop the screen below this one."""
        if self.answered:
            return AwaitComplete(_nothing())
        self.answered = True
        return super().dismiss(result)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No action of this dialog runs once it has answered."""
        return not self.answered

    def on_unmount(self) -> None:
        # Toasts raised while this dialog was up were held so as not to cover its buttons.
        release = getattr(self.app, "release_held_notifications", None)
        if callable(release):
            self.app.call_later(release)
