"""Templates (TOML files, CLI, API) and items from CSV/JSONL rows."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.service import BatchService

SPACE = """
description = "Space facts"
count = "{facts}"
items = ["{topic}: fact {n}"]

[config]
platform = "tiktok"
duration = "{seconds}"
generator = "command"
command = "cp {content} {output}"

[parameters.topic]
default = "Space"

[parameters.facts]
type = "int"
default = 3

[parameters.seconds]
type = "float"
default = 4
"""


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "templates"
    monkeypatch.setenv("BATCHTUI_TEMPLATES", str(folder))
    return folder


def test_round_trip_cli_toml_api_keeps_the_config_hash(
    run_cli, service: BatchService, templates: Path
) -> None:
    made = run_cli(
        "create",
        "Shorts",
        "--platform",
        "tiktok",
        "--duration",
        "7",
        "--retries",
        "2",
        "--canary",
        "--json",
    )
    batch_id = json.loads(made.out)["id"]
    assert run_cli("add", batch_id, "Why is {space} dark?", "Black holes").code == 0
    locked = json.loads(run_cli("lock", batch_id, "--json").out)
    saved = run_cli("template", "save", batch_id, "shorts", "-m", "our Shorts")
    assert saved.code == 0, saved.err
    # The file is plain TOML a team can keep in git: no machine folders in it.
    data = tomllib.loads((templates / "shorts.toml").read_text())
    assert data["description"] == "our Shorts"
    assert data["config"] == {
        "platform": "tiktok",
        "duration": 7.0,
        "style": "night",  # the look a new batch names is kept with it
        "retries": 2,
        "canary": True,
    }
    assert data["items"] == ["Why is {{space}} dark?", "Black holes"]
    with TestClient(create_app(service)) as http:
        shown = http.get("/v1/templates/shorts").json()
        assert shown["config"] == data["config"]
        created = http.post("/v1/batch/", json={"name": "via api", "template": "shorts"})
        assert created.status_code == 201, created.text
        via_api = created.json()
    assert [i["content"] for i in via_api["items"]] == ["Why is {space} dark?", "Black holes"]
    relocked = json.loads(run_cli("lock", via_api["id"], "--json").out)
    assert relocked["config_hash"] == locked["config_hash"]
    # And from the CLI again: the same structure, the same hash.
    again = json.loads(run_cli("create", "again", "--template", "shorts", "--json").out)
    assert (
        json.loads(run_cli("lock", again["id"], "--json").out)["config_hash"]
        == locked["config_hash"]
    )


def test_parameters_fill_the_config_and_the_items(
    run_cli, service: BatchService, templates: Path
) -> None:
    templates.mkdir()
    (templates / "space.toml").write_text(SPACE)
    out = run_cli(
        "create",
        "mars",
        "--template",
        "space",
        "--set",
        "topic=Mars",
        "--set",
        "facts=2",
        "--set",
        "seconds=6.5",
        "--json",
    )
    assert out.code == 0, out.err
    batch = json.loads(out.out)
    assert [i["content"] for i in batch["items"]] == ["Mars: fact 1", "Mars: fact 2"]
    assert batch["config"]["duration"] == 6.5
    assert batch["config"]["command"] == "cp {content} {output}"  # its own placeholders stay
    # The same parameters make the same config hash; other parameters, another.
    hashes = []
    for name, seconds in (("a", "6.5"), ("b", "6.5"), ("c", "9")):
        made = json.loads(
            run_cli(
                "create", name, "--template", "space", "--set", f"seconds={seconds}", "--json"
            ).out
        )
        hashes.append(json.loads(run_cli("lock", made["id"], "--json").out)["config_hash"])
    assert hashes[0] == hashes[1] != hashes[2]


def test_a_malformed_template_file_is_reported_in_one_line_and_ignored(
    run_cli, service: BatchService, templates: Path
) -> None:
    templates.mkdir()
    (templates / "space.toml").write_text(SPACE)
    (templates / "broken.toml").write_text("items = [\n")
    (templates / "wrong.toml").write_text('colour = "blue"\n')
    listed = run_cli("template", "list")
    assert listed.code == 0
    assert "space" in listed.out and "broken" not in listed.out
    problems = listed.err.strip().splitlines()
    assert len(problems) == 2
    assert all(line.startswith("batchtui: skipped ") for line in problems)
    assert any("broken.toml" in line and "malformed" in line for line in problems)
    assert any("wrong.toml" in line and "colour" in line for line in problems)
    with TestClient(create_app(service)) as http:
        answer = http.get("/v1/templates").json()
    assert [t["name"] for t in answer["templates"]] == ["space"]
    assert len(answer["problems"]) == 2


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--template", "nope"), "no template 'nope'"),
        (("--template", "space", "--set", "colour=red"), "has no parameter colour"),
        (("--template", "space", "--set", "facts=many"), "facts must be an int"),
        (("--template", "space", "--set", "facts=50"), "makes 50 items but the batch holds"),
        (("--set", "facts=2"), "use it with --template"),
        (("--template", "space", "--set", "nonsense"), "--set takes KEY=VALUE"),
    ],
)
def test_template_errors_are_one_line_and_make_no_batch(
    run_cli, service: BatchService, templates: Path, args: tuple[str, ...], said: str
) -> None:
    templates.mkdir()
    (templates / "space.toml").write_text(SPACE)
    result = run_cli("create", "x", *args)
    assert result.code == 2
    assert said in result.err and len(result.err.strip().splitlines()) == 1
    assert service.list_batches() == []


def test_saving_over_a_template_needs_force_and_delete_removes_it(
    run_cli, service: BatchService, templates: Path
) -> None:
    batch = service.create("one")
    assert run_cli("template", "save", batch.id, "t").code == 0
    refused = run_cli("template", "save", batch.id, "t")
    assert refused.code == 2 and "exists; replace it with --force" in refused.err
    assert run_cli("template", "save", batch.id, "t", "--force").code == 0
    assert run_cli("template", "save", batch.id, "../evil").code == 2
    assert run_cli("template", "delete", "t").code == 0
    assert not (templates / "t.toml").exists()
    assert run_cli("template", "show", "t").code == 2


def test_the_api_saves_and_deletes_templates(service: BatchService, templates: Path) -> None:
    batch = service.create("from here", duration=9)
    service.add_items(batch.id, ["one"])
    with TestClient(create_app(service)) as http:
        saved = http.post("/v1/templates", json={"name": "here", "batch": batch.id})
        assert saved.status_code == 201 and saved.json()["config"] == {
            "duration": 9.0,
            "style": "night",
        }
        document = {
            "name": "doc",
            "items": ["{word} {n}"],
            "count": 2,
            "parameters": {"word": {"default": "hi"}},
        }
        assert http.post("/v1/templates", json=document).status_code == 201
        again = http.post("/v1/templates", json=document)
        assert again.status_code == 409
        made = http.post(
            "/v1/batch/", json={"name": "x", "template": "doc", "parameters": {"word": "yo"}}
        )
        assert [i["content"] for i in made.json()["items"]] == ["yo 1", "yo 2"]
        bad = http.post("/v1/templates", json={"name": "bad", "items": ["{oops"]})
        assert bad.status_code == 422 and "bad placeholder" in bad.json()["error"]["message"]
        assert http.delete("/v1/templates/doc").status_code == 200
        assert http.get("/v1/templates/doc").status_code == 404


def test_items_from_csv_and_jsonl_rows(run_cli, service: BatchService, tmp_path: Path) -> None:
    batch = service.create("rows")
    table = tmp_path / "q.csv"
    table.write_text('question,level\nWhy is space dark?,easy\n"Black holes, really?",hard\n\n')
    added = run_cli("add", batch.id, "--csv", str(table), "--pattern", "{question} ({level})")
    assert added.code == 0, added.err
    lines = tmp_path / "q.jsonl"
    lines.write_text('{"question": "How stars die", "n": 3}\n\n{"question": "Comets"}\n')
    assert run_cli("add", batch.id, "--jsonl", str(lines), "--pattern", "{question}").code == 0
    assert run_cli("add", batch.id, "--csv", str(table)).code == 0  # the first column
    contents = [item.content for item in service.get(batch.id).items]
    assert contents == [
        "Why is space dark? (easy)",
        "Black holes, really? (hard)",
        "How stars die",
        "Comets",
        "Why is space dark?",
        "Black holes, really?",
    ]
    # A row without the column: nothing is added, and the row is named.
    missing = run_cli("add", batch.id, "--jsonl", str(lines), "--pattern", "{question} {n}")
    assert missing.code == 2 and "row 2: no value for {n}" in missing.err
    assert len(service.get(batch.id).items) == 6
    nofile = run_cli("add", batch.id, "--csv", str(tmp_path / "none.csv"))
    assert nofile.code == 2 and "no such file" in nofile.err  # the one reader's words


def test_a_template_document_with_nulls_is_saved_as_it_reads_back(
    service: BatchService, templates: Path
) -> None:
    """Found by schemathesis: a null in a config was a 500 (TOML has no null)."""
    with TestClient(create_app(service)) as http:
        saved = http.post("/v1/templates", json={"name": "n", "config": {"duration": None}})
        assert saved.status_code == 201 and saved.json()["config"] == {}
        nested = http.post("/v1/templates", json={"name": "m", "config": {"x": [None]}})
        assert nested.status_code == 422
    assert tomllib.loads((templates / "n.toml").read_text()) == {}


def test_rows_from_standard_input_with_the_default_pattern(run_cli, service: BatchService) -> None:
    """The file is read once: '-' (standard input) works without a pattern too."""
    batch = service.create("stdin rows")
    added = run_cli("add", batch.id, "--csv", "-", stdin="question\nWhy?\nHow?\n")
    assert added.code == 0, added.err
    assert [i.content for i in service.get(batch.id).items] == ["Why?", "How?"]
