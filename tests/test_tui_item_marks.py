"""The item editor's marks, deletes and undo, driven by keys (Textual's pilot): `space` marks,
`*`/ctrl+a mark all or clear, `d` deletes the marked items (or the current one) with no
question because `u` puts them back where they were, the moves act on the marked items, and
keys typed in the item box are text, never these commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.widgets.item_input import ItemInput

from .tui_support import batch, item, make_app, make_service, store, type_text

pytestmark = pytest.mark.anyio

TOPICS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def five(db_path: Path) -> str:
    draft = batch(1, "Five", BatchStatus.DRAFT, [item(n, t) for n, t in enumerate(TOPICS, 1)])
    store(db_path, draft)
    return draft.id


def contents(db_path: Path, batch_id: str) -> list[str]:
    return [i.content for i in BatchService(Repository(db_path)).get(batch_id).items]


def ids(db_path: Path, batch_id: str) -> list[str]:
    return [i.id for i in BatchService(Repository(db_path)).get(batch_id).items]


def marks(screen: ItemEditorScreen) -> list[str]:
    """The mark column as shown, row by row."""
    table = screen.query_one("#items")
    return [table.get_row_at(row)[0].plain.strip() for row in range(table.row_count)]


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_editor(app, pilot, batch_id: str) -> ItemEditorScreen:
    app.open_batch(batch_id)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ItemEditorScreen)
    assert screen.focused is screen.query_one("#items")  # items: the table has the focus
    return screen


async def test_marked_items_are_deleted_at_once_and_u_puts_them_back(db_path: Path) -> None:
    batch_id = five(db_path)
    before = ids(db_path, batch_id)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        await pilot.press("down", "space", "down", "space")  # beta, then delta
        await pilot.pause()
        assert marks(screen) == ["", "*", "", "*", ""]
        assert screen.sub_title.endswith("· 2 marked")
        await pilot.press("d")
        await pilot.pause()
        assert contents(db_path, batch_id) == ["alpha", "gamma", "epsilon"]
        assert "deleted 2 items · u: undo" in notes(app)
        assert marks(screen) == ["", "", ""] and "marked" not in screen.sub_title
        await pilot.press("u")
        await pilot.pause()
        assert contents(db_path, batch_id) == TOPICS  # same text, same places
        assert ids(db_path, batch_id) == before  # the same items, not copies
        assert "restored 2 items" in notes(app)


async def test_undo_has_several_levels(db_path: Path) -> None:
    batch_id = five(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_editor(app, pilot, batch_id)
        await pilot.press("d", "d", "G", "d")  # alpha, beta, then the last: epsilon
        await pilot.pause()
        assert contents(db_path, batch_id) == ["gamma", "delta"]
        await pilot.press("u")
        await pilot.pause()
        assert contents(db_path, batch_id) == ["gamma", "delta", "epsilon"]
        await pilot.press("u", "u")
        await pilot.pause()
        assert contents(db_path, batch_id) == TOPICS
        await pilot.press("u")  # nothing left to undo: nothing happens
        await pilot.pause()
        assert contents(db_path, batch_id) == TOPICS


async def test_an_undo_that_no_longer_fits_is_refused_and_kept(db_path: Path) -> None:
    batch_id = five(db_path)
    service = make_service(db_path)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_editor(app, pilot, batch_id)
        await pilot.press("d")
        await pilot.pause()
        service.update_config(batch_id, max_items=4)  # elsewhere (the CLI): now it is full
        await pilot.press("u")
        await pilot.pause()
        assert contents(db_path, batch_id) == ["beta", "gamma", "delta", "epsilon"]
        assert any("do not fit" in note for note in notes(app))
        service.update_config(batch_id, max_items=10)
        await pilot.press("u")  # still there to undo once there is room
        await pilot.pause()
        assert contents(db_path, batch_id)[0] == "alpha"


async def test_star_and_ctrl_a_mark_all_and_clear(db_path: Path) -> None:
    batch_id = five(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        await pilot.press("asterisk")
        await pilot.pause()
        assert marks(screen) == ["*"] * 5 and screen.sub_title.endswith("· 5 marked")
        await pilot.press("ctrl+a")  # all are marked: clears
        await pilot.pause()
        assert marks(screen) == [""] * 5 and "marked" not in screen.sub_title
        await pilot.press("ctrl+a", "escape")  # escape clears the marks, not the screen
        await pilot.pause()
        assert app.screen is screen and marks(screen) == [""] * 5
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen


async def test_marked_items_move_together(db_path: Path) -> None:
    batch_id = five(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        await pilot.press("down", "space", "down", "down", "space")  # beta and epsilon
        await pilot.press("shift+up")
        await pilot.pause()
        assert contents(db_path, batch_id) == ["beta", "alpha", "gamma", "epsilon", "delta"]
        await pilot.press("K", "K")  # beta stays at the top; epsilon goes on up
        await pilot.pause()
        assert contents(db_path, batch_id) == ["beta", "epsilon", "alpha", "gamma", "delta"]
        assert marks(screen) == ["*", "*", "", "", ""]  # the marks follow their items


async def test_keys_typed_in_the_item_box_are_text_not_commands(db_path: Path) -> None:
    batch_id = five(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        await pilot.press("a")
        box = screen.query_one("#item-input", ItemInput)
        assert screen.focused is box
        assert not screen.check_action("remove", ())  # the footer offers no item keys
        await type_text(pilot, "d u * q i dd")
        await pilot.press("shift+up", "ctrl+a")  # no move, no marks while typing
        await pilot.pause()
        assert app.screen is screen and not screen.marked
        assert contents(db_path, batch_id) == TOPICS
        await pilot.press("end", "enter")
        await pilot.pause()
        assert contents(db_path, batch_id) == [*TOPICS, "d u * q i dd"]


async def test_a_new_batch_opens_typing_and_blank_lines_add_nothing(db_path: Path) -> None:
    service = BatchService(Repository(db_path))
    made = service.create("New")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        screen = app.screen
        box = screen.query_one("#item-input", ItemInput)
        assert screen.focused is box  # empty: the box, where the hint invites typing
        assert box.placeholder.startswith("type an item + enter")
        await pilot.press("enter", "enter")  # blank lines: no item, and the box keeps focus
        await type_text(pilot, "first")
        await pilot.press("enter", "enter")
        await type_text(pilot, "second")
        await pilot.press("enter")
        await pilot.pause()
        assert [i.content for i in service.get(made.id).items] == ["first", "second"]
        assert screen.focused is box
        await pilot.press("escape")  # esc: to the table, whose hint says letters are keys
        await pilot.pause()
        assert screen.focused is screen.query_one("#items")
        assert box.placeholder.startswith("a: ")


async def test_an_edit_saved_with_enter_returns_to_the_table(db_path: Path) -> None:
    batch_id = five(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        await pilot.press("enter")  # edit alpha
        box = screen.query_one("#item-input", ItemInput)
        assert screen.focused is box and box.value == "alpha"
        await pilot.press("end", "!", "enter")
        await pilot.pause()
        assert contents(db_path, batch_id)[0] == "alpha!"
        assert screen.focused is screen.query_one("#items")
        assert box.value == ""


async def test_a_pasted_line_with_its_line_end_is_an_item(db_path: Path) -> None:
    """Pasted with brackets as typed without them: 'one⏎' adds 'one'; 'two' (no line end)
    waits in the box for enter."""
    from textual import events

    service = BatchService(Repository(db_path))
    made = service.create("Paste")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        box = app.screen.query_one("#item-input", ItemInput)
        assert app.screen.focused is box
        box.post_message(events.Paste("one\r\n"))
        await pilot.pause()
        box.post_message(events.Paste("two"))
        await pilot.pause()
        assert [i.content for i in service.get(made.id).items] == ["one"]
        assert box.value == "two"
        await pilot.press("enter")
        await pilot.pause()
    assert [i.content for i in service.get(made.id).items] == ["one", "two"]


async def test_typing_in_an_edit_goes_on_from_the_end(db_path: Path) -> None:
    """The box does not select its text on focus: the first key typed in an edit (or after
    coming back to a line left with esc) adds to it instead of replacing it all."""
    batch_id = five(db_path)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_editor(app, pilot, batch_id)
        await pilot.press("e")
        await type_text(pilot, " and more")
        await pilot.press("enter")
        await pilot.pause()
        assert contents(db_path, batch_id)[0] == "alpha and more"
        await pilot.press("a")
        await type_text(pilot, "half")
        await pilot.press("escape", "a")  # out and back in: the line is still there
        await type_text(pilot, " done")
        await pilot.press("enter")
        await pilot.pause()
        assert contents(db_path, batch_id)[-1] == "half done"
        assert screen.focused is screen.query_one("#item-input")
