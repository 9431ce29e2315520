"""A batch's pipeline stages in the TUI: S (or enter on the config's Stages row) opens them as
TOML; ctrl+s saves all or nothing, a refusal is said and the text kept, enter is a new line
(never a save, never a screen popped), escape leaves the batch as it was, a paste lands as
text; a locked batch's stages are shown, not changed. The progress screen says each running
item's stage, the item's detail every stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from batchtui.core.models import BatchStatus, ItemStatus, StageRecord
from batchtui.core.stages_text import EXAMPLE, parse_stages
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui import run_display
from batchtui.tui.screens.item_detail import ItemDetailScreen, stage_lines
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.stages_dialog import StagesDialog, StagesText

from .tui_support import batch, item, make_app, make_service, store

pytestmark = pytest.mark.anyio


def draft(db_path: Path, status: BatchStatus = BatchStatus.DRAFT) -> str:
    made = batch(1, "Piped", status, [item(1, "Why is the sky blue?")])
    store(db_path, made)
    return made.id


def stored(db_path: Path, batch_id: str):
    return BatchService(Repository(db_path)).get(batch_id)


async def open_stages(app, pilot, batch_id: str) -> StagesDialog:
    app.open_batch(batch_id)
    await pilot.pause()
    assert isinstance(app.screen, ItemEditorScreen)
    app.screen.query_one("#items").focus()
    await pilot.press("S")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, StagesDialog)
    return dialog


async def test_the_example_pipeline_is_offered_and_saved_as_shown(db_path: Path) -> None:
    batch_id = draft(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_stages(app, pilot, batch_id)
        await pilot.press("ctrl+s")  # nothing typed: the example as shown is saved
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        assert len(stored(db_path, batch_id).config.stages or []) == 4


async def test_the_example_pipeline_is_offered_and_saved_with_ctrl_s(db_path: Path) -> None:
    batch_id = draft(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_stages(app, pilot, batch_id)
        assert dialog.query_one(StagesText).text == EXAMPLE  # none yet: where to start
        await pilot.press("enter", "enter")  # new lines in the text: nothing closes
        await pilot.pause()
        assert app.screen is dialog
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        stages = stored(db_path, batch_id).config.stages
        assert [stage.name for stage in stages or []] == ["script", "voice", "card", "mux"]
        assert "script → voice → card → mux" in str(app.screen.query_one("#f-stages").label)


async def test_a_refused_text_is_said_and_kept_and_escape_changes_nothing(db_path: Path) -> None:
    batch_id = draft(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_stages(app, pilot, batch_id)
        text = dialog.query_one(StagesText)
        bad = '[[stages]]\nname = "Bad Name"\ncommand = "x {output}"\n'
        text.load_text(bad)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        said = str(dialog.query_one("#stages-error").render())
        assert "stages.0.name" in said and "\n" not in said.strip()
        assert text.text == bad  # kept to fix
        text.load_text("[[stages]]\nname = \n")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not valid TOML" in str(dialog.query_one("#stages-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        assert stored(db_path, batch_id).config.stages is None


async def test_a_paste_lands_as_text_and_y_and_n_are_typed(db_path: Path) -> None:
    batch_id = draft(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_stages(app, pilot, batch_id)
        text = dialog.query_one(StagesText)
        text.load_text("")
        pasted = '[[stages]]\nname = "only"\ncommand = "touch {output}"\n'
        app.post_message(events.Paste(pasted))  # as the driver does
        await pilot.pause()
        await pilot.press("y", "n")  # typed, not a confirm or a cancel
        await pilot.pause()
        assert app.screen is dialog and text.text == pasted + "yn"
        text.load_text(pasted)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [s.name for s in stored(db_path, batch_id).config.stages or []] == ["only"]


async def test_a_locked_batch_shows_its_stages_and_changes_none(db_path: Path) -> None:
    locked = batch(1, "Piped", BatchStatus.LOCKED, [item(1, "x")], stages=parse_stages(EXAMPLE))
    store(db_path, locked)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_stages(app, pilot, locked.id)
        text = dialog.query_one(StagesText)
        assert text.read_only and 'name = "voice"' in text.text
        await pilot.press("x", "enter", "ctrl+s")
        await pilot.pause()
        assert app.screen is dialog and 'name = "voice"' in text.text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)


def test_a_running_items_row_says_its_stage_and_the_detail_every_stage() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    running = item(1, "Why?", status=ItemStatus.RUNNING)
    running.stage = "card"
    running.stages = {
        "script": StageRecord(status=ItemStatus.SUCCEEDED, cached=True, key="a" * 64),
        "voice": StageRecord(status=ItemStatus.SUCCEEDED, attempts=2, seconds=1.5),
        "card": StageRecord(status=ItemStatus.RUNNING, attempts=1),
    }
    names = ["script", "voice", "card", "mux"]
    row = run_display.item_row(running, now, stages=names)
    assert row[-1].plain == "▸ card 3/4"
    assert row[2].plain == "2"  # tries: the most one stage took
    piped = batch(1, "Piped", BatchStatus.PROCESSING, [running], stages=parse_stages(EXAMPLE))
    lines = {name: text.plain for name, text in stage_lines(piped, running)}
    assert lines["script"].startswith("from the cache · key aaaaaaaaaaaa")
    assert lines["voice"] == "made in 1.5s in 2 attempts"
    assert lines["card"] == "running" and lines["mux"] == "not reached"
    assert ItemDetailScreen  # (the screen shows these lines under the item's facts)
