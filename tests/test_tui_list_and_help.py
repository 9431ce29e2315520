"""The batch list sorts, says how it is sorted and filtered, says when a filter matches
nothing, and duplicates a batch; help fits 80x24 and wraps as prose; long items end in '…'
within their pane; at 80 columns the item's words get the larger share of the row."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widgets import Input

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.dialogs import PromptScreen
from batchtui.tui.screens.help import HelpScreen
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.new_batch import NewBatchScreen

from .helpers import wait_until
from .tui_support import NOW, batch, item, make_app, make_service, ran, store, type_text

pytestmark = pytest.mark.anyio


def _names(screen: BatchListScreen) -> list[str]:
    table = screen.table
    return [table.source_row(key)[0].plain for key in table._rows]


@pytest.mark.slow
async def test_the_list_sorts_and_says_how(db_path):
    store(
        db_path,
        batch(1, "Bravo", BatchStatus.COMPLETE, [item(1, "x", ItemStatus.SUCCEEDED)], age=300),
        batch(2, "alpha", BatchStatus.DRAFT, [item(1, "x")], age=200),
        batch(3, "Charlie", BatchStatus.FAILED, [item(1, "x", ItemStatus.FAILED)], age=100),
    )
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        assert _names(screen) == ["Bravo", "alpha", "Charlie"]  # as created
        assert screen.sub_title == "batches · oldest first"  # the default order is named too
        await pilot.press("o")
        assert _names(screen) == ["Charlie", "alpha", "Bravo"]
        assert screen.sub_title == "batches · newest first"
        await pilot.press("o")
        assert _names(screen) == ["alpha", "Bravo", "Charlie"]
        await pilot.press("o")  # what needs a look first: failed, then drafts, complete last
        assert _names(screen) == ["Charlie", "alpha", "Bravo"]
        assert "by status" in screen.sub_title


@pytest.mark.slow
async def test_a_filter_says_it_is_on_and_when_it_matches_nothing(db_path):
    store(db_path, batch(1, "Cats", BatchStatus.DRAFT, [item(1, "x")]))
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        await pilot.press("slash")
        await type_text(pilot, "dogs")
        await pilot.press("enter")
        await pilot.pause()
        assert "filter 'dogs' (esc clears)" in screen.sub_title
        message = str(screen.query_one("#empty").render())
        assert "No batch matches 'dogs' (1 in all)" in message
        assert not screen.query_one("#empty").has_class("hidden")
        await pilot.press("escape")
        await pilot.pause()
        assert screen.sub_title == "batches · oldest first" and _names(screen) == ["Cats"]


@pytest.mark.slow
async def test_duplicate_makes_a_draft_with_the_config_and_items(db_path):
    service = BatchService(Repository(db_path))
    made = service.create("Cats", duration=7)
    service.add_items(made.id, ["one", "two"])
    service.lock(made.id)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one(Input).value == "Cats (copy)"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        copy = service.get("Cats (copy)")
        assert copy.status is BatchStatus.DRAFT and copy.id != made.id
        assert [i.content for i in copy.items] == ["one", "two"]
        assert copy.config.duration == 7
        assert service.get(made.id).status is BatchStatus.LOCKED  # the source is untouched


@pytest.mark.slow
async def test_the_new_batch_dialog_warns_of_a_name_already_taken(db_path):
    service = BatchService(Repository(db_path))
    service.create("Cats")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewBatchScreen)
        await type_text(pilot, "cats")
        await pilot.pause()
        hint = str(app.screen.query_one("#new-hint").render())
        assert "a batch named 'cats' already exists" in hint
        await type_text(pilot, " 2")
        await pilot.pause()
        assert "already exists" not in str(app.screen.query_one("#new-hint").render())


@pytest.mark.parametrize("opened", ["list", "editor", "progress"])
@pytest.mark.slow
async def test_help_fits_80x24_and_wraps_as_prose(db_path, opened):
    store(
        db_path,
        batch(1, "Draft", BatchStatus.DRAFT, [item(1, "x")]),
        batch(2, "Done", BatchStatus.PARTIAL, [ran(1, "x", ItemStatus.FAILED, error="boom")]),
    )
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)
        if opened == "editor":
            app.open_batch("b00001000000")
        elif opened == "progress":
            app.open_batch("b00002000000")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body")
        # All of it in view: nothing below the fold — but the end of the concepts: the list's
        # help is two lines longer (issue 26 added its marks and "run again" keys, issue 29
        # the host's queue), the progress screen's seven (issue 29's priority, issue 31's
        # news and its yes to a forecast, issue 32's review keys), the editor's one (issue
        # 30's stages): ↑/↓ scroll them in.
        assert body.max_scroll_y <= {"list": 2, "progress": 7, "editor": 1}.get(opened, 0)
        assert app.screen.focused is body  # and were it longer, ↑/↓ would scroll it
        # Prose wrapped to the dialog: every line but the last fills most of its width (hard
        # line breaks wrapped raggedly: a long line, then a stub of two words).
        concepts = app.screen.query(".dialog-detail").last()
        width = concepts.content_region.width
        lines = [
            strip.text.rstrip() for strip in concepts.render_lines(Region(0, 0, *concepts.size))
        ]
        lines = [line for line in lines if line]
        assert len(lines) >= 2
        assert all(len(line) > width * 0.75 for line in lines[:-1]), lines


async def test_a_long_item_ends_in_an_ellipsis_within_its_pane(db_path):
    long = "A very long topic about the history of the universe, from the first second on"
    store(db_path, batch(1, "Long", BatchStatus.DRAFT, [item(1, long)]))
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch("b00001000000")
        await pilot.pause()
        table = app.screen.query_one("#items")
        shown = table.get_row_at(0)[-1].plain.rstrip()  # the item's text: the last column
        assert shown.endswith("…") and long.startswith(shown[1:-1])
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling


async def test_at_80_columns_the_item_text_gets_the_larger_share(db_path):
    store(db_path, batch(1, "Run", BatchStatus.PARTIAL, [ran(1, "x", ItemStatus.FAILED)]))
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch("b00001000000")
        await pilot.pause()
        table = app.screen.query_one("#run-items")
        widths = dict(zip([c.key for c in table.spec], table.widths, strict=True))
        assert widths["content"] >= 20 and widths["content"] > widths["result"]
    assert NOW  # the fixed clock the fixtures share


async def test_relative_times_age_without_anything_happening(db_path, monkeypatch):
    from datetime import timedelta

    store(db_path, batch(1, "Still", BatchStatus.DRAFT, [item(1, "x")], age=30))
    now = [NOW]
    service = BatchService(Repository(db_path), clock=lambda: now[0])
    monkeypatch.setattr(BatchListScreen, "AGE_REFRESH", 0.05)
    app = make_app(service)
    async with app.run_test(size=(80, 24)):
        screen = app.screen
        await wait_until(lambda: screen.checked)
        changed = lambda: screen.table.source_row(screen.selected_id())[5].plain  # noqa: E731
        assert changed() == "just now"
        now[0] = NOW + timedelta(minutes=3)
        await wait_until(lambda: changed() == "3m ago")
