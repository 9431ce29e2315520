"""The batch list's marks and bulk actions (space, `*`, ctrl+a; r R c x D on the marked), its
named and reversible sort (o, O), the CLI's note on a second "Space Facts" from `e`, and times
in local time with the zone named (one formatter, `display.local_time`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui import display
from batchtui.tui.flows.bulk import BULK_ACTIONS, Refusal, act_on_many, refusal_lines
from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.dialogs import ConfirmScreen

from .helpers import wait_until
from .tui_support import batch, item, make_app, make_service, ran, store

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _names(screen: BatchListScreen) -> list[str]:
    table = screen.table
    return [table.source_row(key)[0].plain for key in table._rows]


def _three() -> list:
    return [
        batch(1, "Bravo", BatchStatus.COMPLETE, [ran(1, "x", ItemStatus.SUCCEEDED)], age=300),
        batch(2, "alpha", BatchStatus.DRAFT, [item(1, "x")], age=200),
        batch(3, "Charlie", BatchStatus.PROCESSING, [ran(1, "x", ItemStatus.RUNNING)], age=100),
    ]


@pytest.fixture
def local_zone():
    """Local time is Berlin's for the test (set in the test's own environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Europe/Berlin")
        time.tzset()
        yield
    time.tzset()


async def test_space_marks_and_moves_down_star_marks_all_escape_clears(db_path):
    store(db_path, *_three())
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        await pilot.press("space", "space")
        assert screen.marked == {"b00001000000", "b00002000000"}
        assert _names(screen) == ["* Bravo", "* alpha", "Charlie"]  # a glyph, not colour
        assert screen.sub_title == "batches · oldest first · 2 marked"
        await pilot.press("k", "space")  # again on a marked row: unmarked
        assert _names(screen) == ["* Bravo", "alpha", "Charlie"]
        await pilot.press("asterisk")
        assert _names(screen) == ["* Bravo", "* alpha", "* Charlie"]
        await pilot.press("ctrl+a")  # all marked already: cleared
        assert screen.marked == set() and screen.sub_title == "batches · oldest first"
        await pilot.press("ctrl+a", "escape")
        assert screen.marked == set() and _names(screen) == ["Bravo", "alpha", "Charlie"]


async def test_bulk_delete_asks_naming_them_explains_the_refused_and_deletes_the_rest(db_path):
    store(db_path, *_three())
    service = make_service(db_path)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        await pilot.press("asterisk", "x")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        assert dialog.question == "Delete 2 batches?"
        assert "· Bravo (COMPLETE" in dialog.detail and "· alpha (DRAFT" in dialog.detail
        # The running one is refused in `require`'s words, and nothing was changed for it.
        assert "Not deleted (1): Charlie" in dialog.detail
        assert "batch 'Charlie' is PROCESSING; deleting needs" in dialog.detail
        assert len(service.summaries()) == 3  # nothing deleted before the yes
        await pilot.press("y")
        await wait_until(lambda: len(service.summaries()) == 1)
        assert [s.name for s in service.summaries()] == ["Charlie"]
        await wait_until(lambda: _names(screen) == ["Charlie"])
        assert screen.marked == set()
        notes = [n.message for n in app._notifications]
        assert any("2 batches deleted: Bravo, alpha" in note for note in notes), notes


async def test_bulk_with_every_marked_batch_refused_says_why_and_changes_nothing(db_path):
    store(db_path, *_three())
    service = make_service(db_path)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        await pilot.press("space", "space")  # COMPLETE and DRAFT: neither can be cancelled
        assert not screen.check_action("cancel", ())  # so neither the footer nor c offer it
        assert screen.check_action("delete", ())
        # The list a poll behind (they were PROCESSING when marked): asked as stored now.
        act_on_many(app, sorted(screen.marked), "cancel")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert warnings and "Nothing to cancel: 2 batches refused" in warnings[-1].title
        message = warnings[-1].message
        assert "Not cancelled (2): Bravo, alpha" in message
        assert "batch 'Bravo' is COMPLETE; cancelling needs PROCESSING" in message
        assert "batch 'alpha' is DRAFT; cancelling needs PROCESSING" in message
        assert {s.status for s in service.summaries()} == {
            BatchStatus.COMPLETE,
            BatchStatus.DRAFT,
            BatchStatus.PROCESSING,
        }


async def test_bulk_duplicate_copies_each_marked_batch_without_asking(db_path):
    store(db_path, *_three()[:2])
    service = make_service(db_path)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        await pilot.press("asterisk", "D")
        await wait_until(lambda: len(service.summaries()) == 4)
        names = sorted(s.name for s in service.summaries())
        assert names == ["Bravo", "Bravo (copy)", "alpha", "alpha (copy)"]
        assert not isinstance(app.screen, ConfirmScreen)
        assert screen.marked == set()


async def test_run_again_asks_then_runs_every_item_of_an_ended_batch(db_path, monkeypatch):
    store(db_path, *_three()[:1])
    started: list[tuple[str, dict]] = []

    def start(app, batch_id, **kwargs):
        started.append((batch_id, kwargs))
        return True

    monkeypatch.setattr("batchtui.tui.flows.bulk.start_background", start)
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)
        await pilot.press("R")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.question == "Run again 1 batch?"
        assert not started
        await pilot.press("y")
        await wait_until(lambda: bool(started))
        batch_id, kwargs = started[0]
        assert batch_id == "b00001000000"
        assert kwargs["retry"] is True and kwargs["only"] == ["item00000001"]


