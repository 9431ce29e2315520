"""A series re-made exactly (issue 28): from its manifest (`batchtui import`, `POST
/v1/imports/`) or through a template, the new batch locks with the same config hash and
has the same items, variables and keys; a file that is not a manifest adds nothing."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.service import BatchService

ARGV = "import sys, json; open(sys.argv[-1], 'w').write(json.dumps(sys.argv[1:-1]))"
VOICES = ["alto", "bass $(id)", "it's", 'a "quoted" one', "two  spaces", "🔥 emoji"]


def _series(run_cli, service: BatchService, tmp_path: Path, *, run: bool = True) -> str:
    """A batch of ten rows (topic, voice, seed, subtitle, key), 2 variants, locked and run."""
    script = tmp_path / "argv.py"
    script.write_text(ARGV)
    table = tmp_path / "series.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["topic", "voice", "seed", "subtitle", "key"])
        for n in range(1, 11):
            writer.writerow([f"Fact {n}", VOICES[n % len(VOICES)], n * 7, f"sub {n}", f"ep-{n}"])
    command = f"{sys.executable} {script} --voice {{voice}} --seed {{seed}} {{subtitle}} {{output}}"
    made = run_cli(
        "create", "series", "--generator", "command", "--command", command, "--variants", "2",
        "--var-default", "subtitle=none", "--output", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    batch_id = str(json.loads(made.out)["id"])
    assert run_cli("add", batch_id, "--csv", str(table), "--pattern", "{topic}").code == 0
    assert run_cli("lock", batch_id).code == 0
    if run:
        assert run_cli("start", batch_id).code == 0
    return batch_id


def _items(service: BatchService, batch_id: str) -> list[tuple[str, str, object, object]]:
    return [(i.label, i.content, i.vars, i.key) for i in service.get(batch_id).items]


def _folder(service: BatchService, batch_id: str) -> Path:
    return Path(service.get(batch_id).items[0].output_path or "").parent


def test_a_series_re_made_from_its_manifest_has_the_same_hash_vars_and_keys(
    run_cli, service: BatchService, tmp_path: Path
) -> None:
    source = _series(run_cli, service, tmp_path)
    manifest = _folder(service, source) / "manifest.jsonl"
    made = run_cli("import", str(manifest), "--name", "again", "--json")
    assert made.code == 0, made.err
    again = json.loads(made.out)["id"]
    assert len(service.get(again).items) == 10  # one row per item until the lock
    assert run_cli("lock", again).code == 0
    assert service.get(again).config_hash == service.get(source).config_hash
    assert _items(service, again) == _items(service, source)
    # The folder itself names its manifest too.
    assert run_cli("import", str(manifest.parent), "--name", "third").code == 0


def test_a_series_re_made_through_a_template_has_the_same_hash_vars_and_keys(
    run_cli, service: BatchService, tmp_path: Path
) -> None:
    source = _series(run_cli, service, tmp_path, run=False)
    assert run_cli("template", "save", source, "series").code == 0
    made = run_cli("create", "again", "--template", "series", "--json")
    assert made.code == 0, made.err
    again = json.loads(made.out)["id"]
    assert run_cli("lock", again).code == 0
    assert service.get(again).config_hash == service.get(source).config_hash
    assert _items(service, again) == _items(service, source)


def test_a_template_item_pattern_gives_variables_and_a_key(
    run_cli, service: BatchService, tmp_path: Path
) -> None:
    template = {
        "name": "facts",
        "count": 3,
        "parameters": {"voice": {"type": "str", "default": "alto"}},
        "items": ["plain {n}", {"content": "fact {n}", "vars": {"voice": "{voice}", "seed": "{n}"},
                                "key": "fact-{n}"}],
    }  # fmt: skip
    service.put_template(template)
    batch = service.create_from_template("facts", "facts", {"voice": "bass $(id)"})
    items = [(i.content, i.vars, i.key) for i in batch.items]
    assert items[:2] == [
        ("plain 1", None, None),
        ("fact 1", {"voice": "bass $(id)", "seed": "1"}, "fact-1"),
    ]
    assert len(items) == 6 and items[-1][2] == "fact-3"
    bad = {**template, "name": "badkey", "items": [{"content": "x", "key": "Fact {n}"}]}
    service.put_template(bad)
    refused = run_cli("create", "b", "--template", "badkey")
    assert refused.code == 2
    assert "template 'badkey': item 1: 'Fact 1' is not an item key" in refused.err
    assert [s.name for s in service.page(None)[0]] == ["facts"]  # nothing half made


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (b"\x00\xff\xfe binary", "is not UTF-8 text"),
        (b"not json\n", "line 1 is not JSON"),
        (b"[1, 2]\n", "line 1 is not a JSON object"),
        (b'{"kind": "output", "position": 1, "content": "x"}\n', "has no run line"),
        (
            b'{"kind": "run", "config": {"generator": "nope"}}\n'
            b'{"kind": "output", "position": 1, "content": "x"}\n',
            "nope",
        ),
        (
            b'{"kind": "run", "config": {}}\n'
            b'{"kind": "output", "position": 1, "content": "x", "key": "../x"}\n',
            "line 2: '../x' is not an item key",
        ),
        (
            b'{"kind": "run", "config": {}}\n' + b'{"a": "' + b"x" * 10_000_000 + b'"}\n',
            "records no output",
        ),
        (
            b'{"kind": "run", "config": {}}\n'
            b'{"kind": "output", "position": 1, "content": "' + b"x" * 10_000_000 + b'"}\n',
            "line 2: item content is too long (10,000,000 characters",
        ),
        (  # an item number past any batch's: refused before it is counted up to
            b'{"kind": "run", "config": {}}\n'
            b'{"kind": "output", "position": 200001, "content": "x"}\n',
            "line 2: item number 200001 is past 100,000",
        ),
        (
            b'{"kind": "run", "config": {}}\n'
            b'{"kind": "output", "position": 1, "content": "x", "key": "a"}\n'
            b'{"kind": "output", "position": 2, "content": "y", "key": "a"}\n',
            "'a'",
        ),
    ],
)
def test_a_file_that_is_not_a_manifest_is_refused_in_one_line_and_adds_nothing(
    run_cli, service: BatchService, tmp_path: Path, text: bytes, said: str
) -> None:
    path = tmp_path / "manifest.jsonl"
    path.write_bytes(text)
    refused = run_cli("import", str(path))
    assert refused.code == 2, refused.out
    assert said in refused.err and refused.err.count("\n") == 1, refused.err
    assert service.page(None)[0] == []


def test_the_api_re_makes_a_series_from_a_manifests_text(
    run_cli, service: BatchService, tmp_path: Path
) -> None:
    source = _series(run_cli, service, tmp_path)
    text = (_folder(service, source) / "manifest.jsonl").read_text()
    with TestClient(create_app(service)) as http:
        made = http.post("/v1/imports/", json={"manifest": text, "name": "over http"})
        assert made.status_code == 201, made.text
        assert made.json()["notes"] == []
        again = made.json()["id"]
        assert http.post(f"/v1/batch/{again}/lock").status_code == 200
        refused = http.post("/v1/imports/", json={"manifest": "[]"})
        assert refused.status_code == 422
        assert refused.json()["error"]["message"] == "the manifest line 1 is not a JSON object"
    assert service.get(again).config_hash == service.get(source).config_hash
    assert _items(service, again) == _items(service, source)


def test_a_folder_with_no_manifest_is_refused_in_one_line(
    run_cli, service: BatchService, tmp_path: Path
) -> None:
    refused = run_cli("import", str(tmp_path))
    assert refused.code == 2
    assert refused.err == f"batchtui: error: {tmp_path} is a folder with no manifest.jsonl in it\n"
    assert service.page(None)[0] == []


def test_a_template_that_gives_two_items_one_key_makes_no_batch(
    run_cli, service: BatchService
) -> None:
    service.put_template({"name": "twice", "count": 2, "items": [{"content": "x", "key": "k"}]})
    refused = run_cli("create", "b", "--template", "twice")
    assert refused.code == 2
    assert refused.err == (
        "batchtui: error: template 'twice': items 1 and 2 would both have the key 'k'; "
        "keys are unique (put {n} in it)\n"
    )
    assert service.page(None)[0] == []  # no empty batch left behind


def test_a_template_item_of_the_wrong_shape_is_named_in_one_short_line(
    run_cli, service: BatchService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHTUI_TEMPLATES", str(tmp_path))
    (tmp_path / "odd.toml").write_text('items = ["plain", {content = "x", extra = 1}]\n')
    refused = run_cli("create", "b", "--template", "odd")
    assert refused.code == 2
    assert refused.err == (
        "batchtui: error: template 'odd' is malformed: items: item pattern 2: extra: "
        "Extra inputs are not permitted (got 1)\n"
    ), refused.err


@pytest.mark.parametrize("recorded", ["   ", "x" * 5000, 7])
def test_a_recorded_name_no_batch_can_take_gives_way_to_remade(
    run_cli, service: BatchService, tmp_path: Path, recorded: object
) -> None:
    path = tmp_path / "manifest.jsonl"
    run = {"kind": "run", "batch_name": recorded, "config": {}}
    output = {"kind": "output", "position": 1, "content": "x"}
    path.write_text(f"{json.dumps(run)}\n{json.dumps(output)}\n")
    made = run_cli("import", str(path), "--json")
    assert made.code == 0, made.err
    assert json.loads(made.out)["name"] == "remade"


def test_a_setting_given_that_changes_the_hash_is_said(
    run_cli, service: BatchService, tmp_path: Path
) -> None:
    source = _series(run_cli, service, tmp_path)
    manifest = _folder(service, source) / "manifest.jsonl"
    same = run_cli(
        "import", str(manifest), "-n", "b", "--concurrency", "5", "--output", str(tmp_path)
    )  # fmt: skip
    assert same.code == 0 and same.err == "", same.err  # not part of the hash: no note
    changed = run_cli("import", str(manifest), "--variants", "5")
    assert changed.code == 0
    assert "change how outputs look (variants): its hash will be" in changed.err
    assert "not re-made exactly" in changed.err
