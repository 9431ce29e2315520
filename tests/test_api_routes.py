"""The API's structure, in process: one router per resource over the app's own service, request
bodies as documented pydantic models read as JSON whatever their label, refused in the order
token → cross-site → JSON → fields, and items reached through the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.api.guard import Policy
from batchtui.core.errors import NotFoundError
from batchtui.service import BatchService
from batchtui.store import Repository

TOKEN = "s3cret-token-0123456789"


@pytest.fixture
def service(db_path: Path) -> BatchService:
    return BatchService(Repository(db_path))


def test_two_apps_each_answer_from_their_own_service(tmp_path: Path) -> None:
    """The routers are shared by every app; the service is each app's own (`Depends`)."""
    first = BatchService(Repository(tmp_path / "one" / "db.json"))
    second = BatchService(Repository(tmp_path / "two" / "db.json"))
    first.create("Only in one")
    with TestClient(create_app(first)) as one, TestClient(create_app(second)) as two:
        assert [b["name"] for b in one.get("/v1/batch").json()] == ["Only in one"]
        assert two.get("/v1/batch").json() == []
        assert two.get("/v1/batch/Only in one").status_code == 404


def test_every_body_is_documented_as_its_model() -> None:
    schema = create_app(BatchService(Repository(None))).openapi()
    bodies = {
        (method.upper(), path): op["requestBody"]["content"]["application/json"]["schema"]
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    }
    named = {key: body.get("$ref", "").rsplit("/", 1)[-1] for key, body in bodies.items()}
    assert named == {
        ("POST", "/v1/batch"): "CreateBatch",
        ("POST", "/v1/batch/{ref}/items"): "AddItems",
        ("POST", "/v1/imports"): "ImportManifest",
        ("PATCH", "/v1/batch/{ref}/items/{item}"): "EditItem",
        ("POST", "/v1/batch/{ref}/items/{item}/review"): "ReviewBody",
        ("PATCH", "/v1/batch/{ref}/config"): "",  # free config fields: an object
        ("PUT", "/v1/batch/{ref}/concurrency"): "Concurrency",
        ("PUT", "/v1/batch/{ref}/priority"): "Priority",
        ("POST", "/v1/batch/{ref}/duplicate"): "DuplicateRequest",
        ("POST", "/v1/batch/{ref}/start"): "RunRequest",
        ("POST", "/v1/batch/{ref}/retry"): "RetryRequest",
        ("POST", "/v1/batch/{ref}/pause"): "PauseRequest",
        ("POST", "/v1/host/pause"): "PauseRequest",
        ("POST", "/v1/templates"): "SaveTemplate",
        ("POST", "/v1/cache/prune"): "PruneCache",
        ("POST", "/v1/notify/test"): "NotifyTest",
    }
    assert bodies[("PATCH", "/v1/batch/{ref}/config")]["type"] == "object"
    optional = {"/v1/batch/{ref}/config", "/v1/batch/{ref}/duplicate"} | {
        "/v1/batch/{ref}/start",
        "/v1/batch/{ref}/retry",
        "/v1/batch/{ref}/pause",
        "/v1/host/pause",
        "/v1/notify/test",
    }
    for (method, path), _ in bodies.items():
        required = schema["paths"][path][method.lower()]["requestBody"].get("required", False)
        assert required is (path not in optional), (method, path)
    tags = {op["tags"][0] for ops in schema["paths"].values() for op in ops.values()}
    assert tags == {"batches", "items", "runs", "templates", "server", "queue", "cache", "notify"}


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/x-www-form-urlencoded", "text/plain"]
)
def test_a_body_is_json_whatever_its_content_type_says(
    service: BatchService, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with TestClient(create_app(service)) as http:
        made = http.post("/v1/batch", content=b'{"name": "Labelled"}', headers=headers)
        assert made.status_code == 201, made.text
        added = http.post(
            f"/v1/batch/{made.json()['id']}/items/", content=b'{"contents": ["a"]}', headers=headers
        )
        assert added.status_code == 201 and added.json()[0]["content"] == "a"


@pytest.mark.parametrize(
    ("body", "status", "kind", "message"),
    [
        (b"{not json", 400, "malformed_json", "the request body is not JSON: Expecting property"),
        (b"\xff", 400, "malformed_json", "the request body is not JSON: 'utf-8' codec"),
        (b"", 422, "invalid", "invalid request: body: must be a JSON object"),
        (b"null", 422, "invalid", "invalid request: body: must be a JSON object"),
        (b"[1]", 422, "invalid", "invalid request: body: must be a JSON object"),
        (b'"x"', 422, "invalid", "invalid request: body: must be a JSON object (got 'x')"),
        (b'{"name": 5}', 422, "invalid", "invalid request: name: Input should be a valid string"),
        (b'{"name": "N", "x": 1}', 422, "invalid", "invalid request: x: Extra inputs are not"),
    ],
)
def test_a_bad_body_is_one_line_in_the_apis_own_shape(
    service: BatchService, body: bytes, status: int, kind: str, message: str
) -> None:
    with TestClient(create_app(service)) as http:
        answer = http.post("/v1/batch", content=body)
    assert answer.status_code == status
    assert answer.json()["error"]["type"] == kind
    assert answer.json()["error"]["message"].startswith(message), answer.json()
    assert service.summaries() == []


def test_an_optional_body_may_be_absent_but_not_null(service: BatchService) -> None:
    draft = service.create("Draft")
    with TestClient(create_app(service)) as http:
        assert http.post(f"/v1/batch/{draft.id}/duplicate").json()["name"] == "Draft (copy)"
        assert http.patch(f"/v1/batch/{draft.id}/config").status_code == 200
        for path in ("duplicate", "start", "retry", "config"):
            method = "PATCH" if path == "config" else "POST"
            answer = http.request(method, f"/v1/batch/{draft.id}/{path}", content=b"null")
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["error"]["message"] == (
                "invalid request: body: must be a JSON object"
            )


def test_the_token_and_the_origin_are_checked_before_the_body_is_read(
    service: BatchService,
) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(service, policy=Policy(token=TOKEN, owner=None))) as http:
        for body in (b"{not json", b"[1]", b'{"name": "N"}'):
            assert http.post("/v1/batch", content=body).status_code == 401
            forged = http.post(
                "/v1/batch", content=body, headers={**bearer, "Origin": "http://evil.example"}
            )
            assert forged.status_code == 403 and forged.json()["error"]["type"] == "cross_origin"
        assert http.post("/v1/batch", content=b"{not json", headers=bearer).status_code == 400
        assert http.post("/v1/batch", content=b"[1]", headers=bearer).status_code == 422
    assert service.summaries() == []