async def test_o_names_each_order_and_shift_o_reverses_it(db_path):
    store(db_path, *_three())
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        assert screen.sub_title == "batches · oldest first"  # the default is named
        await pilot.press("O")
        assert _names(screen) == ["Charlie", "alpha", "Bravo"]
        assert screen.sub_title == "batches · newest first"
        await pilot.press("o", "o")  # by name (o starts an order the natural way round)
        assert _names(screen) == ["alpha", "Bravo", "Charlie"]
        assert screen.sub_title == "batches · name A→Z"
        await pilot.press("O")
        assert _names(screen) == ["Charlie", "Bravo", "alpha"]
        assert screen.sub_title == "batches · name Z→A"


async def test_a_second_example_says_its_name_is_taken_as_the_cli_does(db_path):
    service = BatchService(Repository(db_path))
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)
        await pilot.press("e")
        await wait_until(lambda: len(service.summaries()) == 1)
        first = service.summaries()[0].id
        assert not any("already named" in n.message for n in app._notifications)
        await pilot.press("e")
        await wait_until(lambda: len(service.summaries()) == 2)
        notes = [n.message for n in app._notifications]
        assert any(
            f"Note: 1 other batch already named 'Space Facts' ({first}); ids tell them apart"
            in note
            for note in notes
        ), notes


def test_times_are_local_with_the_zone_named(local_zone):
    now = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    assert display.local_time(datetime(2026, 12, 3, 13, 5, tzinfo=UTC), now) == "14:05 CET"
    assert display.local_time(datetime(2026, 12, 1, 13, 5, tzinfo=UTC), now) == "Dec 1 14:05 CET"
    assert display.local_time(datetime(2026, 7, 1, 13, 5, 9, tzinfo=UTC), now) == (
        "Jul 1 15:05 CEST"
    )
    assert display.local_time(datetime(2025, 12, 1, 13, 5, tzinfo=UTC), now) == (
        "Dec 1 2025 14:05 CET"
    )
    assert (
        display.local_time(datetime(2026, 12, 3, 13, 5, 9, tzinfo=UTC), now, seconds=True)
        == "14:05:09 CET"
    )
    assert display.local_time(None, now) == ""
    # A day is the local day: 23:30 UTC on Dec 3 is already Dec 4 in Berlin.
    assert display.local_time(datetime(2026, 12, 3, 23, 30, tzinfo=UTC), now) == "Dec 4 00:30 CET"


async def test_the_list_shows_times_in_local_time_with_the_zone(db_path, local_zone):
    store(db_path, *_three()[:2])
    app = make_app(make_service(db_path))  # its clock: 2026-11-25 12:00 UTC
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)
        await pilot.press("asterisk", "x")
        await wait_until(lambda: isinstance(app.screen, ConfirmScreen))
        # Made 11:55 and 11:56:40 UTC: 12:55 and 12:56 in Berlin, today, the zone named.
        assert "· Bravo (COMPLETE, made 12:55 CET)" in app.screen.detail
        assert "· alpha (DRAFT, made 12:56 CET)" in app.screen.detail


def test_the_cli_says_the_same_note_for_a_name_already_taken(run_cli):
    first = run_cli("create", "Space Facts", "--json")
    assert first.code == 0
    made = run_cli("create", "space  facts")  # case and spacing aside: the same name
    assert made.code == 0
    assert "batchtui: note: 1 other batch already named 'space facts' (" in made.err
    assert "); ids tell them apart" in made.err


async def test_typing_in_the_filter_never_marks_sorts_or_selects_all(db_path):
    store(db_path, *_three())
    app = make_app(make_service(db_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.checked)
        await pilot.press("slash", "a", "space", "O", "o", "asterisk", "ctrl+a", "x")
        await pilot.pause()
        assert screen.query_one("#filter").value == "xa Oo*"  # ctrl+a: the box's home
        assert screen.marked == set() and not screen.reverse and screen.sort == "created"
        assert not isinstance(app.screen, ConfirmScreen)


def test_refusals_give_one_reason_per_state_so_the_question_stays_short():
    action = BULK_ACTIONS["cancel"]
    refusals = [
        Refusal(f"Done {n}", f"batch 'Done {n}' is COMPLETE; cancelling needs …", "COMPLETE")
        for n in range(1, 6)
    ] + [Refusal("Draft", "batch 'Draft' is DRAFT; cancelling needs …", "DRAFT")]
    lines = refusal_lines(action, refusals)
    assert lines[0].startswith("Not cancelled (6): Done 1, Done 2, Done 3")
    assert lines[1:] == [
        "batch 'Done 1' is COMPLETE; cancelling needs …",
        "batch 'Draft' is DRAFT; cancelling needs …",
    ]


async def test_shift_e_makes_the_narrated_example_a_four_stage_pipeline(db_path):
    service = BatchService(Repository(db_path))
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)
        await pilot.press("e")  # the title-card example says the narrated one is a key away
        await wait_until(lambda: len(service.summaries()) == 1)
        assert any("E: a narrated one" in n.message for n in app._notifications)
        await pilot.press("E")
        await wait_until(lambda: len(service.summaries()) == 2)
        narrated = next(s for s in service.summaries() if s.name == "Ocean Facts")
        batch = service.get(narrated.id)
        assert [stage.name for stage in batch.config.stages or []] == [
            "script", "voice", "card", "mux",
        ]  # fmt: skip
        assert len(batch.items) == 3 and batch.config.output_ext == "mp4"
        assert service.lock_problems(batch.id) == []
