"""Item variables and keys in the TUI, driven by keys (Textual's pilot): the editor shows a
column per variable (and a Key column) and scrolls sideways at 80 columns; `v` edits the
selected item's variables and key in a dialog that saves all or nothing, keeps the text of a
bad line, answers once however often enter comes, and takes pastes as text; variants are
named by their label (`2.v3`) on the progress screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.progress import ProgressScreen
from batchtui.tui.screens.vars_dialog import VarLines, VarsDialog

from .tui_support import batch, item, make_app, make_service, store, type_text

pytestmark = pytest.mark.anyio

LONG_TITLE = "A title far longer than any column shows in the table"


def series(db_path: Path) -> str:
    """A draft of three items: vars voice/seed/title on some, keys on two."""
    draft = batch(
        1,
        "Series",
        BatchStatus.DRAFT,
        [
            item(1, "Why is space dark?", vars={"voice": "alto", "seed": 7}, key="dark"),
            item(2, "What are black holes?", vars={"voice": "bass", "title": LONG_TITLE}),
            item(3, "How stars die", key="stars"),
        ],
    )
    store(db_path, draft)
    return draft.id


def stored(db_path: Path, batch_id: str):
    return BatchService(Repository(db_path)).get(batch_id).items


def headers(table) -> list[str]:
    return [column.label.plain.strip() for column in table.columns.values()]


def cells(table, row: int) -> list[str]:
    return [cell.plain.strip() for cell in table.get_row_at(row)]


async def open_editor(app, pilot, batch_id: str) -> ItemEditorScreen:
    app.open_batch(batch_id)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ItemEditorScreen)
    return screen


async def open_vars(pilot) -> VarsDialog:
    await pilot.press("v")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, VarsDialog)
    return dialog


async def test_the_editor_shows_a_column_per_variable_and_the_keys(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        table = screen.query_one("#items")
        assert headers(table) == ["", "#", "Key", "Item", "voice", "seed", "title"]
        first, second, third = (cells(table, row) for row in range(3))
        assert first[2] == "dark" and first[4:] == ["alto", "7", ""]
        assert second[2] == "" and second[4] == "bass" and second[6].endswith("…")
        assert third[2] == "stars" and third[4:] == ["", "", ""]


async def test_a_batch_without_vars_or_keys_keeps_its_two_columns(db_path: Path) -> None:
    draft = batch(1, "Plain", BatchStatus.DRAFT, [item(1, "alpha"), item(2, "beta")])
    store(db_path, draft)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, draft.id)
        assert headers(screen.query_one("#items")) == ["", "#", "Item"]


async def test_the_table_scrolls_sideways_to_the_last_column_at_80x24(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        table = screen.query_one("#items")
        assert table.virtual_size.width > table.scrollable_content_region.width
        assert table.scroll_x == 0
        last = table.virtual_size.width - table.scrollable_content_region.width
        for _ in range(last + 5):  # the row cursor's → scrolls sideways
            await pilot.press("right")
        await pilot.pause()
        assert table.scroll_x == table.max_scroll_x > 0
        assert "title" in "".join(segment.text for segment in table.render_line(0)._segments)


async def test_v_sets_and_unsets_variables_and_the_key(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        dialog = await open_vars(pilot)
        lines = dialog.query_one(VarLines)
        assert lines.text == "voice=alto\nseed=7"
        lines.text = "voice=tenor\nsubtitle=a fact $(rm -rf ~) 'q'"  # seed's line removed
        await pilot.press("tab")  # to the key box
        await pilot.press(*["backspace"] * 8)
        await type_text(pilot, "intro")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        first = stored(db_path, batch_id)[0]
        assert first.vars == {"voice": "tenor", "subtitle": "a fact $(rm -rf ~) 'q'"}
        assert first.key == "intro"
        assert "subtitle" in headers(screen.query_one("#items"))


async def test_a_line_left_as_it_was_keeps_its_number(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_editor(app, pilot, batch_id)
        dialog = await open_vars(pilot)
        dialog.query_one(VarLines).text = "voice=soprano\nseed=7"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert stored(db_path, batch_id)[0].vars == {"voice": "soprano", "seed": 7}


async def test_a_bad_line_is_said_and_its_text_kept_nothing_saved(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_editor(app, pilot, batch_id)
        dialog = await open_vars(pilot)
        lines = dialog.query_one(VarLines)
        await pilot.press("enter")  # after seed=7: a new line
        await type_text(pilot, "not an assignment")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        assert lines.text == "voice=alto\nseed=7\nnot an assignment"  # no line added
        error = str(dialog.query_one("#vars-error").render())
        assert "is not NAME=VALUE" in error
        await pilot.press("ctrl+s")  # saving all of it: refused, naming the line
        await pilot.pause()
        assert app.screen is dialog
        assert "line 3" in str(dialog.query_one("#vars-error").render())
        await pilot.press("tab")
        await type_text(pilot, "x")  # key darkx: fine, but the lines are not
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and lines.text.endswith("not an assignment")
        first = stored(db_path, batch_id)[0]
        assert first.vars == {"voice": "alto", "seed": 7} and first.key == "dark"


async def test_a_taken_key_is_refused_in_the_dialog(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_editor(app, pilot, batch_id)
        dialog = await open_vars(pilot)
        dialog.query_one(VarLines).text = "voice=tenor"
        await pilot.press("tab", *["backspace"] * 4)
        await type_text(pilot, "stars")  # item 3's
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        assert "stars" in str(dialog.query_one("#vars-error").render())
        assert stored(db_path, batch_id)[0].vars == {"voice": "alto", "seed": 7}


async def test_enter_twice_saves_once_and_keeps_the_editor(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        await open_vars(pilot)
        await pilot.press("tab", "enter", "enter", "enter")
        await pilot.pause()
        assert app.screen is screen  # the editor, not the list below it


async def test_escape_cancels_and_saves_nothing(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        dialog = await open_vars(pilot)
        dialog.query_one(VarLines).text = "voice=tenor"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert stored(db_path, batch_id)[0].vars == {"voice": "alto", "seed": 7}


async def test_a_bracketed_paste_lands_as_text(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        dialog = await open_vars(pilot)
        lines = dialog.query_one(VarLines)
        app.post_message(events.Paste("\nmood=calm d\nlang=en\n"))  # as the driver does
        await pilot.pause()
        assert app.screen is dialog and "mood=calm d\nlang=en" in lines.text
        assert len(stored(db_path, batch_id)) == 3  # no item made of the paste
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen, (str(dialog.query_one("#vars-error").render()), lines.text)
        assert stored(db_path, batch_id)[0].vars == {
            "voice": "alto",
            "seed": 7,
            "mood": "calm d",
            "lang": "en",
        }


async def test_an_unbracketed_paste_arrives_as_keys_and_lands_as_text(db_path: Path) -> None:
    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_editor(app, pilot, batch_id)
        dialog = await open_vars(pilot)
        await pilot.press("ctrl+j")  # the LF of a paste, then its lines
        await type_text(pilot, "mood=q d")
        await pilot.press("ctrl+j")
        await type_text(pilot, "lang=en")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one(VarLines).text == "voice=alto\nseed=7\nmood=q d\nlang=en"
        assert stored(db_path, batch_id)[0].vars == {"voice": "alto", "seed": 7}


async def test_variants_are_named_by_label_on_the_progress_screen(db_path: Path) -> None:
    service = make_service(db_path)
    created = service.create("Picks", output_dir=str(db_path.parent / "out"), variants=2)
    service.add_items(created.id, ["alpha", "beta"], keys=["a1", "b1"])
    service.lock(created.id)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_progress(created.id)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        table = screen.query_one("#run-items")
        assert "Key" in headers(table)
        rows = [cells(table, row) for row in range(table.row_count)]
        labels = [row[1] for row in rows]
        assert labels == ["1.v1", "1.v2", "2.v1", "2.v2"]
        assert [row[2] for row in rows] == ["a1", "a1", "b1", "b1"]


async def test_the_item_detail_shows_the_label_key_and_variables_whole(db_path: Path) -> None:
    from batchtui.tui.screens.item_detail import ItemDetailScreen

    batch_id = series(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        stored_batch = BatchService(Repository(db_path)).get(batch_id)
        app.push_screen(ItemDetailScreen(stored_batch, stored_batch.items[1]))
        await pilot.pause()
        shown = "\n".join(
            "".join(segment.text for segment in strip)
            for strip in app.screen._compositor.render_strips()
        )
        assert "Item 2 of 3" in shown
        assert "bass" in shown and LONG_TITLE in " ".join(shown.split())


async def test_a_locked_batch_with_variants_counts_its_items_not_its_rows(db_path: Path) -> None:
    service = make_service(db_path)
    created = service.create("Picks", output_dir=str(db_path.parent / "out"), variants=3)
    service.add_items(created.id, ["alpha", "beta"])
    service.lock(created.id)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, created.id)
        head = str(screen.query_one("#editor-head").render())
        assert "2/10 items × 3 variants" in head  # not "6/10": the rows are variants
        labels = [cells(screen.query_one("#items"), row)[1] for row in range(6)]
        assert labels == ["1.v1", "1.v2", "1.v3", "2.v1", "2.v2", "2.v3"]
