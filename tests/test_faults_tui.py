"""Faults a hard week brings, in the TUI: a form that went stale while someone else changed the
batch must never write the old values back (issue 13, data loss)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from textual.widgets import Input

from batchtui.core.models import BatchStatus, ItemStatus, RunnerInfo
from batchtui.service import BatchService
from batchtui.store import Repository

from .helpers import force_status, wait_until
from .tui_support import make_app

pytestmark = pytest.mark.anyio


def elsewhere(db_path) -> BatchService:
    """Another process's view of the same database (the CLI, a second window)."""
    return BatchService(Repository(db_path))


@pytest.mark.slow
async def test_a_stale_form_saves_only_the_field_the_user_changed(db_path):
    service = BatchService(Repository(db_path))
    made = service.create("Before", duration=5)
    app = make_app(service, poll_interval=3600)  # the form never refreshes by itself
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        cli = elsewhere(db_path)
        cli.update_config(made.id, duration=10)
        cli.rename(made.id, "After")
        fps = app.screen.query_one("#f-fps", Input)
        fps.focus()
        fps.value = "24"
        for _ in range(15):  # on through every box of the form, the stale ones included
            await pilot.press("tab")
        await pilot.pause()
        app.screen.query_one("#f-name", Input).focus()
        await pilot.press("tab")
        await pilot.pause()
    stored = service.get(made.id)
    assert (stored.name, stored.config.duration, stored.config.fps) == ("After", 10, 24)


async def test_the_form_follows_changes_made_elsewhere_but_keeps_an_edit_in_progress(db_path):
    service = BatchService(Repository(db_path))
    made = service.create("Before", duration=5)
    app = make_app(service, poll_interval=0.02)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        duration = app.screen.query_one("#f-duration", Input)
        duration.focus()
        duration.value = "7"  # typed, not saved yet
        cli = elsewhere(db_path)
        cli.rename(made.id, "After")
        cli.update_config(made.id, fps=25)
        name = app.screen.query_one("#f-name", Input)
        await wait_until(lambda: name.value == "After")
        assert app.screen.query_one("#f-fps", Input).value == "25"
        assert duration.value == "7", "what the user is typing is not overwritten"
        await pilot.press("enter")
        await pilot.pause()
    stored = service.get(made.id)
    assert (stored.name, stored.config.duration, stored.config.fps) == ("After", 7, 25)


@pytest.mark.slow
async def test_an_edit_left_in_a_box_when_the_batch_is_locked_elsewhere_is_not_lost(
    db_path, fake_generator
):
    service = BatchService(Repository(db_path))
    made = service.create("Locked later", generator="fake", output_ext="txt")
    service.add_items(made.id, ["one"])
    app = make_app(service, poll_interval=0.02)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        duration = app.screen.query_one("#f-duration", Input)
        duration.focus()
        duration.value = "9"
        elsewhere(db_path).lock(made.id)
        await wait_until(lambda: duration.disabled)
        assert duration.value == "9"
        app.screen.save_field("duration", duration.value)  # as a blur would
        problems = str(app.screen.query_one("#problems").render())
        assert "Not saved" in problems and "LOCKED" in problems
    assert service.get(made.id).status is BatchStatus.LOCKED


@pytest.mark.slow
async def test_concurrency_saves_from_the_form_while_locked(db_path, fake_generator):
    service = BatchService(Repository(db_path))
    made = service.create("Locked", generator="fake", output_ext="txt")
    service.add_items(made.id, ["one"])
    service.lock(made.id)
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        box = app.screen.query_one("#f-concurrency", Input)
        assert not box.disabled
        box.focus()
        box.value = "5"
        await pilot.press("enter")
        await pilot.pause()
    assert service.get(made.id).config.concurrency == 5


@pytest.mark.slow
async def test_an_item_opened_for_editing_and_left_unchanged_keeps_its_lines(db_path):
    service = BatchService(Repository(db_path))
    made = service.create("Lines")
    service.add_items(made.id, ["first line\nsecond line"])
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        await pilot.press("e")
        await pilot.press("enter")  # nothing changed
        await pilot.pause()
    assert service.get(made.id).items[0].content == "first line\nsecond line"


async def test_concurrency_steps_count_from_the_stored_value(db_path, fake_generator):
    service = BatchService(Repository(db_path))
    made = service.create("Steps", generator="fake", output_ext="txt", concurrency=3)
    service.add_items(made.id, ["one"])
    service.lock(made.id)
    app = make_app(service, poll_interval=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_progress(made.id)
        await pilot.pause()
        elsewhere(db_path).set_concurrency(made.id, 6)  # this screen still thinks 3
        await app.screen.run_action("concurrency(1)")
        await pilot.pause()
    assert service.get(made.id).config.concurrency == 7


@pytest.mark.slow
async def test_the_progress_screen_notices_a_runner_killed_while_it_watches(
    db_path, fake_generator
):
    service = BatchService(Repository(db_path))
    made = service.create("Watched", generator="fake", output_ext="txt")
    service.add_items(made.id, ["a", "b"])
    service.lock(made.id)
    service.begin(made.id)
    runner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Repository(db_path).transaction() as tx:  # a runner process of its own
            stored = tx.get(made.id)
            stored.runner = RunnerInfo(
                pid=runner.pid, host=socket.gethostname(),
                started_at=stored.started_at, heartbeat=stored.started_at,
            )  # fmt: skip
            force_status(stored.items[0], ItemStatus.RUNNING)
            tx.save(stored)
        app = make_app(service, poll_interval=0.02)
        async with app.run_test(size=(100, 30)) as pilot:
            app.open_progress(made.id)
            await pilot.pause()
            screen = app.screen
            await pilot.pause(0.2)
            assert screen.current.status is BatchStatus.PROCESSING, "a live runner keeps it"
            runner.kill()
            runner.wait()
            await wait_until(lambda: screen.current.status is not BatchStatus.PROCESSING)
            assert screen.current.items[0].status is ItemStatus.INTERRUPTED
            assert "PROCESSING" not in str(screen.query_one("#run-head").render())
    finally:
        if runner.poll() is None:
            runner.kill()
