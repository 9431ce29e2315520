"""Item keys and variants (issue 28): a caller's key names an item, its output and its log;
`--variants N` renders each item N times with its own `{variant}` and `{seed}`, and a retry
runs only the variants that did not succeed."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from batchtui.core.errors import AmbiguousError, NotFoundError, ValidationError
from batchtui.core.states import BatchStatus, ItemStatus
from batchtui.service import BatchService

# Prints its arguments into the output; fails (once) for the variant named in FAIL_ONCE, by
# leaving a marker file behind that makes the next attempt succeed.
ARGV = """
import json, os, sys
out, marker = sys.argv[-1], sys.argv[-2]
args = sys.argv[1:-2]
if os.environ.get("FAIL") == args[-1] and not os.path.exists(marker):
    open(marker, "w").close()
    sys.exit(3)
open(out, "w").write(json.dumps(args))
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "argv.py"
    path.write_text(ARGV)
    return path


def _batch(run_cli, tmp_path: Path, script: Path, *extra: str) -> str:
    marker = tmp_path / "failed-once"
    command = f"{sys.executable} {script} {{key}} {{seed}} {{key}}.v{{variant}} {marker} {{output}}"
    made = run_cli(
        "create", "series", "--generator", "command", "--command", command,
        "--output", str(tmp_path / "out"), "--json", *extra,
    )  # fmt: skip
    assert made.code == 0, made.err
    return str(json.loads(made.out)["id"])


def _table(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "rows.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_three_variants_of_four_items_make_twelve_outputs_and_a_retry_runs_only_the_failed_one(
    run_cli, service: BatchService, tmp_path: Path, script: Path, monkeypatch
) -> None:
    batch_id = _batch(run_cli, tmp_path, script, "--variants", "3")
    rows = [{"topic": f"Topic {n}", "key": k} for n, k in enumerate(["a", "b", "c", "d"], 1)]
    assert run_cli("add", batch_id, "--csv", str(_table(tmp_path, rows))).code == 0
    assert len(service.get(batch_id).items) == 4  # one row per item until the lock
    assert run_cli("lock", batch_id).code == 0
    locked = service.get(batch_id)
    assert [item.label for item in locked.items[:4]] == ["1.v1", "1.v2", "1.v3", "2.v1"]
    monkeypatch.setenv("FAIL", "b.v2")  # the runner's children inherit it
    started = run_cli("start", batch_id)
    assert started.code != 0  # PARTIAL
    ran = service.get(batch_id)
    assert ran.status is BatchStatus.PARTIAL
    [failed] = [item for item in ran.items if item.status is not ItemStatus.SUCCEEDED]
    assert (failed.label, failed.key) == ("2.v2", "b")
    folder = Path(ran.items[0].output_path or "").parent
    made = sorted(p.name for p in folder.iterdir() if p.suffix == ".txt")
    assert len(made) == 11 and "02-b.v2.txt" not in made and "02-b.v3.txt" in made
    # Each variant has its own seed; all are one argument each.
    seeds = {json.loads((folder / name).read_text())[1] for name in made}
    assert len(seeds) == 11
    retried = run_cli("retry", batch_id)
    assert retried.code == 0, retried.err
    done = service.get(batch_id)
    assert done.status is BatchStatus.COMPLETE
    attempts = {item.label: item.attempts for item in done.items}
    assert attempts.pop("2.v2") == 2 and set(attempts.values()) == {1}
    assert json.loads((folder / "02-b.v2.txt").read_text())[2] == "b.v2"
    # `outputs` groups the variants under their item.
    listed = run_cli("outputs", batch_id)
    assert "item 2 (b): Topic 2" in listed.out and "  v2  " in listed.out
    as_json = json.loads(run_cli("outputs", batch_id, "--json").out)
    assert len(as_json) == 12
    assert {"label": "2.v2", "key": "b", "item": 2, "variant": 2}.items() <= as_json[4].items()


def test_a_variant_is_found_by_its_label_and_a_series_item_by_its_number(
    service: BatchService, tmp_path: Path
) -> None:
    batch = service.create("v", output_dir=str(tmp_path / "out"), variants=2)
    service.add_items(batch.id, ["one", "two"], keys=["intro", None])
    service.lock(batch.id)
    assert service.item(batch.id, "intro.v2").label == "1.v2"
    assert service.item(batch.id, "2.v1").content == "two"
    with pytest.raises(AmbiguousError, match=r"item '2' has 2 variants \(2.v1, 2.v2\)"):
        service.item(batch.id, "2")
    with pytest.raises(NotFoundError, match="item 'intro' has no variant 3 \\(it has 2\\)"):
        service.item(batch.id, "intro.v3")
    # Unlocking folds the variants back: one row per item, the first keeping its id.
    first = service.get(batch.id).items[0].id
    service.unlock(batch.id)
    again = service.get(batch.id)
    assert [(item.label, item.variant) for item in again.items] == [("1", None), ("2", None)]
    assert again.items[0].id == first


