"""The API's side of cost (issue 31): a start's or retry's budget and yes-to-the-forecast are
the run's own settings, kept, and put back when the start is refused; a confirm with
nothing waiting is refused; `true` is not an amount."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.service import BatchService
from batchtui.store import Repository


@pytest.fixture
def client(db_path) -> TestClient:
    return TestClient(create_app(BatchService(Repository(db_path))))


def made(client: TestClient) -> str:
    body = {"name": "A", "config": {"generator": "command", "command": "true {output}"}}
    return client.post("/v1/batch", json={**body, "items": ["x"]}).json()["id"]


def test_a_refused_start_keeps_the_run_settings_as_they_were(client, db_path):
    batch_id = made(client)
    refused = client.post(f"/v1/batch/{batch_id}/start", json={"budget": 3})  # a DRAFT
    assert refused.status_code == 409
    config = BatchService(Repository(db_path)).get(batch_id).config
    assert config.budget is None
    assert client.post(f"/v1/batch/{batch_id}/lock").status_code == 200
    refused = client.post(f"/v1/batch/{batch_id}/start", json={"confirm_forecast": True})
    assert refused.status_code == 422 and "confirm_forecast needs canary" in refused.text
    assert BatchService(Repository(db_path)).get(batch_id).config.confirm_forecast is False


@pytest.mark.parametrize("budget", [True, -1, 0, "lots", 1e12])
def test_a_bad_budget_is_refused_before_anything_changes(client, budget):
    batch_id = made(client)
    answer = client.post(f"/v1/batch/{batch_id}/start", json={"budget": budget})
    assert answer.status_code == 422 and "budget" in answer.json()["error"]["message"]


def test_a_confirm_with_nothing_waiting_is_refused(client):
    batch_id = made(client)
    assert client.post(f"/v1/batch/{batch_id}/confirm").status_code == 409  # not running
    answer = client.patch(f"/v1/batch/{batch_id}/config", json={"budget": 2.5})
    assert answer.status_code == 200 and answer.json()["config"]["budget"] == 2.5
