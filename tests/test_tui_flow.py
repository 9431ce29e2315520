"""The TUI driven by keys, as a user would: whole flows, bursts, quitting while running."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from textual.widgets import Input

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.flows import runs
from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.progress import ProgressScreen

from .helpers import pid_alive, wait_until
from .tui_support import NOW, batch, item, make_app, store, type_text

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_new_batch_to_complete_by_keys_alone(db_path):
    """Keys only, a real render: create, add, set the duration, lock, start; the run is a
    runner process's, and the screen follows it to COMPLETE."""
    service = BatchService(Repository(db_path), flush_interval=0.02)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, BatchListScreen)
        await pilot.press("n")
        await type_text(pilot, "Cats")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        editor = app.screen

        duration = editor.query_one("#f-duration", Input)
        duration.focus()
        duration.value = "1"
        await pilot.press("enter")
        await pilot.pause()
        assert service.get("Cats").config.duration == 1

        editor.query_one("#items").focus()
        await pilot.press("a")
        for topic in ("Why cats purr", "Why cats nap", "Why cats knead"):
            await type_text(pilot, topic)
            await pilot.press("enter")
        await pilot.pause()
        assert [i.content for i in service.get("Cats").items] == [
            "Why cats purr",
            "Why cats nap",
            "Why cats knead",
        ]
        assert "3/10 items" in str(editor.query_one("#editor-head").render())

        await pilot.press("escape")  # leave the item input
        await pilot.press("l")
        await pilot.pause()
        assert service.get("Cats").status is BatchStatus.LOCKED
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "StartScreen"
        await pilot.press("enter")  # start: handed to a runner process
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        progress = app.screen
        begun = service.get("Cats")
        if begun.runner is not None:  # still running: its owner is a runner process
            assert begun.runner.detached and begun.runner.pid != os.getpid()
        else:  # a loaded machine: it has already ended; its items name who ran them
            owners = {item.job_ref for item in begun.items}
            assert len(owners) == 1 and owners != {f"pid {os.getpid()}"}
            assert owners.pop().startswith("pid ")
        await wait_until(
            lambda: progress.current and progress.current.status is BatchStatus.COMPLETE, limit=60
        )
        await pilot.pause(0.1)
        assert "COMPLETE" in str(progress.query_one("#next-step").render())

        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, BatchListScreen)
        await wait_until(
            lambda: "3/3" in str(app.screen.table.source_row(app.screen.selected_id())[2])
        )
        row = app.screen.table.source_row(app.screen.selected_id())
        assert "✔ COMPLETE" in str(row[1]) and "3/3" in str(row[2])
    assert service.get("Cats").status is BatchStatus.COMPLETE
    assert len(service.outputs("Cats")) == 3


async def test_a_1000_item_flush_keeps_keys_responsive(db_path):
    """A runner's flush that finishes 1,000 items at once: the screen catches up from the
    store, a key press is still handled, and the final counts show."""
    running = batch(
        1,
        "Burst",
        BatchStatus.PROCESSING,
        [item(n + 1, f"item {n}") for n in range(1000)],
        max_items=1000,
    )
    store(db_path, running)
    service = BatchService(Repository(db_path), clock=lambda: NOW)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_progress(running.id)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        with Repository(db_path).transaction() as tx:  # what the runner writes in one flush
            stored = tx.get(running.id)
            for it in stored.items:
                it.move_to(ItemStatus.RUNNING)
                it.move_to(ItemStatus.SUCCEEDED)
                it.output_path = f"/render/out/{it.position}.txt"
            tx.save(stored)
        await wait_until(lambda: screen.current.progress().succeeded == 1000)
        await pilot.press("o")  # a key during the redraw: outputs only
        await pilot.pause(0.2)
        assert screen.filter == "outputs"
        counts = str(screen.query_one("#run-counts").render())
        assert "1000/1000 finished" in counts and "1000 succeeded" in counts


