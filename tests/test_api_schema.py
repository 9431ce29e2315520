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


def test_the_schema_publishes_the_rules_it_enforces_and_links_to_the_next_step() -> None:
    """Schema-driven clients learn the rules (non-blank content, a template's name, a cluster
    address) and can follow links from a new batch to lock, start, retry and what follows."""
    schema = create_app(BatchService(Repository(None))).openapi()
    parts = schema["components"]["schemas"]
    assert parts["AddItems"]["properties"]["contents"]["items"]["pattern"] == r"\S"
    assert "pattern" in parts["CreateBatch"]["properties"]["template"]
    assert "pattern" in parts["RunRequest"]["properties"]["cluster"]
    operations = {
        operation["operationId"]: operation
        for path in schema["paths"].values()
        for operation in path.values()
    }

    def reachable(operation_id: str) -> set[str]:
        seen, todo = set(), [operation_id]
        while todo:
            current = todo.pop()
            for answer in operations[current]["responses"].values():
                for link in answer.get("links", {}).values():
                    if link["operationId"] not in seen:
                        seen.add(link["operationId"])
                        todo.append(link["operationId"])
        return seen

    create = next(o for o in operations if o.startswith("create_batch"))
    names = {o.split("_v1_")[0] for o in reachable(create)}
    assert {"lock", "start", "retry", "cancel", "progress", "events", "add_items"} <= names


@pytest.mark.slow
def test_a_stateful_client_following_the_links_never_breaks_the_api(db_path, tmp_path) -> None:
    """schemathesis's state machine: chains of calls along the links (made, filled, locked,
    unlocked, followed) get no 5xx and answers that match the schema. Starting runs is left
    out: generated configs would run generated commands into generated folders."""
    service = BatchService(Repository(db_path))
    service.create("Seed", output_dir=str(tmp_path / "out"))
    api = schemathesis.openapi.from_asgi("/openapi.json", create_app(service))
    base = api.exclude(path_regex=r"/(start|retry)$").as_state_machine()

    class Machine(base):  # type: ignore[valid-type, misc]
        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # As above: schema-valid is not always acceptable (blank content, a NUL…).
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
                transport_kwargs=kwargs or None,
            )

    Machine.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