def test_retry_of_a_series_item_runs_each_of_its_variants(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script, "--variants", "2")
    assert run_cli("add", batch_id, "one", "--key", "one").code == 0
    assert run_cli("add", batch_id, "two", "--key", "two").code == 0
    assert run_cli("lock", batch_id).code == 0 and run_cli("start", batch_id).code == 0
    assert run_cli("retry", batch_id, "--item", "2").code == 0
    attempts = [item.attempts for item in service.get(batch_id).items]
    assert attempts == [1, 1, 2, 2]


def test_keys_name_outputs_and_logs_and_are_unique(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script)
    assert run_cli("add", batch_id, "Why is the sky blue?", "--key", "sky").code == 0
    taken = run_cli("add", batch_id, "again", "--key", "sky")
    assert taken.code == 2
    assert taken.err.strip().endswith(
        "key 'sky' already names item 1 of 'series'; keys are unique in a batch"
    )
    for bad in ("Sky", "../x", "3", "a b", "x" * 65, "-x"):
        refused = run_cli("add", batch_id, "bad", f"--key={bad}")
        assert refused.code == 2 and "is not an item key" in refused.err, bad
    assert len(service.get(batch_id).items) == 1  # nothing half added
    assert run_cli("edit", batch_id, "sky", "--key", "blue").code == 0
    assert service.item(batch_id, "blue").content == "Why is the sky blue?"
    assert run_cli("lock", batch_id).code == 0 and run_cli("start", batch_id).code == 0
    item = service.get(batch_id).items[0]
    assert Path(item.output_path or "").name == "01-blue.txt"
    manifest = Path(item.output_path or "").parent / "manifest.jsonl"
    [line] = [json.loads(x) for x in manifest.read_text().splitlines() if '"output"' in x]
    assert line["key"] == "blue" and "variant" not in line


def test_a_table_with_a_repeated_key_or_a_bad_one_adds_nothing_and_names_the_rows(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script)
    rows = [{"topic": "a", "key": "x"}, {"topic": "b", "key": "y"}, {"topic": "c", "key": "x"}]
    repeated = run_cli("add", batch_id, "--csv", str(_table(tmp_path, rows)))
    assert repeated.code == 2
    assert "rows 1 and 3 both have key 'x'" in repeated.err
    rows[2]["key"] = "Nope!"
    bad = run_cli("add", batch_id, "--csv", str(_table(tmp_path, rows)))
    assert bad.code == 2 and "row 3: 'Nope!' is not an item key" in bad.err
    assert service.get(batch_id).items == []


def test_a_jsonl_row_takes_vars_and_a_key_as_the_api_does(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script)
    lines = tmp_path / "rows.jsonl"
    lines.write_text(
        json.dumps({"content": "one", "key": "k1", "vars": {"voice": "alto", "seed": 7}})
        + "\n[1, 2]\n"
    )
    refused = run_cli("add", batch_id, "--jsonl", str(lines), "--content-column", "content")
    assert refused.code == 2 and "line 2 is not a JSON object" in refused.err
    lines.write_text(lines.read_text().splitlines()[0] + "\n")
    added = run_cli("add", batch_id, "--jsonl", str(lines), "--content-column", "content")
    assert added.code == 0, added.err
    [item] = service.get(batch_id).items
    assert (item.content, item.key) == ("one", "k1")
    assert item.vars == {"content": "one", "voice": "alto", "seed": "7"}


def test_a_table_over_the_largest_batch_is_refused_with_its_row_number(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script, "--max-items", "100000")
    table = tmp_path / "big.csv"
    table.write_text("topic\n" + "".join(f"t{n}\n" for n in range(100_001)))
    refused = run_cli("add", batch_id, "--csv", str(table))
    assert refused.code == 2
    assert refused.err.strip().endswith(
        "has over 100,000 rows, more than a batch can hold (row 100,001 is one too many)"
    )
    assert service.get(batch_id).items == []


