"""The config form says at once what it saved and what the lock will refuse, once and whole;
escape leaves a field (not the batch); the footer offers what keys do where the focus is."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.widgets.config_form import ConfigForm

from .tui_support import make_app, type_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _footer_actions(app) -> set[str]:
    return {
        active.binding.action.split("(")[0]
        for active in app.screen.active_bindings.values()
        if active.binding.show and app.screen.check_action(active.binding.action.split("(")[0], ())
    }


async def _editor(db_path, pilot, app) -> ItemEditorScreen:
    app.open_batch(app.service.get("Form").id)
    await pilot.pause()
    assert isinstance(app.screen, ItemEditorScreen)
    return app.screen


async def _set(pilot, editor: ItemEditorScreen, field: str, text: str) -> None:
    box = editor.query_one(f"#f-{field}", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def test_a_value_the_lock_will_refuse_is_said_when_it_is_saved(db_path):
    service = BatchService(Repository(db_path))
    service.add_items(service.create("Form").id, ["one"])
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await _editor(db_path, pilot, app)
        await _set(pilot, editor, "duration", "500")
        assert service.get("Form").config.duration == 500  # saved (a DRAFT may hold it)
        panel = str(editor.query_one("#problems").render())
        assert "Saved, but lock will refuse" in panel
        assert "duration 500s exceeds the YouTube Shorts limit of 60s" in panel
        assert any("saved Duration s: 500" in n.message for n in app._notifications)

        await _set(pilot, editor, "duration", "30")  # fixed: the warning goes
        assert editor.query_one("#problems").has_class("hidden")


async def test_a_refused_value_is_shown_once_whole_and_not_saved(db_path):
    service = BatchService(Repository(db_path))
    service.create("Form")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _editor(db_path, pilot, app)
        await _set(pilot, editor, "concurrency", "500")
        assert service.get("Form").config.concurrency == 3
        panel = str(editor.query_one("#problems").render())
        assert panel.startswith("Not saved:")
        assert panel.count("concurrency") == 1 and "between 1 and 64, not 500" in panel
        assert "batchtui " not in panel  # a TUI user is not sent to the CLI


async def test_escape_leaves_a_field_and_the_footer_follows_the_focus(db_path):
    service = BatchService(Repository(db_path))
    service.add_items(service.create("Form").id, ["one", "two"])
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _editor(db_path, pilot, app)
        assert {"add", "move", "remove"} <= _footer_actions(app)
        box = editor.query_one("#f-fps", Input)
        box.focus()
        await pilot.pause()
        assert not {"add", "edit", "remove", "move", "import"} & _footer_actions(app)
        box.value = "24"
        await pilot.press("escape")  # out of the field, saved as a blur saves
        await pilot.pause()
        assert app.screen is editor
        assert editor.focused is editor.query_one("#items")
        assert service.get("Form").config.fps == 24
        assert {"add", "move"} <= _footer_actions(app)
        await pilot.press("escape")  # from the items: back to the list
        await pilot.pause()
        assert app.screen is not editor


async def test_a_full_batch_says_how_to_make_room_in_the_tui_s_words(db_path):
    service = BatchService(Repository(db_path))
    service.add_items(service.create("Form", max_items=1).id, ["one"])
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _editor(db_path, pilot, app)
        editor._add_many(["two", "three"])
        await pilot.pause()
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "max items" in errors[-1] and "batchtui " not in errors[-1]


async def test_the_style_list_saves_the_batch_s_look(db_path):
    from textual.widgets import Select

    service = BatchService(Repository(db_path))
    service.create("Form")
    assert service.get("Form").config.style == "night"  # a new batch names its style
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await _editor(db_path, pilot, app)
        style = editor.query_one("#f-style", Select)
        assert style.value == "night"
        style.value = "paper"
        await pilot.pause()
        assert service.get("Form").config.style == "paper"
        assert any("saved Style: paper" in n.message for n in app._notifications)


async def test_variable_defaults_are_typed_as_name_value_pairs(db_path):
    """The form's Var defaults box: `voice=alto title='Space Facts'` (issue 28); a bad name is
    refused in the form's words and nothing is saved; empty clears them."""
    service = BatchService(Repository(db_path))
    service.create("Form", generator="command", command="python3 x.py {voice} {output}")
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await _editor(db_path, pilot, app)
        await _set(pilot, editor, "var_defaults", "voice=alto title='Space Facts'")
        assert service.get("Form").config.var_defaults == {
            "voice": "alto",
            "title": "Space Facts",
        }
        await _set(pilot, editor, "var_defaults", "bad-name=1")
        assert service.get("Form").config.var_defaults == {
            "voice": "alto",
            "title": "Space Facts",
        }
        assert str(editor.query_one("#problems").render()).startswith("Not saved:")
        await _set(pilot, editor, "var_defaults", "")
        for _ in range(100):  # saved as the form's message is handled (a loaded machine: later)
            if service.get("Form").config.var_defaults is None:
                break
            await pilot.pause(0.05)
        assert service.get("Form").config.var_defaults is None


async def test_a_save_compares_with_the_batch_as_stored_not_the_forms_copy(db_path):
    """Clearing a box whose stored value another save changed since the form last filled
    (a loaded machine refills late) still saves: 'unchanged' is judged against the store."""
    service = BatchService(Repository(db_path))
    service.create("Form", generator="command", command="python3 x.py {voice} {output}")
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await _editor(db_path, pilot, app)
        form = editor.query_one(ConfigForm)
        assert form.current is not None and form.current.config.var_defaults is None
        assert isinstance(form.save("var_defaults", "voice=alto"), ConfigForm.Saved)
        assert service.get("Form").config.var_defaults == {"voice": "alto"}
        outcome = form.save("var_defaults", "")  # before any refill: the copy still says None
        assert isinstance(outcome, ConfigForm.Saved)
        assert service.get("Form").config.var_defaults is None


async def test_a_stale_read_of_the_watcher_does_not_put_an_old_value_back(db_path):
    """The watcher's read from before a save, arriving after it, leaves the saved text in
    the box (it put the old one back: clearing it then saved nothing, the box already empty)."""
    service = BatchService(Repository(db_path))
    service.create("Form", generator="command", command="python3 x.py {voice} {output}")
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await _editor(db_path, pilot, app)
        stale = service.get("Form")  # as the watcher read it before the save
        await _set(pilot, editor, "var_defaults", "voice=alto")
        assert service.get("Form").config.var_defaults == {"voice": "alto"}
        editor.reload(stored=stale)
        assert editor.query_one("#f-var_defaults", Input).value == "voice=alto"
        await _set(pilot, editor, "var_defaults", "")
        assert service.get("Form").config.var_defaults is None
