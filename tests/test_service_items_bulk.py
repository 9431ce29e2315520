"""The service's bulk item edits behind the editor's marks and undo: several items removed in
one transaction, put back where they were (same text, same ids), moved together; all or none,
DRAFT only."""

from __future__ import annotations

import pytest

from batchtui.core.errors import NotFoundError, TransitionError, ValidationError
from batchtui.service import BatchService

TOPICS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def made(service: BatchService, max_items: int = 10) -> str:
    batch = service.create("Bulk", max_items=max_items)
    service.add_items(batch.id, TOPICS)
    return batch.id


def texts(service: BatchService, batch_id: str) -> list[str]:
    return [i.content for i in service.get(batch_id).items]


def test_removed_items_are_restored_at_their_positions_with_their_ids(
    service: BatchService,
) -> None:
    batch_id = made(service)
    before = service.get(batch_id).items
    removed = service.remove_items(batch_id, [before[3].id, before[0].id, 2])  # any refs
    assert [(i.position, i.content) for i in removed] == [(1, "alpha"), (2, "beta"), (4, "delta")]
    assert texts(service, batch_id) == ["gamma", "epsilon"]
    assert [i.position for i in service.get(batch_id).items] == [1, 2]
    service.restore_items(batch_id, removed)
    after = service.get(batch_id).items
    assert [(i.id, i.position, i.content) for i in after] == [
        (i.id, i.position, i.content) for i in before
    ]


def test_a_restore_after_other_changes_keeps_every_item(service: BatchService) -> None:
    batch_id = made(service)
    removed = service.remove_items(batch_id, [4, 5])  # delta, epsilon
    service.remove_items(batch_id, [1])  # alpha: the list is shorter than the old positions
    service.restore_items(batch_id, removed)
    assert texts(service, batch_id) == ["beta", "gamma", "delta", "epsilon"]


def test_a_restored_item_whose_id_was_taken_gets_a_new_one(service: BatchService) -> None:
    batch_id = made(service)
    removed = service.remove_items(batch_id, [1])
    service.restore_items(batch_id, removed)
    again = service.restore_items(batch_id, removed)  # the same items twice: copies
    assert again[0].id != removed[0].id
    assert texts(service, batch_id) == ["alpha", "alpha", *TOPICS[1:]]


def test_a_restore_beyond_the_limit_adds_nothing(service: BatchService) -> None:
    batch_id = made(service, max_items=5)
    removed = service.remove_items(batch_id, [1, 2])
    service.add_items(batch_id, ["zeta"])
    with pytest.raises(ValidationError, match="do not fit"):
        service.restore_items(batch_id, removed)
    assert texts(service, batch_id) == ["gamma", "delta", "epsilon", "zeta"]


def test_bulk_edits_are_refused_once_locked(service: BatchService, monkeypatch) -> None:
    monkeypatch.setattr("batchtui.service.editing.lock_problems", lambda batch: [])
    batch_id = made(service)
    removed = service.remove_items(batch_id, [1])
    service.lock(batch_id)
    for attempt in (
        lambda: service.remove_items(batch_id, [1]),
        lambda: service.restore_items(batch_id, removed),
        lambda: service.move_items(batch_id, [1], 1),
    ):
        with pytest.raises(TransitionError):
            attempt()
    assert texts(service, batch_id) == TOPICS[1:]


def test_an_unknown_item_removes_nothing(service: BatchService) -> None:
    batch_id = made(service)
    with pytest.raises(NotFoundError, match="no item"):
        service.remove_items(batch_id, [1, "nope"])
    assert texts(service, batch_id) == TOPICS


def test_items_move_together_and_stop_at_the_ends(service: BatchService) -> None:
    batch_id = made(service)
    moved = service.move_items(batch_id, [1, 3], -1)  # alpha is at the top: gamma moves
    assert [i.content for i in moved] == ["alpha", "gamma"]
    assert texts(service, batch_id) == ["alpha", "gamma", "beta", "delta", "epsilon"]
    service.move_items(batch_id, [1, 2], 10)  # down, in order, as far as they go
    assert texts(service, batch_id) == ["beta", "delta", "epsilon", "alpha", "gamma"]
    assert [i.position for i in service.get(batch_id).items] == [1, 2, 3, 4, 5]
