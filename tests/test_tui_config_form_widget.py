"""The config form is a widget that says what happened with messages (`ConfigForm.Saved`,
`ConfigForm.Refused`); only the project's refusals are "Not saved", a bug is never dressed up
as one; the name box holds no more than a name may; a background task that fails says so."""

from __future__ import annotations

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Input

from batchtui.core.errors import BusyError
from batchtui.core.limits import MAX_NAME_CHARS
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.widgets.config_form import ConfigForm

from .helpers import wait_until
from .tui_support import make_app, type_text

pytestmark = pytest.mark.anyio


class FormOnly(App[None]):
    """The form on its own, as any screen would compose it; its messages are kept."""

    def __init__(self, service: BatchService, batch_id: str) -> None:
        super().__init__()
        self.service = service
        self.batch_id = batch_id
        self.told: list[ConfigForm.Saved | ConfigForm.Refused] = []

    def compose(self) -> ComposeResult:
        yield ConfigForm(self.service, self.service.generator_names(), id="config-pane")

    def on_mount(self) -> None:
        self.query_one(ConfigForm).show(self.service.get(self.batch_id))

    @on(ConfigForm.Saved)
    @on(ConfigForm.Refused)
    def _told(self, message: ConfigForm.Saved | ConfigForm.Refused) -> None:
        self.told.append(message)


async def _enter(pilot, field: str, text: str) -> None:
    box = pilot.app.screen.query_one(f"#f-{field}", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def test_the_form_posts_what_it_saved_and_what_was_refused(db_path):
    service = BatchService(Repository(db_path))
    made = service.create("Form")
    app = FormOnly(service, made.id)
    async with app.run_test(size=(60, 20)) as pilot:
        form = app.query_one(ConfigForm)
        await _enter(pilot, "fps", "25")
        await _enter(pilot, "fps", "many")
        await _enter(pilot, "concurrency", "500")
    saved, *refused = app.told
    assert isinstance(saved, ConfigForm.Saved) and (saved.field, saved.value) == ("fps", "25")
    assert saved.control is form
    assert all(isinstance(message, ConfigForm.Refused) for message in refused)
    # 'many' is refused on enter, and again as the box is left with it still in it.
    assert [(m.field, m.problems) for m in refused[:2]] == [
        ("fps", ["FPS: 'many' is not a whole number"])
    ] * 2
    (out_of_range,) = refused[2:]
    assert out_of_range.field == "concurrency" and "not 500" in out_of_range.problems[0]
    assert service.get(made.id).config.fps == 25
    assert service.get(made.id).config.concurrency == 3


async def test_a_refusal_of_the_store_is_not_saved_and_said(db_path, monkeypatch):
    service = BatchService(Repository(db_path))
    service.create("Form")

    def busy(*args, **kwargs):
        raise BusyError("another process holds the database: try again")

    monkeypatch.setattr(service, "update_config", busy)
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(service.get("Form").id)
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        await _enter(pilot, "fps", "25")
        panel = str(app.screen.query_one("#problems").render())
        assert panel.startswith("Not saved:") and "another process holds" in panel


async def test_a_bug_while_saving_is_not_shown_as_not_saved_it_reaches_the_app(
    db_path, monkeypatch
):
    service = BatchService(Repository(db_path))
    service.create("Form")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the service")

    monkeypatch.setattr(service, "update_config", broken)
    app = make_app(service)
    panels: list[str] = []
    with pytest.raises(RuntimeError, match="a bug in the service"):
        async with app.run_test(size=(100, 30)) as pilot:
            app.open_batch(service.get("Form").id)
            await pilot.pause()
            await _enter(pilot, "fps", "25")
            panels.append(str(app.screen.query_one("#problems").render()))
    assert not any("Not saved" in panel for panel in panels)


@pytest.mark.slow
async def test_the_name_box_holds_no_longer_a_name_than_a_batch_may_have(db_path):
    service = BatchService(Repository(db_path))
    service.create("Form")
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(service.get("Form").id)
        await pilot.pause()
        box = app.screen.query_one("#f-name", Input)
        assert box.max_length == MAX_NAME_CHARS
        box.focus()
        box.value = ""
        await type_text(pilot, "x" * (MAX_NAME_CHARS + 5))
        assert len(box.value) == MAX_NAME_CHARS
        await pilot.press("enter")
        await pilot.pause()
    assert service.get("x" * MAX_NAME_CHARS).name == "x" * MAX_NAME_CHARS


async def test_a_follower_that_fails_with_a_bug_says_so_instead_of_stopping_silently(
    db_path, monkeypatch
):
    service = BatchService(Repository(db_path))
    service.create("Listed")

    async def broken_follow_list(*, poll=None):
        raise RuntimeError("a bug in following")
        yield  # an async generator, as the real one

    monkeypatch.setattr(service, "follow_list", broken_follow_list)
    app = make_app(service)
    async with app.run_test(size=(100, 30)):
        await wait_until(lambda: any("a bug in following" in n.message for n in app._notifications))
        (note,) = [n for n in app._notifications if "a bug in following" in n.message]
        assert note.severity == "error" and "internal error" in note.message
