"""Config keys and values fuzzed through the API and the CLI: any key (the config's own, the
service's argument names, any text) with any JSON value (NaN and infinities included, huge
numbers, nesting, lone surrogates) is either taken whole or refused in one line (the API's
error shape, 4xx; the CLI's exit 2) — never a 5xx, a traceback, or a batch half-written."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchtui.api.app import create_app
from batchtui.core.models import BatchConfig
from batchtui.service import BatchService

FIELDS = sorted(BatchConfig.model_fields)
ARGUMENTS = ["name", "self", "config", "ref", "fields", "template", "parameters", "items"]
KEYS = st.one_of(st.sampled_from(FIELDS + ARGUMENTS), st.text(max_size=20))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["\ud800", "../../etc", "{output}", "-1", "1e999", "NaN", "$(id)", "\x00"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
CONFIGS = st.dictionaries(KEYS, VALUES, max_size=4)


def _body(data: object) -> bytes:
    # Python's JSON writes NaN and Infinity; lone surrogates go as \\ud800 escapes.
    return json.dumps(data, allow_nan=True).encode()


def _answered(answer) -> None:
    assert answer.status_code < 500, answer.text[:300]
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/json"
        error = answer.json()["error"]
        assert set(error) == {"type", "message"} and "\n" not in error["message"]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(config=CONFIGS)
def test_any_config_through_the_api_is_taken_or_refused_in_the_shape(
    service: BatchService, config: dict
) -> None:
    with TestClient(create_app(service), raise_server_exceptions=False) as http:
        made = http.post("/v1/batch/", content=_body({"name": "fuzz", "config": config}))
        _answered(made)
        draft = http.post("/v1/batch/", content=_body({"name": "draft"}))
        assert draft.status_code == 201
        ref = draft.json()["id"]
        before = http.get(f"/v1/batch/{ref}").json()
        patched = http.patch(f"/v1/batch/{ref}/config", content=_body(config))
        _answered(patched)
        after = http.get(f"/v1/batch/{ref}").json()
        if patched.status_code >= 400:  # refused: nothing of it was written
            assert after["config"] == before["config"]
        listed = http.get("/v1/batch/")
        assert listed.status_code == 200  # every batch stored still reads back


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=KEYS, value=SCALARS)
def test_any_config_option_through_the_cli_is_taken_or_refused_in_one_line(
    run_cli, key: str, value: object
) -> None:
    text = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
    option = "--" + key.replace("_", "-")
    done = run_cli("create", "fuzz", option, text, "--json")
    if done.code == 0:
        assert json.loads(done.out)["name"] == "fuzz"
    else:
        assert done.code == 2, (done.code, done.err)
        assert len(done.err.strip().splitlines()) <= 2, done.err  # usage line + message
    assert run_cli("list", "--json").code == 0


@pytest.mark.parametrize(
    "option",
    ["--style", "--background", "--text-color", "--ext", "--retry-on", "--max-failures",
     "--command", "--output", "--workdir", "--platform", "--generator"],
)  # fmt: skip
def test_text_that_is_not_utf8_in_any_option_is_refused_in_one_line(run_cli, option: str) -> None:
    """Found by the fuzz test above: bytes that are not UTF-8 in `--style` or `--background`
    (they arrive as lone surrogates) crashed create with exit 70."""
    done = run_cli("create", "odd bytes", option, "\udced\udca0\udc80")
    assert done.code == 2, done.err
    assert len(done.err.strip().splitlines()) == 1, done.err
    assert "\\xed\\xa0\\x80" in done.err or "\\udced" in done.err
    assert run_cli("list", "--json").out.strip() == "[]"
