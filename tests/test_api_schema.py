"""schemathesis against the API's own OpenAPI schema: generated requests (valid and not) never
get a 5xx, and every response matches what the schema says."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from batchtui.api.app import create_app
from batchtui.service import BatchService
from batchtui.store import Repository


@pytest.fixture
def api_schema(db_path, tmp_path):
    service = BatchService(Repository(db_path))
    draft = service.create("Draft", output_dir=str(tmp_path / "out"))
    service.add_items(draft.id, ["one", "two"])
    service.create("Empty", output_dir=str(tmp_path / "out"))
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(service))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.slow
def test_the_api_keeps_to_its_schema(case):
    # Schema-valid is not always acceptable: item content and config have rules a JSON
    # schema cannot say (not blank, no NUL, a platform's maximum duration), answered 422.
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])


@pytest.mark.parametrize(("query", "status"), [("0.0", 422), ("0", 422), ("1e3", 422), ("2", 200)])
def test_list_limit_is_a_whole_number_of_at_least_one(db_path, query: str, status: int) -> None:
    """Found by schemathesis in CI: `?limit=0.0` was read as 0 and answered 200."""
    from fastapi.testclient import TestClient

    with TestClient(create_app(BatchService(Repository(db_path)))) as http:
        assert http.get(f"/v1/batch?limit={query}").status_code == status
