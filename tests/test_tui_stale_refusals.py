"""A screen's copy of a batch may be a poll behind the store. What the TUI asks and refuses is
decided by the batch as stored now, a refusal is explained without calling the operation
(`core.actions.require`), and nothing is deleted, cancelled or begun without the dialog's yes.

Before: the TUI called `delete` / `cancel` / `begin` to learn why they were refused, so a copy
that said PROCESSING while the stored batch had ended deleted it with no dialog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batchtui.core.models import Batch, BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.tui.app import BatchtuiApp
from batchtui.tui.flows import batches, runs
from batchtui.tui.screens.dialogs import ConfirmScreen

from .tui_support import batch, make_app, make_service, ran, store

pytestmark = pytest.mark.anyio

ENDED = BatchStatus.COMPLETE


def _stored(db_path: Path, status: BatchStatus) -> Batch:
    item_status = ItemStatus.RUNNING if status is BatchStatus.PROCESSING else ItemStatus.SUCCEEDED
    made = batch(1, "Space Facts", status, [ran(1, "Why is space dark?", item_status)])
    store(db_path, made)
    return made


def _copy_saying(made: Batch, status: BatchStatus) -> Batch:
    """The batch as a screen read it earlier: in `status`, whatever the store says now."""
    return made.model_copy(update={"status": status})


def _spy(service: BatchService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every call of the operations a refusal must never be explained by."""
    calls: list[str] = []
    for name in ("delete", "cancel", "begin", "start_detached"):
        real: Callable[..., Any] = getattr(service, name)

        def spy(*args: Any, _name: str = name, _real: Callable[..., Any] = real, **kw: Any):
            calls.append(_name)
            return _real(*args, **kw)

        monkeypatch.setattr(service, name, spy)
    return calls


def _notices(app: BatchtuiApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_copy_saying_processing_never_deletes_an_ended_batch_without_the_dialog(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stored(db_path, ENDED)
    service = make_service(db_path)
    calls = _spy(service, monkeypatch)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        batches.confirm_delete(app, _copy_saying(made, BatchStatus.PROCESSING))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen), "the stored batch may be deleted: ask"
        assert service.find_by_id(made.id) is not None
        assert calls == []
        await pilot.press("n")
        await pilot.pause()
        assert service.find_by_id(made.id) is not None, "no: kept"
        batches.confirm_delete(app, _copy_saying(made, BatchStatus.PROCESSING))
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert service.find_by_id(made.id) is None, "yes: deleted"
    assert calls == ["delete"]


async def test_a_copy_saying_ended_never_asks_to_delete_a_running_batch(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stored(db_path, BatchStatus.PROCESSING)
    service = make_service(db_path)
    calls = _spy(service, monkeypatch)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        batches.confirm_delete(app, _copy_saying(made, ENDED))
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        notices = _notices(app)
    assert any("is PROCESSING; deleting needs" in notice for notice in notices), notices
    assert service.get(made.id).status is BatchStatus.PROCESSING
    assert calls == [], "the refusal is explained without calling delete"


async def test_pressing_x_on_a_list_a_poll_behind_deletes_nothing_without_the_dialog(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stored(db_path, ENDED)
    service = make_service(db_path)
    calls = _spy(service, monkeypatch)
    app = make_app(service, poll_interval=3600)  # the list never catches up by itself
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # Another process starts the batch after the list read it.
        store(db_path, batch(1, "Space Facts", BatchStatus.PROCESSING, made.items))
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("is PROCESSING; deleting needs" in n for n in _notices(app))
        # It ends again; the list still shows it as it was: x asks first.
        store(db_path, made)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause()
    assert service.find_by_id(made.id) is not None
    assert calls == []


async def test_cancel_asks_and_refuses_by_the_stored_batch(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stored(db_path, BatchStatus.PROCESSING)
    service = make_service(db_path)
    calls = _spy(service, monkeypatch)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # A copy saying it ended: the running batch is still offered for cancelling, asked.
        runs.confirm_cancel(app, _copy_saying(made, ENDED))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert service.get(made.id).cancel_requested is False, "not cancelled before yes"
        await pilot.press("n")
        await pilot.pause()
        # Ended since: a copy saying PROCESSING asks nothing, and says why.
        store(db_path, batch(1, "Space Facts", ENDED, made.items))
        runs.confirm_cancel(app, _copy_saying(made, BatchStatus.PROCESSING))
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        notices = _notices(app)
    assert any("is COMPLETE; cancelling needs PROCESSING" in n for n in notices), notices
    assert calls == []


async def test_running_an_item_again_asks_and_refuses_by_the_stored_batch(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stored(db_path, ENDED)
    service = make_service(db_path)
    calls = _spy(service, monkeypatch)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        stale = _copy_saying(made, BatchStatus.PROCESSING)
        runs.rerun_items(app, stale, [stale.items[0]])
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen), "the ended batch allows it: asked"
        assert service.get(made.id).status is ENDED, "nothing begun before yes"
        await pilot.press("n")
        await pilot.pause()
        store(db_path, batch(1, "Space Facts", BatchStatus.PROCESSING, made.items))
        stale = _copy_saying(made, ENDED)
        runs.rerun_items(app, stale, [stale.items[0]])
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        notices = _notices(app)
    assert any("is PROCESSING; running chosen items again needs" in n for n in notices)
    assert calls == []


async def test_start_and_retry_refusals_begin_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _stored(db_path, BatchStatus.PROCESSING)
    service = make_service(db_path)
    calls = _spy(service, monkeypatch)
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        runs.request_start(app, made.id)
        runs.request_start(app, made.id, retry=True)
        await pilot.pause()
        notices = _notices(app)
    assert any("is PROCESSING; starting needs LOCKED" in n for n in notices), notices
    assert any("is PROCESSING; retrying needs" in n for n in notices), notices
    assert calls == [], "a refusal is explained without calling begin"
