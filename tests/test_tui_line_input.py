"""A line end in a `LineInput` acts where the letters are typed, in the order the keys came:
keys read in one burst (`Name⏎more`) submit 'Name', not 'Namemore' (a plain Input's enter is a
binding that runs after the keys queued behind it have been typed)."""

from __future__ import annotations

import pytest
from textual import events, on
from textual.app import App, ComposeResult
from textual.widgets import Input

from batchtui.tui.widgets.line_input import LineInput

pytestmark = pytest.mark.anyio


class Box(App[None]):
    def __init__(self, box: Input) -> None:
        super().__init__()
        self.box = box
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.box

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.submitted.append(event.value)


def burst(app: App[None], text: str) -> None:
    """Every key of `text` queued at once, as a driver does with one read."""
    names = {"\r": "enter", "\n": "ctrl+j"}
    for char in text:
        key = names.get(char, char)
        app.post_message(events.Key(key, None if char in names else char))


async def test_a_burst_submits_what_was_typed_before_each_line_end() -> None:
    app = Box(LineInput())
    async with app.run_test() as pilot:
        app.box.focus()
        await pilot.pause()
        burst(app, "Name\rmore\n")  # CR and LF: both end a line
        await pilot.pause()
    # A plain Input here submitted 'Namemore' on the enter (checked: this test fails with it).
    assert app.submitted == ["Name", "Namemore"]