async def test_rows_follow_the_runner_through_the_store(db_path):
    """Each flush of a runner shows up in the rows: status, try, progress, output, error."""
    running = batch(
        1, "Follow", BatchStatus.PROCESSING, [item(n + 1, f"item {n}") for n in range(3)]
    )
    store(db_path, running)
    app = make_app(BatchService(Repository(db_path), clock=lambda: NOW), poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_progress(running.id)
        await pilot.pause()
        table = app.screen.query_one("#run-items")

        def shown(row: int) -> list[str]:
            return [str(cell).strip() for cell in table.get_row_at(row)]

        with Repository(db_path).transaction() as tx:
            stored = tx.get(running.id)
            first, second = stored.items[0], stored.items[1]
            first.move_to(ItemStatus.RUNNING)
            first.attempts, first.started_at, first.progress = 1, NOW, 0.6
            second.move_to(ItemStatus.RUNNING)
            second.attempts, second.started_at = 1, NOW
            second.move_to(ItemStatus.FAILED)
            second.finished_at, second.error = NOW, "exit code 3: no font"
            tx.save(stored)
        await wait_until(lambda: shown(0)[0] == "▶ RUNNING")
        assert shown(0)[2] == "1" and "60%" in shown(0)[3]
        assert shown(1)[0] == "✖ FAILED" and shown(1)[6] == "exit code 3: no font"
        assert shown(2)[0] == "· PENDING"


async def test_markup_and_escapes_are_shown_literally(db_path):
    hostile = "[bold]x[/bold] [link=http://e.vil]y[/link] \x1b[31mred\x1b[0m"
    store(db_path, batch(1, "Hostile [red]name[/red]", BatchStatus.DRAFT, [item(1, hostile)]))
    app = make_app(BatchService(Repository(db_path), clock=lambda: NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        name_cell = app.screen.table.source_row(app.screen.selected_id())[0]
        assert name_cell.plain == "Hostile [red]name[/red]"
        await pilot.press("enter")
        await pilot.pause()
        table = app.screen.query_one("#items")
        content = table.source_row(table.selected_key())[-1]  # the item's text: the last column
        assert content.plain == "[bold]x[/bold] [link=http://e.vil]y[/link] ␛[31mred␛[0m"


def slow_batch(service: BatchService, make_script, name: str, count: int = 2) -> str:
    """A LOCKED batch of `count` items whose command sleeps until it is stopped."""
    script = make_script(
        "slow.py", "import sys, time\ntime.sleep(60)\nopen(sys.argv[1], 'w').write('x')\n"
    )
    made = service.create(
        name, generator="command", command=f"{script} {{output}}", output_ext="txt"
    )
    service.add_items(made.id, [f"item {n}" for n in range(count)])
    service.lock(made.id)
    return made.id


def items_running(service: BatchService, batch_id: str, count: int) -> Callable[[], bool]:
    return lambda: sum(i.status is ItemStatus.RUNNING for i in service.get(batch_id).items) == count


@pytest.mark.parametrize("choice", ["leave", "stop"])
async def test_quit_offers_to_leave_runs_going_or_stop_them(db_path, make_script, choice):
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch_id = slow_batch(service, make_script, "Long")
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        assert runs.start_background(app, batch_id)
        await wait_until(items_running(service, batch_id, 2), limit=20)
        await pilot.press("q")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "QuitScreen"
        # enter (or y), the one confirm key of every dialog, takes the default: runs go on
        await pilot.press("enter" if choice == "leave" else "s")
        await wait_until(lambda: not app.is_running)
    if choice == "leave":
        ongoing = service.get(batch_id)
        assert ongoing.status is BatchStatus.PROCESSING  # the app is gone, the run is not
        assert ongoing.runner is not None and pid_alive(ongoing.runner.pid)
        service.cancel(batch_id)
    await wait_until(lambda: service.get(batch_id).status is not BatchStatus.PROCESSING, limit=20)
    ended = service.get(batch_id)
    assert ended.status is BatchStatus.FAILED
    assert [i.status for i in ended.items] == [ItemStatus.CANCELLED] * 2


async def test_quit_with_no_run_of_its_own_asks_nothing(db_path, make_script):
    """A run someone else started (the CLI, another TUI) is not this app's to stop."""
    service = BatchService(Repository(db_path), flush_interval=0.02)
    batch_id = slow_batch(service, make_script, "Theirs", count=1)
    service.start_detached(batch_id)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await wait_until(lambda: not app.is_running)
    assert service.get(batch_id).status is BatchStatus.PROCESSING
    service.cancel(batch_id)
    await wait_until(lambda: service.get(batch_id).status is not BatchStatus.PROCESSING, limit=20)


async def test_paste_of_several_lines_adds_several_items(db_path):
    from textual import events

    service = BatchService(Repository(db_path))
    made = service.create("Paste")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        box = app.screen.query_one("#item-input", Input)
        box.focus()
        box.post_message(events.Paste("one\ntwo\n\nthree\n"))
        await pilot.pause()
    assert [i.content for i in service.get(made.id).items] == ["one", "two", "three"]


async def test_import_lock_errors_inline_then_unlock(db_path, tmp_path):
    topics = tmp_path / "topics.txt"
    topics.write_text("Volcanoes\n\nEarthquakes\nTsunamis\n")
    service = BatchService(Repository(db_path))
    made = service.create("Earth", duration=90)  # YouTube Shorts allow 60s at most
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        await pilot.press("escape")  # an empty batch opens in the item box: i would be typed
        await pilot.press("i")
        await type_text(pilot, str(topics))
        await pilot.press("enter")
        await pilot.pause()
        assert [i.content for i in service.get(made.id).items] == [
            "Volcanoes",
            "Earthquakes",
            "Tsunamis",
        ]
        await pilot.press("l")
        await pilot.pause()
        problems = str(app.screen.query_one("#problems").render())
        assert "duration 90s exceeds the YouTube Shorts limit of 60s" in problems
        assert service.get(made.id).status is BatchStatus.DRAFT

        duration = app.screen.query_one("#f-duration", Input)
        duration.focus()
        duration.value = "20"
        await pilot.press("enter")
        await pilot.pause()
        assert service.get(made.id).config.duration == 20
        app.screen.query_one("#items").focus()
        await pilot.press("l")
        await pilot.pause()
        assert service.get(made.id).status is BatchStatus.LOCKED
        assert duration.disabled, "a locked batch is read-only"
        await pilot.press("a")  # refused quietly: the binding is disabled while locked
        await pilot.press("u")
        await pilot.pause()
        assert service.get(made.id).status is BatchStatus.DRAFT
        assert not duration.disabled


async def test_background_run_is_followed_and_cancelled_from_the_tui(db_path, make_script):
    """A run in a detached runner process: the TUI follows it from the database and cancels it;
    quitting the TUI never stops someone else's run."""
    script = make_script(
        "slow.py", "import sys, time\ntime.sleep(30)\nopen(sys.argv[1], 'w').write('x')\n"
    )
    service = BatchService(Repository(db_path), flush_interval=0.05)
    made = service.create(
        "Bg", generator="command", command=f"{script} {{output}}", output_ext="txt", concurrency=2
    )
    service.add_items(made.id, ["a", "b", "c"])
    service.lock(made.id)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(lambda: app.screen.checked)  # past the first frame's index guess
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("s")  # start: handed to a runner process
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        screen = app.screen
        await wait_until(
            lambda: (
                screen.current is not None
                and sum(i.status is ItemStatus.RUNNING for i in screen.current.items) == 2
            ),
            limit=20,
        )
        runner = service.get(made.id).runner
        assert runner.detached and runner.pid != os.getpid()
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(
            lambda: (
                screen.current is not None and screen.current.status is not BatchStatus.PROCESSING
            ),
            limit=20,
        )
        assert "FAILED" in str(screen.query_one("#run-head").render())
    ended = service.get(made.id)
    assert [i.status for i in ended.items] == [ItemStatus.CANCELLED] * 3


async def test_the_first_frame_from_the_index_is_checked_right_after(db_path):
    """The index may be behind a batch file (a lock, a run's progress): the first frame is
    drawn from it, and the list is read in full right after."""
    service = BatchService(Repository(db_path))
    made = service.create("Behind")
    service.add_items(made.id, ["a"])
    service.lock(made.id)  # the index still says DRAFT: locking does not write it
    assert service.indexed_summaries()[0].status is BatchStatus.DRAFT
    app = make_app(BatchService(Repository(db_path)), poll_interval=60)
    async with app.run_test(size=(80, 24)):
        screen = app.screen
        await wait_until(lambda: screen.checked)
        assert "LOCKED" in str(screen.table.source_row(made.id)[1])
