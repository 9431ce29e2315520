"""The one dialog base (screens/dialog_base.py): it answers once, and toasts wait for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.dialogs import ConfirmScreen, PromptScreen

from .tui_support import make_app, make_service

pytestmark = pytest.mark.anyio


async def test_a_dialog_answers_once_however_often_it_is_told(db_path: Path) -> None:
    app = make_app(make_service(db_path))
    answers: list[str | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        prompt = PromptScreen("Name?", value="x")
        app.push_screen(prompt, answers.append)
        await pilot.pause()
        prompt.action_confirm()
        prompt.action_confirm()  # as a second enter of the same read does
        prompt.action_cancel()
        await pilot.pause()
        assert answers == ["x"]
        assert isinstance(app.screen, BatchListScreen), "the screen below stays"
        assert len(app.screen_stack) == 2


async def test_toasts_wait_while_a_dialog_is_up(db_path: Path) -> None:
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(ConfirmScreen("Sure?"))
        await pilot.pause()
        app.notify("the run ended")
        await pilot.pause()
        assert [n.message for n in app._notifications] == []  # held, not under the dialog
        await pilot.press("n")
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["the run ended"]
