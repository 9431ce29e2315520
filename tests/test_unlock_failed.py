"""A FAILED batch can be unlocked (back to DRAFT, to change the config none of its items
succeeded with), through the service and the CLI alike; a PARTIAL one cannot (it keeps its
outputs and is retried)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchtui.core.errors import TransitionError
from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .conftest import CliResult
from .fakes import FakeGenerator

FAKE = {"generator": "fake", "output_ext": "txt"}


async def ended(service: BatchService, contents: list[str]) -> str:
    batch = service.create("Space Facts", **FAKE)
    service.add_items(batch.id, contents)
    service.lock(batch.id)
    await service.start(batch.id)
    return batch.id


@pytest.mark.anyio
async def test_a_failed_batch_unlocks_and_runs_again_from_the_start(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch_id = await ended(service, ["FAIL a", "FAIL b"])
    assert service.get(batch_id).status is BatchStatus.FAILED

    unlocked = service.unlock(batch_id)

    stored = service.get(batch_id)
    assert unlocked.status is stored.status is BatchStatus.DRAFT
    assert stored.config_hash is None and stored.started_at is None
    for item in stored.items:
        assert item.status is ItemStatus.PENDING
        assert item.error is None and item.output_path is None
        assert [attempt.error for attempt in item.attempt_history()]  # the failure is kept
    service.update_config(batch_id, timeout=30)  # the config is editable again
    service.edit_item(batch_id, 1, "fixed a")
    service.edit_item(batch_id, 2, "fixed b")
    service.lock(batch_id)
    again = await service.start(batch_id)
    assert again.status is BatchStatus.COMPLETE


@pytest.mark.anyio
async def test_a_partial_batch_is_retried_not_unlocked(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    batch_id = await ended(service, ["ok", "FAIL b"])
    with pytest.raises(TransitionError, match="unlocking needs LOCKED or FAILED"):
        service.unlock(batch_id)
    assert service.get(batch_id).status is BatchStatus.PARTIAL


@pytest.mark.anyio
async def test_the_cli_unlocks_a_failed_batch(
    db_path: Path,
    run_cli: object,
    fake_generator: type[FakeGenerator],
    anyio_backend: str,
) -> None:
    service = BatchService(Repository(db_path))
    batch_id = await ended(service, ["FAIL a"])

    result: CliResult = run_cli("unlock", batch_id, "--json")  # type: ignore[operator]

    assert result.code == 0, result.err
    assert json.loads(result.out)["status"] == "DRAFT"
    assert service.get(batch_id).items[0].status is ItemStatus.PENDING


@pytest.mark.anyio
async def test_the_api_unlocks_a_failed_batch_and_makes_a_command_batch_as_the_cli_does(
    service: BatchService, fake_generator: type[FakeGenerator], anyio_backend: str
) -> None:
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    batch_id = await ended(service, ["FAIL a"])
    with TestClient(create_app(service)) as http:
        unlocked = http.post(f"/v1/batch/{batch_id}/unlock")
        assert unlocked.status_code == 200, unlocked.text
        assert unlocked.json()["status"] == "DRAFT"
        made = http.post("/v1/batch", json={"name": "Cmd", "config": {"generator": "command"}})
        assert made.status_code == 201, made.text
        assert made.json()["config"]["output_ext"] == "txt"
