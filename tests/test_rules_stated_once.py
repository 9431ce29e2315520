"""Rules stated once and read everywhere: the limits, the retry vocabulary (derived from the
failure kinds), the one line for a model's validation errors, and lock problems told apart by
code (never by matching their words)."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from batchtui.api.schemas import Concurrency, CreateBatch, DuplicateRequest, SaveTemplate
from batchtui.cli.parser import build_parser
from batchtui.core import limits
from batchtui.core.errors import PROBLEMS_SHOWN, ValidationError, model_error_line
from batchtui.core.failures import RETRY_NAMES, RETRY_ON, FailureKind
from batchtui.core.models import Batch, BatchConfig
from batchtui.core.problems import Problem, ProblemCode
from batchtui.engine.executor import FailureKind as EngineFailureKind
from batchtui.service import BatchService
from batchtui.service.templates import check_name
from batchtui.service.validation import clean_name, lock_problems
from batchtui.store import Repository
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.new_batch import NewBatchScreen

from .tui_support import make_app

# ------------------------------------------------------------------ retry words


def test_the_retry_words_are_the_failure_kinds_words() -> None:
    assert EngineFailureKind is FailureKind, "one list of failure kinds"
    assert set(RETRY_NAMES) == set(FailureKind), "every kind has a word"
    assert set(RETRY_ON) == set(RETRY_NAMES.values())
    for word in RETRY_ON:  # every word is accepted, in the stated order
        assert BatchConfig(retry_on=[word]).retry_on == [word]
    assert BatchConfig(retry_on=list(reversed(RETRY_ON))).retry_on == list(RETRY_ON)
    with pytest.raises(pydantic.ValidationError, match="retry_on"):
        BatchConfig(retry_on=["signal"])  # a kind, not a word
    create = build_parser()._subparsers._group_actions[0].choices["create"]  # type: ignore
    retry_on = next(a for a in create._actions if "--retry-on" in a.option_strings)
    assert retry_on.help is not None
    assert all(word in retry_on.help for word in RETRY_ON), retry_on.help


# ------------------------------------------------------------------ one error line


def _errors(**fields: object) -> pydantic.ValidationError:
    with pytest.raises(pydantic.ValidationError) as info:
        BatchConfig(**fields)
    return info.value


def test_a_models_errors_are_one_line() -> None:
    assert model_error_line(_errors(concurrency=500)) == (
        f"concurrency: Input should be less than or equal to {limits.MAX_CONCURRENCY} (got 500)"
    )
    # Our own validators' words, without pydantic's "Value error, " (they name the value).
    assert model_error_line(_errors(background="nope")) == (
        "background: 'nope' is not a colour (use a name like 'navy' or '#rrggbb')"
    )
    many = _errors(concurrency=0, fps=0, duration=0, retries=-1, max_items=0)
    line = model_error_line(many)
    assert "\n" not in line and line.count("; ") == PROBLEMS_SHOWN - 1
    assert line.endswith("(and 2 more)")
    with pytest.raises(pydantic.ValidationError) as info:
        Batch.model_validate({"id": "x"})
    assert model_error_line(info.value, "document").startswith("name: Field required")
    # A caller's own key (extra, so named in the error) holds a newline: shown, not obeyed.
    with pytest.raises(pydantic.ValidationError) as info:
        BatchConfig.model_validate({"stages": [{"name": "a", "command": "x", "\n\x1b[2J": 1}]})
    line = model_error_line(info.value)
    assert "\n" not in line and "\x1b" not in line and "stages.0.⏎␛[2J: Extra inputs" in line


def test_every_client_words_a_models_errors_alike(tmp_path: Path, run_cli, db_path) -> None:
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    expected = "concurrency: Input should be less than or equal to 64 (got 500)"
    result = run_cli("create", "X", "--concurrency", "500")
    assert result.code == 2 and expected in result.err, result.err
    client = TestClient(create_app(BatchService(Repository(db_path))))
    answer = client.post("/v1/batch/", json={"name": "X", "config": {"concurrency": 500}})
    assert answer.status_code == 422 and expected in answer.json()["error"]["message"]
    answer = client.post("/v1/batch/", json={"name": "", "config": {}})
    message = answer.json()["error"]["message"]
    assert message.startswith("invalid request: name: String should have at least 1 character")


# ------------------------------------------------------------------ limits


def test_the_limits_are_the_ones_every_layer_enforces() -> None:
    top = limits.MAX_CONCURRENCY
    assert BatchConfig(concurrency=top).concurrency == top
    with pytest.raises(pydantic.ValidationError):
        BatchConfig(concurrency=top + 1)
    assert Concurrency(value=top).value == top
    with pytest.raises(pydantic.ValidationError):
        Concurrency(value=top + 1)
    name = "n" * limits.MAX_NAME_CHARS
    assert clean_name(name) == name
    with pytest.raises(ValidationError, match=f"at most {limits.MAX_NAME_CHARS}"):
        clean_name(name + "n")
    optional = DuplicateRequest.model_json_schema()["properties"]["name"]["anyOf"]
    assert {"type": "string", "minLength": 1, "maxLength": limits.MAX_NAME_CHARS} in optional
    assert CreateBatch.model_json_schema()["properties"]["name"]["maxLength"] == (
        limits.MAX_NAME_CHARS
    )
    template = "t" * limits.MAX_TEMPLATE_NAME_CHARS
    assert check_name(template) == template
    with pytest.raises(ValidationError, match=f"up to {limits.MAX_TEMPLATE_NAME_CHARS}"):
        check_name(template + "t")
    schema = SaveTemplate.model_json_schema()["properties"]["name"]
    assert schema["maxLength"] == limits.MAX_TEMPLATE_NAME_CHARS
    assert len(f"{'n' * limits.MAX_COPY_BASE_CHARS} (copy 9999)") == limits.MAX_NAME_CHARS


@pytest.mark.anyio
async def test_the_tuis_name_boxes_take_no_more_than_a_name(db_path: Path) -> None:
    from textual.widgets import Input

    app = make_app(BatchService(Repository(db_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(NewBatchScreen())
        await pilot.pause()
        assert app.screen.query_one("#name", Input).max_length == limits.MAX_NAME_CHARS


# ------------------------------------------------------------------ problem codes


def test_lock_problems_carry_a_code_and_their_words(tmp_path: Path, service: BatchService):
    batch = service.create("Coded", duration=61, output_dir=str(tmp_path / "out"))
    problems = lock_problems(service.get(batch.id))
    assert [p.code for p in problems] == [ProblemCode.NO_ITEMS, ProblemCode.TOO_LONG_FOR_PLATFORM]
    assert problems == [
        "batch 'Coded' has no items; add at least one",
        "duration 61s exceeds the YouTube Shorts limit of 60s",
    ]
    assert all(isinstance(p, Problem) and p.message == str(p) for p in problems)


def test_the_cli_note_leaves_out_no_items_by_code(run_cli, db_path, tmp_path: Path) -> None:
    """A problem whose words happen to say "has no items" is still said (it was matched by
    words, and dropped)."""
    service = BatchService(Repository(db_path))
    batch = service.create("Notes", output_dir=str(tmp_path / "out"))
    workdir = tmp_path / "has no items"  # gone: the lock will refuse
    result = run_cli("config", batch.id, "--workdir", str(workdir))
    assert result.code == 0
    assert "lock will refuse: working folder" in result.err and "has no items" in result.err


@pytest.mark.anyio
async def test_the_editor_leaves_out_no_items_by_code(db_path: Path, tmp_path: Path) -> None:
    from textual.widgets import Static

    service = BatchService(Repository(db_path))
    batch = service.create(
        "Editor", output_dir=str(tmp_path / "out"), workdir=str(tmp_path / "has no items")
    )
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(batch.id)
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        panel = str(app.screen.query_one("#problems", Static).render())
    assert "Lock will refuse" in panel and "working folder" in panel
    assert "add at least one" not in panel, "while items are being added, not repeated"


# ------------------------------------------------------------------ placeholders


def test_a_templates_config_and_items_fill_placeholders_alike() -> None:
    """One placeholder rule (`core.patterns`): a parameter whose name has a hyphen fills a
    config value as it fills an item (config values had a narrower rule of their own)."""
    from batchtui.core.patterns import fill_known
    from batchtui.service.templates import parse

    template = parse(
        "hyphen",
        'items = ["{the-topic}: fact {n}"]\n'
        "[config]\n"
        'command = "render {the-topic} {output} {{literal}}"\n'
        'duration = "{secs}"\n'
        "[parameters.the-topic]\n"
        'default = "Space"\n'
        "[parameters.secs]\n"
        'type = "int"\n'
        "default = 6\n",
    )
    fields, contents = template.make({})
    assert contents == ["Space: fact 1"]
    assert fields["command"] == "render Space {output} {{literal}}"
    assert fields["duration"] == 6  # one parameter alone: its typed value
    assert fill_known("{ secs }", {"secs": 6}) == 6
    assert fill_known("{other}", {"secs": 6}) == "{other}"
