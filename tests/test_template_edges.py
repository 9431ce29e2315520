"""Templates at their edges: a small template never makes (or lists) gigabytes, parameters
filled into a command stay one argument each, and a parameter never takes the name of the
item's own placeholders."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.service import BatchService


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    monkeypatch.setenv("BATCHTUI_TEMPLATES", str(folder))
    return folder


def _huge(patterns: int, count: int, chars: int) -> str:
    items = ", ".join(json.dumps(f"{{topic}} {i} " + "x" * chars) for i in range(patterns))
    return (
        f'count = "{{facts}}"\nitems = [{items}]\n\n'
        f'[parameters.topic]\ndefault = "Space"\n\n'
        f'[parameters.facts]\ntype = "int"\ndefault = {count}\n'
    )


def test_listing_a_template_never_makes_its_items(run_cli, templates: Path, db_path: Path) -> None:
    # 40 patterns of 90,000 characters, made 2,000 times, would be 7 GB of text.
    (templates / "big.toml").write_text(_huge(40, 2_000, 90_000))
    # A separate process with a deadline: the old code made every item to list it.
    listed = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "template", "list", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [t["name"] for t in json.loads(listed.stdout)] == ["big"]
    # Making a batch of it stops at the batch's text limit, in one line, with no batch.
    made = run_cli("create", "too much", "--template", "big")
    assert made.code == 2
    assert len(made.err.strip().splitlines()) == 1
    assert "MiB of text" in made.err
    assert json.loads(run_cli("list", "--json").out) == []


def test_count_times_patterns_is_bounded_in_files_and_documents(
    run_cli, service: BatchService, templates: Path
) -> None:
    (templates / "many.toml").write_text('count = 100000\nitems = ["a {n}", "b {n}"]\n')
    listed = run_cli("template", "list")
    assert listed.code == 0
    problem = [line for line in listed.err.splitlines() if "many.toml" in line]
    assert len(problem) == 1 and "200,000 items" in problem[0]
    with TestClient(create_app(service)) as http:
        answer = http.post(
            "/v1/templates",
            json={"name": "flood", "items": ["x {n}"] * 1000, "count": 100_000},
        )
    assert answer.status_code == 422, answer.text
    assert "100,000,000 items" in answer.json()["error"]["message"]
    assert not (templates / "flood.toml").exists()


WRITE_ARGS = 'import sys; open(sys.argv[-1], \\"w\\").write(repr(sys.argv[1:-1]))'
COMMAND_TEMPLATE = f"""
[config]
generator = "command"
output_ext = "txt"
command = "{{python}} -c '{WRITE_ARGS}' --title {{title}} {{output}}"

[parameters.title]
default = "Untitled"

[parameters.python]
default = "{{python_path}}"
"""


@pytest.mark.parametrize("title", ["Space Facts", "it's", "a {b} c", '"quoted" & ;'])
def test_a_parameter_fills_one_argument_whatever_it_holds(
    run_cli, templates: Path, tmp_path: Path, title: str
) -> None:
    text = COMMAND_TEMPLATE.replace("{python_path}", sys.executable)
    (templates / "cmd.toml").write_text(text)
    out = tmp_path / "out"
    made = run_cli(
        "create", "titled", "--template", "cmd", "--set", f"title={title}",
        "--output", str(out), "--json",
    )  # fmt: skip
    assert made.code == 0, made.err
    batch_id = json.loads(made.out)["id"]
    assert run_cli("add", batch_id, "one").code == 0
    locked = run_cli("lock", batch_id)
    assert locked.code == 0, locked.err
    started = run_cli("start", batch_id)
    assert started.code == 0, started.err + started.out
    [written] = [p for p in out.rglob("*.txt")]
    assert written.read_text() == repr(["--title", title])


@pytest.mark.parametrize("name", ["output", "content", "n", "scratch"])
def test_a_parameter_may_not_take_the_items_own_placeholder(
    run_cli, service: BatchService, templates: Path, name: str
) -> None:
    (templates / "clash.toml").write_text(
        f'items = ["x"]\n[config]\ngenerator = "command"\ncommand = "cp {{content}} {{output}}"\n'
        f'[parameters.{name}]\ndefault = "/tmp/elsewhere"\n'
    )
    listed = run_cli("template", "list")
    assert f"parameter '{name}' has the name of the item's own {{{name}}}" in listed.err
    made = run_cli("create", "clash", "--template", "clash")
    assert made.code == 2 and len(made.err.strip().splitlines()) == 1
    with TestClient(create_app(service)) as http:
        answer = http.post("/v1/templates", json={
            "name": "clash2", "items": ["x"], "parameters": {name: {"default": "v"}},
        })  # fmt: skip
    assert answer.status_code == 422


def test_an_item_pattern_naming_no_parameter_is_malformed(run_cli, templates: Path) -> None:
    (templates / "typo.toml").write_text(
        'items = ["{topc} fact {n}"]\n[parameters.topic]\ndefault = "Space"\n'
    )
    listed = run_cli("template", "list")
    assert "uses {topc}, which is not a parameter (its parameters: topic)" in listed.err
    assert tomllib.loads((templates / "typo.toml").read_text())["items"]