def test_every_path_answers_with_and_without_its_trailing_slash(service: BatchService) -> None:
    draft = service.create("Draft")
    service.add_items(draft.id, ["one"])
    with TestClient(create_app(service)) as http:
        for path in ("/v1/batch", f"/v1/batch/{draft.id}", f"/v1/batch/{draft.id}/progress"):
            assert http.get(path).status_code == http.get(path + "/").status_code == 200
        assert http.post(f"/v1/batch/{draft.id}/lock/").json()["status"] == "LOCKED"
        refused = http.put(f"/v1/batch/{draft.id}")
        assert refused.status_code == 405 and refused.headers["Allow"] == "DELETE, GET"


def test_an_items_log_and_output_are_found_through_the_service(
    service: BatchService, tmp_path: Path
) -> None:
    draft = service.create("Draft")
    service.add_items(draft.id, ["one", "two"])
    second = service.get(draft.id).items[1]
    assert service.item(draft.id, 2).id == second.id
    assert service.item("Draft", second.id[:8]).id == second.id
    with pytest.raises(NotFoundError, match="has no item '3'"):
        service.item(draft.id, "3")
    with TestClient(create_app(service)) as http:
        assert http.get(f"/v1/batch/{draft.id}/items/2/log").text == ""
        missing = http.get(f"/v1/batch/{draft.id}/items/3/log")
        assert (
            missing.status_code == 404 and "has no item '3'" in missing.json()["error"]["message"]
        )
        none = http.get(f"/v1/batch/{draft.id}/items/{second.id}/output")
        assert none.json()["error"]["message"] == "item 2 has no output file"


def test_an_id_prefix_made_only_of_digits_names_its_item_not_a_position() -> None:
    # Ids are hex, so about one prefix in forty is all digits: "02516421" once failed CI as
    # "no item '02516421'" because every number was read as a position.
    from batchtui.core.models import Batch, BatchConfig, BatchItem
    from batchtui.service.refs import resolve_item

    items = [
        BatchItem(id="02516421aa", position=1, content="a"),
        BatchItem(id="3f00", position=2, content="b"),
        BatchItem(id="7351642183", position=3, content="c"),
    ]
    batch = Batch(id="b", name="B", config=BatchConfig(), items=items)
    assert resolve_item(batch, "02516421").id == "02516421aa"
    assert resolve_item(batch, "7351642").id == "7351642183"  # longer than any position
    assert resolve_item(batch, "2").id == "3f00"  # a short number is a position
    with pytest.raises(NotFoundError, match="has no item '4' \\(it has 3 items\\)"):
        resolve_item(batch, "4")
