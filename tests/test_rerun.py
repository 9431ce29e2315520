"""Running chosen items again on purpose (`retry --item N`), a succeeded one too: exactly those
items render anew, the others keep their outputs, attempts and times."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import file_bytes

# Each render writes which run of its item this is: a new render is seen in the file.
COUNTING = """\
import sys
from pathlib import Path
text, out = sys.argv[1], Path(sys.argv[2])
count = Path(sys.argv[3]) / (text.replace(" ", "_") + ".count")
runs = int(count.read_text()) + 1 if count.exists() else 1
count.write_text(str(runs))
out.write_text(f"{text} run {runs}")
"""


@pytest.fixture
def finished(run_cli, make_script, tmp_path: Path, out_dir: Path) -> str:
    script = make_script("count.py", COUNTING)
    counts = tmp_path / "counts"
    counts.mkdir()
    command = f"{script} {{content}} {{output}} {counts}"
    created = run_cli(
        "create", "Again", "--generator", "command", "--command", command,
        "--output", str(out_dir), "--ext", "txt", "--json",
    )  # fmt: skip
    batch_id = json.loads(created.out)["id"]
    assert run_cli("add", batch_id, "one", "two", "three").code == 0
    assert run_cli("lock", batch_id).code == 0
    assert run_cli("start", batch_id).code == 0
    return batch_id


def _show(run_cli, batch_id: str) -> dict:
    return json.loads(run_cli("show", batch_id, "--json").out)


def test_a_succeeded_item_chosen_again_renders_anew_and_the_others_stay(run_cli, finished):
    before = _show(run_cli, finished)
    assert before["status"] == "COMPLETE"
    outputs = {item["position"]: Path(item["output_path"]) for item in before["items"]}
    untouched = {n: (p.read_text(), p.stat().st_mtime_ns) for n, p in outputs.items() if n != 2}

    result = run_cli("retry", finished, "--item", "2")
    assert result.code == 0, result.err

    after = _show(run_cli, finished)
    assert after["status"] == "COMPLETE"
    items = {item["position"]: item for item in after["items"]}
    assert items[2]["attempts"] == 2 and items[2]["status"] == "SUCCEEDED"
    assert outputs[2].read_text() == "two run 2"  # rendered again, not taken over
    assert [h["status"] for h in items[2]["history"]] == ["SUCCEEDED", "SUCCEEDED"]
    for position, (text, mtime) in untouched.items():
        assert items[position]["attempts"] == 1
        assert outputs[position].read_text() == text
        assert outputs[position].stat().st_mtime_ns == mtime


def test_choosing_items_needs_a_finished_batch_and_items_it_has(run_cli, finished, db_path):
    before = file_bytes(db_path)
    missing = run_cli("retry", finished, "--item", "9")
    assert missing.code == 2 and "has no item '9'" in missing.err
    assert missing.err.count("\n") == 1
    assert file_bytes(db_path) == before  # nothing changed

    draft = json.loads(run_cli("create", "Draft", "--json").out)["id"]
    run_cli("add", draft, "x")
    refused = run_cli("retry", draft, "--item", "1")
    assert refused.code == 2 and "running chosen items again needs" in refused.err
