"""Whatever a client sends as `stages` (the API's config, a --stages file, a template), the
answer is a batch or one clear line: never a crash, never a stored config that cannot be read
back, locked or hashed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchtui.core.errors import BatchtuiError
from batchtui.core.stages_text import parse_stages
from batchtui.service import BatchService
from batchtui.store import Repository

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30
) | st.sampled_from(["script", "render", "{in}", "{stage.script}", "true {output}", "", " "])
_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_FIELDS = st.sampled_from(
    ["name", "command", "generator", "ext", "validate", "validate_output", "timeout",
     "retries", "pool", "concurrency", "rate", "inputs", "bogus"]
)  # fmt: skip
_STAGE = st.dictionaries(_FIELDS, _VALUE, max_size=6) | st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "c"]), "command": _TEXT}
)
_STAGES = st.lists(_STAGE, max_size=14) | _VALUE


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> BatchService:
    return BatchService(Repository(tmp_path_factory.mktemp("fuzz") / "db.json"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stages=_STAGES)
def test_any_stages_make_a_batch_or_one_line(service: BatchService, stages: object) -> None:
    try:
        batch = service.create("Fz", generator="command", command="true {output}", stages=stages)
    except BatchtuiError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    again = service.get(batch.id)  # stored, read back, hashed the same
    assert again.config.fingerprint() == batch.config.fingerprint()
    service.add_items(batch.id, ["one"])
    try:
        service.lock(batch.id)
    except BatchtuiError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_stages_text_reads_or_says_why_in_one_line(text: str) -> None:
    try:
        parse_stages(text, "s.toml")
    except ValueError as exc:
        assert str(exc).startswith("s.toml: ")


def test_a_stages_file_that_is_not_stages_is_refused_in_one_line(tmp_path: Path) -> None:
    for text, said in [
        ("name = 'x'", "expected only [[stages]] tables"),
        ("[[stages]]\nname = ", "not valid TOML"),
        ('{"stages": 3}', "must be a list of tables"),
        ("[1, 2]", "must be a list of tables"),
    ]:
        with pytest.raises(ValueError, match=re.escape(said)):
            parse_stages(text, "f")
    assert parse_stages("none") is None and parse_stages("  ") is None
    assert parse_stages('[{"name": "a", "command": "x {output}"}]') == [
        {"name": "a", "command": "x {output}"}
    ]
