"""Item variables (issue 28, the first part): a table's columns become each item's variables,
a command uses them as placeholders, each value one argument whatever it holds; the lock
names the items that lack one; defaults fill the rest; the manifest records them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.service import BatchService

ARGV = "import sys, json; open(sys.argv[-1], 'w').write(json.dumps(sys.argv[1:-1]))"
HOSTILE = ["alto", "bass $(id)", "it's", 'a "quoted" one', "two  spaces", "🔥 emoji", "-x", ";rm"]


@pytest.fixture
def argv_script(tmp_path: Path) -> Path:
    script = tmp_path / "argv.py"
    script.write_text(ARGV)
    return script


def _command(script: Path, template: str) -> str:
    return f"{sys.executable} {script} {template} {{output}}"


def _outputs(service: BatchService, batch_id: str) -> list[list[str]]:
    return [
        json.loads(Path(item.output_path or "").read_text()) for item in service.get(batch_id).items
    ]


def test_a_csv_of_ten_rows_gives_each_value_as_one_argument(
    run_cli, service: BatchService, tmp_path: Path, argv_script: Path
) -> None:
    rows = [
        (f"topic {n}", HOSTILE[n % len(HOSTILE)], str(n * 7), f"sub, {n} «x»") for n in range(10)
    ]
    table = tmp_path / "series.csv"
    import csv

    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["topic", "voice", "seed", "subtitle"])
        writer.writerows(rows)
    command = _command(argv_script, "--voice {voice} --seed {seed} --sub {subtitle}")
    made = run_cli(
        "create", "series", "--generator", "command", "--command", command,
        "--output", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    batch_id = json.loads(made.out)["id"]
    added = run_cli("add", batch_id, "--csv", str(table), "--pattern", "{topic}")
    assert added.code == 0, added.err
    assert run_cli("lock", batch_id).code == 0
    started = run_cli("start", batch_id)
    assert started.code == 0, started.err
    expected = [["--voice", voice, "--seed", seed, "--sub", sub] for _, voice, seed, sub in rows]
    assert _outputs(service, batch_id) == expected
    # The manifest records each item's variables beside the config's hash.
    manifest = Path(service.get(batch_id).items[0].output_path or "").parent / "manifest.jsonl"
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    [first] = [line for line in lines if line.get("kind") == "output" and line["position"] == 1]
    assert first["vars"] == {
        "topic": "topic 0", "voice": "alto", "seed": "0", "subtitle": "sub, 0 «x»"
    }  # fmt: skip


def test_the_lock_names_the_items_that_lack_a_variable_and_a_default_fixes_it(
    run_cli, tmp_path: Path, argv_script: Path
) -> None:
    command = _command(argv_script, "--voice {voice}")
    made = run_cli(
        "create", "voices", "--generator", "command", "--command", command,
        "--output", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    batch_id = json.loads(made.out)["id"]
    assert run_cli("add", batch_id, "one", "--var", "voice=alto").code == 0
    assert run_cli("add", batch_id, "two", "three").code == 0
    assert run_cli("add", batch_id, "four", "--var", "voice=bass").code == 0
    refused = run_cli("lock", batch_id)
    assert refused.code == 2
    assert "items 2, 3 have no {voice}" in refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert run_cli("config", batch_id, "--var-default", "voice=tenor").code == 0
    locked = run_cli("lock", batch_id, "--json")
    assert locked.code == 0, locked.err
    assert run_cli("start", batch_id).code == 0
    # … or one given to the item itself (after unlocking).


def test_defaults_are_part_of_the_config_hash_only_when_set(run_cli) -> None:
    hashes = []
    for extra in ([], ["--var-default", "voice=alto"], ["--var-default", "voice=alto"]):
        made = json.loads(run_cli("create", "h", *extra, "--json").out)
        run_cli("add", made["id"], "x")
        hashes.append(json.loads(run_cli("lock", made["id"], "--json").out)["config_hash"])
    plain = json.loads(run_cli("create", "plain", "--json").out)
    run_cli("add", plain["id"], "x")
    assert hashes[1] == hashes[2] != hashes[0]
    assert json.loads(run_cli("lock", plain["id"], "--json").out)["config_hash"] == hashes[0]


def test_a_variable_named_like_a_built_in_is_reached_as_vars_name(
    run_cli, service: BatchService, tmp_path: Path, argv_script: Path
) -> None:
    command = _command(argv_script, "{content} {vars.content}")
    made = run_cli(
        "create", "shadow", "--generator", "command", "--command", command,
        "--output", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    batch_id = json.loads(made.out)["id"]
    assert run_cli("add", batch_id, "the text", "--var", "content=the var").code == 0
    assert run_cli("lock", batch_id).code == 0
    assert run_cli("start", batch_id).code == 0
    assert _outputs(service, batch_id) == [["the text", "the var"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--var", "bad name=1"], "is not a variable name"),
        (["--var", "voice"], "is not NAME=VALUE"),
        (["--var", "voice=a\tb"], "control character"),
        (["--var", "v=" + "x" * 5000], "over 4,096 characters"),
    ],
)
def test_a_bad_variable_is_one_line_and_adds_nothing(run_cli, args: list[str], message: str):
    made = json.loads(run_cli("create", "bad", "--json").out)
    done = run_cli("add", made["id"], "x", *args)
    assert done.code == 2 and message in done.err
    assert len(done.err.strip().splitlines()) == 1
    assert json.loads(run_cli("show", made["id"], "--json").out)["items"] == []


def test_a_header_that_repeats_a_name_is_one_line_and_adds_nothing(run_cli, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("topic,voice,voice\na,b,c\n")
    made = json.loads(run_cli("create", "bad table", "--json").out)
    done = run_cli("add", made["id"], "--csv", str(table))
    assert done.code == 2 and "names the column 'voice' twice" in done.err, done.err
    assert json.loads(run_cli("show", made["id"], "--json").out)["items"] == []


def test_a_cell_that_cannot_be_a_variable_still_fills_the_pattern_and_the_lock_says_so(
    run_cli, tmp_path: Path, argv_script: Path
) -> None:
    table = tmp_path / "t.csv"
    table.write_text('topic,notes\na,"line one\nline two"\nb,short\n')
    command = _command(argv_script, "{notes}")
    made = json.loads(
        run_cli(
            "create", "notes", "--generator", "command", "--command", command,
            "--output", str(tmp_path / "out"), "--json",
        ).out
    )  # fmt: skip
    done = run_cli("add", made["id"], "--csv", str(table), "--pattern", "{topic}: {notes}")
    assert done.code == 0, done.err
    items = json.loads(run_cli("show", made["id"], "--json").out)["items"]
    assert [i["content"] for i in items] == ["a: line one\nline two", "b: short"]
    assert "notes" not in (items[0]["vars"] or {}) and items[1]["vars"]["notes"] == "short"
    refused = run_cli("lock", made["id"])
    assert refused.code == 2 and "item 1 has no {notes}" in refused.err


def test_edit_sets_and_drops_variables_and_keeps_the_others(run_cli) -> None:
    made = json.loads(run_cli("create", "edit", "--json").out)
    run_cli("add", made["id"], "x", "--var", "voice=alto", "--var", "seed=7")
    assert run_cli("edit", made["id"], "1", "--var", "voice=bass", "--unset-var", "seed").code == 0
    item = json.loads(run_cli("show", made["id"], "--json").out)["items"][0]
    assert item["vars"] == {"voice": "bass"} and item["content"] == "x"
    refused = run_cli("edit", made["id"], "1", "new text", "--var", "bad name=1")
    assert refused.code == 2
    item = json.loads(run_cli("show", made["id"], "--json").out)["items"][0]
    assert item["content"] == "x"  # all or nothing
    assert run_cli("edit", made["id"], "1").code == 2  # nothing to change


def test_the_api_takes_items_with_variables(service: BatchService) -> None:
    batch = service.create("api")
    with TestClient(create_app(service)) as http:
        added = http.post(
            f"/v1/batch/{batch.id}/items",
            json={"items": [{"content": "one", "vars": {"voice": "alto", "seed": 7}}]},
        )
        assert added.status_code == 201, added.text
        assert added.json()[0]["vars"] == {"voice": "alto", "seed": 7}
        plain = http.post(f"/v1/batch/{batch.id}/items", json={"contents": ["two"]})
        assert plain.status_code == 201
        both = http.post(
            f"/v1/batch/{batch.id}/items", json={"contents": ["x"], "items": [{"content": "y"}]}
        )
        assert both.status_code == 422
        bad = http.post(
            f"/v1/batch/{batch.id}/items",
            json={"items": [{"content": "z", "vars": {"a b": "1"}}]},
        )
        assert bad.status_code == 422 and "not a variable name" in bad.json()["error"]["message"]
    assert [i.vars for i in service.get(batch.id).items] == [{"voice": "alto", "seed": 7}, None]
