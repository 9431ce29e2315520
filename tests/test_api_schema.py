"""schemathesis against the API's own OpenAPI schema: generated requests (valid and not) never
get a 5xx, and every response matches what the schema says."""

from __future__ import annotations

import contextlib
import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import FlakyStrategyDefinition

from batchtui.api.app import create_app
from batchtui.core.errors import TransitionError
from batchtui.service import BatchService
from batchtui.service.templates import templates_dir
from batchtui.store import Repository


@pytest.fixture
def api_schema(db_path, tmp_path):
    service = BatchService(Repository(db_path))
    draft = service.create("Draft", output_dir=str(tmp_path / "out"))
    service.add_items(draft.id, ["one", "two"])
    service.create("Empty", output_dir=str(tmp_path / "out"))
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(service))


schema = schemathesis.pytest.from_fixture("api_schema")
SOME_FAIL = (
    "import sys, time; time.sleep(0.1); "
    'sys.exit(1) if len(sys.argv[2]) % 2 else open(sys.argv[1], "w").close()'
)


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
    contents = parts["AddItems"]["properties"]["contents"]
    listed = next(c for c in contents.get("anyOf", [contents]) if c.get("type") == "array")
    assert listed["items"]["pattern"] == r"\S"
    assert parts["NewItem"]["properties"]["content"]["pattern"] == r"\S"
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
    numbers = [itertools.count(1)]
    service = BatchService(Repository(db_path), id_factory=lambda: f"{next(numbers[0]):012x}")
    api = schemathesis.openapi.from_asgi("/openapi.json", create_app(service))
    base = api.exclude(path_regex=r"/(start|retry)$").as_state_machine()

    class Machine(base):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            # Every scenario starts from the same state (the seed batch under the same id, no
            # template): the rules a scenario may take depend on what the API answers, and
            # Hypothesis replays scenarios, so state left by the last one made its data
            # generation flaky (FlakyStrategyDefinition, more often the more examples).
            for summary in service.summaries():
                service.delete(summary.id, remove_outputs=True)
            for template in templates_dir().glob("*.toml"):
                template.unlink()
            numbers[0] = itertools.count(1)
            service.create("Seed", output_dir=str(tmp_path / "out"))

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


@pytest.mark.slow
def test_a_stateful_client_reaches_start_retry_and_cancel_through_the_links(
    db_path, tmp_path
) -> None:
    """The same state machine over a batch's life only (make, fill, lock, start, retry,
    cancel, unlock, progress), so its chains reach the runs: no 5xx, answers that match the
    schema, real runner processes. Every batch it makes runs a harmless command of ours into
    the test's folder (generated configs would run generated commands into generated
    folders); the rest of each request is generated."""
    import sys
    import time

    out = tmp_path / "out"
    safe = {
        "generator": "command",
        # Runs that last a moment (so a cancel can find one) and fail for item texts of odd
        # length (so a retry has something to run).
        "command": f"{sys.executable} -c '{SOME_FAIL}' {{output}} {{content}}",
        "output_ext": "txt",
        "output_dir": str(out),
    }
    risky = {*safe, "workdir", "cluster"}
    service = BatchService(Repository(db_path))
    service.create("Seed", **safe)
    api = schemathesis.openapi.from_asgi("/openapi.json", create_app(service)).include(
        path_regex=r"^/v1/batch/?$|/(items|lock|start|retry|cancel|unlock|progress)$"
    )
    reached: set[str] = set()
    calls: list = []
    failures: list[str] = []

    def wait_for_its_run(ref: str) -> None:
        try:
            batch = service.get(ref)
        except Exception:  # not one batch: the request is answered as it is
            return
        deadline = time.monotonic() + 30
        while service.get(batch.id).status.value == "PROCESSING":
            assert time.monotonic() < deadline, "a run of one quick item did not end"
            time.sleep(0.05)

    class Machine(api.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case):
            label = f"{case.operation.method.upper()} {case.operation.path.rstrip('/')}"
            body = case.body if isinstance(case.body, dict) else None
            if label == "POST /v1/batch" and body is not None:
                body["config"] = dict(safe)  # what runs is ours; the rest is generated
                if not body.get("items"):
                    body["items"] = ["one"]  # a batch that can be locked and started
                body.pop("template", None)
                body.pop("parameters", None)
            if label.endswith("/config") and body is not None:
                for key in risky & set(body):
                    body.pop(key)
            if label.endswith("/retry"):
                # A run the chain started ends before its retry is asked (the machine does
                # not wait, and a retry of a run still going is rightly refused).
                wait_for_its_run(str(case.path_parameters.get("ref", "")))
            if label.endswith(("/start", "/retry")):
                # the server's own host, and a body it takes: the runs are what is sought here
                case.body = {k: v for k, v in (body or {}).items() if k != "cluster"}
            if label == "POST /v1/templates":
                case.body = {"name": "kept", "items": ["x"]}  # no generated command either

        def after_call(self, response, case):
            calls.append((case.operation.label, response.status_code))
            if response.status_code < 300:
                reached.add(case.operation.label.rsplit("/", 1)[-1])

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # Whether a request is valid is the other tests' business: this hook makes some
            # invalid ones valid (it puts our config in), so only no-5xx and the answers'
            # shapes are checked here.
            # A failure is kept, not raised: hypothesis would replay the chain to report it,
            # and with runs moving the server's state on their own no replay is the same.
            try:
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=[
                        schemathesis.checks.positive_data_acceptance,
                        schemathesis.checks.negative_data_rejection,
                    ],
                    transport_kwargs=kwargs or None,
                )
            except Exception as failure:  # every kind is reported below
                failures.append(f"{case.operation.label} → {response.status_code}: {failure}")

    wanted = {"lock", "start", "retry", "cancel"}
    try:
        # The first exploration is the same each run; if it ends before it reached every run
        # operation (see below), up to two more with other chains.
        for attempt in range(3):
            # A chain hypothesis meets again may find the server elsewhere (a run had moved
            # on, a random id now matched a generated ref), so the links it can follow differ:
            # hypothesis calls that flaky; here it ends the exploration, not the test.
            with contextlib.suppress(FlakyStrategyDefinition):
                Machine.run(
                    settings=settings(
                        max_examples=100,
                        stateful_step_count=20,
                        deadline=None,
                        derandomize=attempt == 0,
                        # No shrinking: the runs make the server's state move on its own, so
                        # a replayed chain is never the same chain.
                        phases=[Phase.explicit, Phase.generate],
                        database=None,
                        suppress_health_check=list(HealthCheck),
                    )
                )
            if wanted <= reached or failures:
                break
    finally:  # no runner it started outlives the test
        for summary in service.summaries():
            if summary.status.value == "PROCESSING":
                with contextlib.suppress(TransitionError):  # it may end meanwhile
                    service.cancel(summary.id)
        deadline = time.monotonic() + 60
        while any(s.status.value == "PROCESSING" for s in service.summaries()):
            assert time.monotonic() < deadline, "a runner the test started did not end"
            time.sleep(0.1)
    assert not failures, "\n".join(failures[:5])
    assert wanted <= reached, sorted(reached)
