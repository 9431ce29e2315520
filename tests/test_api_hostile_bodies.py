"""Every request answers the API's one error shape, whatever it carries: no traceback, no
bare 500 page. The paths that used to break are fixed, and anything unforeseen still answers
the shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.service import BatchService


@pytest.fixture
def http(service: BatchService):
    with TestClient(create_app(service), raise_server_exceptions=False) as client:
        yield client


def _shape(answer) -> dict:
    assert answer.headers["content-type"] == "application/json", answer.text[:200]
    error = answer.json()["error"]
    assert set(error) == {"type", "message"} and "\n" not in error["message"]
    return error


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_deeper_than_any_request_is_malformed(http, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    for body in (nested, b'{"name": "x", "config": ' + nested + b"}"):
        answer = http.post("/v1/batch/", content=body)
        assert answer.status_code in (400, 422)
        _shape(answer)


@pytest.mark.parametrize("key", ["name", "self", "config", "fields", "ref", "template", "/"])
def test_config_keys_named_like_the_services_own_arguments_are_unknown_fields(
    http, service: BatchService, key: str
) -> None:
    made = http.post("/v1/batch/", json={"name": "A", "config": {key: "v"}})
    assert made.status_code == 422 and key in _shape(made)["message"]
    draft = service.create("Draft")
    changed = http.patch(f"/v1/batch/{draft.id}/config", json={key: 1})
    assert changed.status_code == 422 and key in _shape(changed)["message"]
    made = http.post("/v1/batch/", json={"name": "T", "template": "none", "config": {key: 1}})
    assert made.status_code in (404, 422)
    _shape(made)
    assert [s.name for s in service.summaries()] == ["Draft"]


def test_lone_surrogates_anywhere_are_refused_in_the_shape(http, service: BatchService) -> None:
    draft = service.create("Draft")
    for method, path, body in (
        ("POST", "/v1/batch/", b'{"name": "\\ud800"}'),
        ("POST", f"/v1/batch/{draft.id}/items", b'{"contents": ["\\udc80"]}'),
        ("POST", "/v1/batch/", b'{"name": "x", "config": {"command": "\\ud800 {output}"}}'),
        ("GET", "/v1/batch/%ED%A0%80", None),
        ("GET", "/v1/batch/%ED%A0%80/items/1/log", None),
    ):
        answer = http.request(method, path, content=body)
        assert 400 <= answer.status_code < 500, (path, answer.text)
        _shape(answer)


def test_an_unforeseen_failure_still_answers_the_shape(http, service: BatchService, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(service, "page", broken)
    answer = http.get("/v1/batch/")
    assert answer.status_code == 500
    assert _shape(answer)["type"] == "internal"