def test_the_lock_refuses_more_renders_than_a_batch_can_hold(
    service: BatchService, tmp_path: Path
) -> None:
    batch = service.create("v", output_dir=str(tmp_path / "out"), max_items=2000, variants=100)
    service.add_items(batch.id, [f"t{n}" for n in range(1001)])
    with pytest.raises(ValidationError, match="1001 items × 100 variants is 100,100 renders"):
        service.lock(batch.id)


def test_a_copy_of_a_batch_with_variants_has_one_row_per_item_with_its_vars_and_key(
    service: BatchService, tmp_path: Path
) -> None:
    batch = service.create("v", output_dir=str(tmp_path / "out"), variants=3)
    service.add_items(batch.id, ["one", "two"], [{"voice": "alto"}, None], ["intro", None])
    service.lock(batch.id)
    copy = service.duplicate(batch.id)
    assert [(i.label, i.content, i.vars, i.key) for i in copy.items] == [
        ("1", "one", {"voice": "alto"}, "intro"),
        ("2", "two", None, None),
    ]
    assert copy.config.variants == 3 and copy.status is BatchStatus.DRAFT


def test_an_undo_of_a_removal_refuses_a_key_taken_since(
    service: BatchService, tmp_path: Path
) -> None:
    batch = service.create("undo", output_dir=str(tmp_path / "out"))
    service.add_items(batch.id, ["a", "b"], keys=["ka", None])
    gone = service.remove_items(batch.id, ["ka"])
    service.add_items(batch.id, ["c"], keys=["ka"])
    with pytest.raises(ValidationError, match="key 'ka' already names item 2 of 'undo'"):
        service.restore_items(batch.id, gone)
    assert [item.content for item in service.get(batch.id).items] == ["b", "c"]


def test_a_table_row_that_makes_a_blank_item_or_a_jsonl_value_no_var_can_be_is_named(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script)
    table = tmp_path / "kt.csv"
    table.write_text("topic,key\na,zz1\nb,\n")
    blank = run_cli("add", batch_id, "--csv", str(table), "--content-column", "key")
    assert blank.code == 2 and f"{table} row 2: item content is blank" in blank.err
    for value, said in (("true", "is true; give text"), ("1e400", "is not a finite number")):
        lines = tmp_path / "rows.jsonl"
        lines.write_text(f'{{"topic": "a"}}\n{{"topic": "b", "n": {value}}}\n')
        refused = run_cli("add", batch_id, "--jsonl", str(lines))
        assert refused.code == 2 and f"{lines} line 2: 'n' {said}" in refused.err, refused.err
        # (as its parse errors: the file's line; a pattern's or a key's error names the row)
    assert service.get(batch_id).items == []


def test_an_edit_that_contradicts_itself_or_unsets_nothing_is_refused(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script)
    assert run_cli("add", batch_id, "one", "--var", "voice=alto", "--key", "sky").code == 0
    for args, said in (
        (("--var", "voice=x", "--unset-var", "voice"), "variable voice is both set and unset"),
        (("--var", "v=1", "--var", "v=2"), "--var v is given twice"),
    ):
        refused = run_cli("edit", batch_id, "sky", *args)
        assert refused.code == 2 and said in refused.err, (args, refused.err)
    typo = run_cli("edit", batch_id, "sky", "--unset-var", "voise")
    assert typo.code == 0 and "note: item 1 had no variable voise" in typo.err
    twice = run_cli("add", batch_id, "two", "--var", "v=1", "--var", "v=2")
    assert twice.code == 2 and "--var v is given twice" in twice.err
    [item] = service.get(batch_id).items
    assert item.vars == {"voice": "alto"}


def test_a_column_not_kept_as_a_variable_is_noted_once(
    run_cli, service: BatchService, tmp_path: Path, script: Path
) -> None:
    batch_id = _batch(run_cli, tmp_path, script)
    table = tmp_path / "odd.csv"
    table.write_bytes(b"topic,v,my col\na,\x1bx,1\nb,ok,2\nc,\x1by,3\n")
    added = run_cli("add", batch_id, "--csv", str(table), "--pattern", "{topic} {my col}")
    assert added.code == 0, added.err
    notes = added.err.strip().splitlines()
    assert notes == [
        "batchtui: note: column 'v' is not kept as a variable (row 1 first): variable v holds "
        "a control character (a line break, a tab…)",
        "batchtui: note: column 'my col' is not kept as a variable (row 1 first): 'my col' is "
        "not a variable name (a letter or _, then letters, digits or _ (at most 64))",
    ]
    items = service.get(batch_id).items
    assert [item.content for item in items] == ["a 1", "b 2", "c 3"]  # still fills the pattern
    assert items[1].vars == {"topic": "b", "v": "ok"}
