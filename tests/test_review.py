"""The review loop: outputs approved or rejected with a note, the rejected ones made again as a
new take (the old output kept as `NN-topic.v1.ext` until the new one is approved), counts in
the views, and the approved series handed on (`outputs --approved`, `export`)."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batchtui.core.errors import ValidationError
from batchtui.core.models import BatchItem
from batchtui.core.models.review import Review
from batchtui.core.review import (
    Verdict,
    check_note,
    kept_name,
    review_counts,
    review_state,
    stored_review_state,
    take_seed,
)
from batchtui.core.states import ItemStatus
from batchtui.core.variants import SEED_RANGE
from batchtui.service import BatchService
from batchtui.store import Repository

from .conftest import file_bytes

# Each render writes its item, seed and take, and counts its renders in a folder of stamps.
STAMPING = """\
import sys
from pathlib import Path
content, out, seed, take, stamps = sys.argv[1:6]
Path(stamps, f"{content}.{take}").write_text(seed)
out_path = Path(out)
out_path.write_text(f"{content} seed {seed} take {take}")
out_path.with_name(out_path.stem + ".poster.png").write_text("poster of " + content)
"""


@pytest.fixture
def stamps(tmp_path: Path) -> Path:
    folder = tmp_path / "stamps"
    folder.mkdir()
    return folder


@pytest.fixture
def finished(run_cli, make_script, stamps: Path, out_dir: Path) -> str:
    script = make_script("stamp.py", STAMPING)
    command = f"{script} {{content}} {{output}} {{seed}} {{take}} {stamps}"
    created = run_cli(
        "create", "Series", "--generator", "command", "--command", command,
        "--output", str(out_dir), "--ext", "txt", "--json",
    )  # fmt: skip
    batch_id = json.loads(created.out)["id"]
    assert run_cli("add", batch_id, "one", "two", "three", "four").code == 0
    assert run_cli("lock", batch_id).code == 0
    assert run_cli("start", batch_id).code == 0
    return batch_id


def _show(run_cli, batch_id: str) -> dict:
    return json.loads(run_cli("show", batch_id, "--json").out)


def _renders(stamps: Path) -> list[str]:
    return sorted(path.name for path in stamps.iterdir())


def test_review_round_trip_by_the_cli(run_cli, finished, stamps, tmp_path):
    assert _renders(stamps) == ["four.1", "one.1", "three.1", "two.1"]
    approved = run_cli("review", finished, "1", "4", "approve")
    assert approved.code == 0, approved.err
    rejected = run_cli("review", finished, "2", "3", "reject", "--note", "too dark")
    assert rejected.code == 0, rejected.err
    assert "'Series': 2 approved · 2 rejected · 0 to review" in rejected.out
    assert "retry" in rejected.out and "--rejected" in rejected.out

    shown = _show(run_cli, finished)
    items = {item["position"]: item for item in shown["items"]}
    assert items[2]["review"]["verdict"] == "rejected"
    assert items[2]["review"]["note"] == "too dark"
    assert shown["progress"]["review"] == {"approved": 2, "rejected": 2, "to_review": 0}
    table = run_cli("show", finished).out
    assert "rejected: too dark" in table and "2 approved · 2 rejected · 0 to review" in table
    (listed,) = json.loads(run_cli("list", "--json").out)  # the list counts them too
    assert listed["review"] == {"approved": 2, "rejected": 2, "to_review": 0}
    assert "2 approved · 2 rejected · 0 to review" in run_cli("list").out

    old = {n: Path(items[n]["output_path"]) for n in (2, 3)}
    old_text = {n: path.read_text() for n, path in old.items()}
    again = run_cli("retry", finished, "--rejected")
    assert again.code == 0, again.err
    # Exactly the rejected items rendered again, as their second take, with other seeds.
    assert _renders(stamps) == sorted(["four.1", "one.1", "three.1", "two.1", "three.2", "two.2"])
    assert (stamps / "two.2").read_text() != (stamps / "two.1").read_text()
    for n, path in old.items():
        kept = path.with_name(path.stem + ".v1" + path.suffix)
        assert kept.read_text() == old_text[n]  # the rejected take is kept
        assert path.with_name(path.stem + ".v1.poster.png").read_text().startswith("poster of")
        assert path.read_text().endswith("take 2")
    after = _show(run_cli, finished)
    assert after["status"] == "COMPLETE"
    items = {item["position"]: item for item in after["items"]}
    assert items[2]["take"] == 2 and items[2].get("review") is None
    assert items[2]["takes"][0]["review"]["note"] == "too dark"
    assert after["progress"]["review"] == {"approved": 2, "rejected": 0, "to_review": 2}

    # Approving the new take lets the kept, rejected one go (its poster too).
    assert run_cli("review", finished, "2", "approve").code == 0
    assert not old[2].with_name("02-two.v1.txt").exists()
    assert not old[2].with_name("02-two.v1.poster.png").exists()
    assert old[3].with_name("03-three.v1.txt").exists()  # not approved yet: kept

    listed = json.loads(run_cli("outputs", finished, "--approved", "--json").out)
    assert [row["position"] for row in listed] == [1, 2, 4]
    assert {row["review"] for row in listed} == {"approved"}

    target = tmp_path / "approved"
    exported = run_cli("export", finished, str(target), "--json")
    assert exported.code == 0, exported.err
    names = sorted(path.name for path in target.iterdir())
    assert names == [
        "01-one.poster.png", "01-one.txt", "02-two.poster.png", "02-two.txt",
        "04-four.poster.png", "04-four.txt", "manifest.jsonl",
    ]  # fmt: skip
    source = Path(items[1]["output_path"])
    assert os.path.samefile(target / "01-one.txt", source)  # a hard link, not a copy
    lines = [json.loads(line) for line in (target / "manifest.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "run"
    assert [(line["output"], line["review"]) for line in lines[1:]] == [
        ("01-one.txt", "approved"),
        ("02-two.txt", "approved"),
        ("04-four.txt", "approved"),
    ]
    assert lines[2]["item_id"] == items[2]["id"]

    # Nothing in the folder is ever written over: a second export is refused, untouched.
    before = {path.name: path.stat().st_mtime_ns for path in target.iterdir()}
    second = run_cli("export", finished, str(target))
    assert second.code == 2 and "exists already" in second.err
    assert second.err.count("\n") == 1
    assert {path.name: path.stat().st_mtime_ns for path in target.iterdir()} == before


def test_bad_reviews_are_refused_in_one_line_and_change_nothing(run_cli, finished, db_path):
    before = file_bytes(db_path)
    for args, words in (
        (("9", "approve"), "has no item '9'"),
        (("1", "maybe"), "'approve' or 'reject'"),
        (("1", "reject", "--note", "x" * 501), "at most 500"),
        (("approve",), "at least one item"),
    ):
        result = run_cli("review", finished, *args)
        assert result.code == 2, (args, result.err)
        assert words in result.err and result.err.count("\n") == 1
    assert file_bytes(db_path) == before
    nothing = run_cli("retry", finished, "--rejected")
    assert nothing.code == 2 and "no rejected output" in nothing.err
    both = run_cli("retry", finished, "--rejected", "--item", "1")
    assert both.code == 2 and "--rejected" in both.err
    empty = run_cli("export", finished, str(db_path.parent / "none"))
    assert empty.code == 2 and "no approved output" in empty.err
    assert not (db_path.parent / "none").exists()
    assert file_bytes(db_path) == before


def test_a_kept_take_never_writes_over_a_file(run_cli, finished, db_path):
    assert run_cli("review", finished, "2", "reject").code == 0
    output = Path(_show(run_cli, finished)["items"][1]["output_path"])
    taken = output.with_name(output.stem + ".v1" + output.suffix)
    taken.write_text("someone's own file")
    before, text = file_bytes(db_path), output.read_text()
    refused = run_cli("retry", finished, "--rejected")
    assert refused.code == 2 and "that name is taken" in refused.err
    assert refused.err.count("\n") == 1
    assert taken.read_text() == "someone's own file" and output.read_text() == text
    assert file_bytes(db_path) == before


def test_a_note_is_one_inert_line(run_cli, finished):
    result = run_cli("review", finished, "1", "reject", "--note", "[b]bold[/b]\nsecond\x1b[31m")
    assert result.code == 0, result.err
    note = _show(run_cli, finished)["items"][0]["review"]["note"]
    assert "\n" not in note and "\x1b" not in note and note.startswith("[b]bold[/b]")


def test_only_a_succeeded_items_output_is_reviewed(run_cli, make_script, out_dir):
    script = make_script("half.py", "import sys\nif 'bad' in sys.argv[1]: sys.exit(3)\n"
                         "open(sys.argv[2], 'w').write('ok')\n")  # fmt: skip
    created = run_cli(
        "create", "Half", "--generator", "command", "--command", f"{script} {{content}} {{output}}",
        "--output", str(out_dir), "--ext", "txt", "--json",
    )  # fmt: skip
    batch_id = json.loads(created.out)["id"]
    run_cli("add", batch_id, "good", "bad")
    run_cli("lock", batch_id)
    run_cli("start", batch_id)
    refused = run_cli("review", batch_id, "2", "approve")
    assert refused.code == 2 and "item 2 is FAILED" in refused.err
    assert run_cli("review", batch_id, "1", "approve").code == 0


def test_a_review_given_while_the_batch_runs_is_kept_by_its_runner(
    run_cli, make_script, out_dir, tmp_path, db_path
):
    gate = tmp_path / "gate"
    script = make_script(
        "gated.py",
        f"""\
        import sys, time
        from pathlib import Path
        if sys.argv[1] == "late":
            while not Path({str(gate)!r}).exists():
                time.sleep(0.02)
        Path(sys.argv[2]).write_text(sys.argv[1])
        """,
    )
    created = run_cli(
        "create", "Live", "--generator", "command", "--command", f"{script} {{content}} {{output}}",
        "--output", str(out_dir), "--ext", "txt", "--json",
    )  # fmt: skip
    batch_id = json.loads(created.out)["id"]
    run_cli("add", batch_id, "early", "late")
    run_cli("lock", batch_id)
    assert run_cli("start", batch_id, "--detach").code == 0
    service = BatchService(Repository(db_path))
    deadline = time.monotonic() + 30
    while service.get(batch_id).items[0].status is not ItemStatus.SUCCEEDED:
        assert time.monotonic() < deadline, "item 1 never succeeded"
        time.sleep(0.05)
    assert service.get(batch_id).status.value == "PROCESSING"
    service.review(batch_id, ["1"], "reject", "mid-run")
    gate.touch()  # item 2 ends, the runner writes its last states
    while service.get(batch_id).status.value == "PROCESSING":
        assert time.monotonic() < deadline, "the run never ended"
        time.sleep(0.05)
    ended = service.get(batch_id)
    assert ended.status.value == "COMPLETE"
    assert ended.items[0].review is not None and ended.items[0].review.note == "mid-run"
    assert review_state(ended.items[1]) == "to_review"


# ------------------------------------------------------------------- the rules


def _item(**fields) -> BatchItem:
    return BatchItem(id="i1", position=1, content="x", **fields)


def test_a_review_belongs_to_the_output_it_was_given_on():
    now = datetime.now(UTC)
    item = _item(status=ItemStatus.SUCCEEDED, output_path="/o/01-x.mp4")
    assert review_state(item) == "to_review"
    item.review = Review(verdict=Verdict.APPROVED, at=now, output="/o/01-x.mp4")
    assert review_state(item) == "approved"
    item.output_path = "/o/01-x-new.mp4"  # a new output: to look at again
    assert review_state(item) == "to_review"
    assert review_state(_item(status=ItemStatus.FAILED)) is None
    counts = review_counts([item, _item(status=ItemStatus.PENDING)])
    assert counts.words() == "0 approved · 0 rejected · 1 to review"
    assert review_counts([]).words() == ""


def test_an_output_made_again_under_the_same_name_is_to_review_again(run_cli, finished):
    """`retry --item` renders again into the same name: the verdict given on the old output
    does not carry over to the new one (nor to the list's counts, outputs or export)."""
    assert run_cli("review", finished, "1", "reject", "--note", "p1").code == 0
    assert run_cli("review", finished, "2", "approve").code == 0
    assert run_cli("retry", finished, "--item", "1", "--item", "2").code == 0
    items = _show(run_cli, finished)["items"]
    assert [item["review_state"] for item in items[:2]] == ["to_review", "to_review"]
    assert run_cli("outputs", finished, "--approved").out.strip() == "no approved outputs yet"
    rejected = run_cli("retry", finished, "--rejected")
    assert rejected.code == 2 and "no rejected output" in rejected.err
    shown = run_cli("show", finished).out
    assert "0 approved · 0 rejected · 4 to review" in shown


def test_a_stored_verdict_older_than_its_output_is_to_review():
    given = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    stored = {
        "status": "SUCCEEDED",
        "output_path": "/o/01-x.txt",
        "finished_at": "2026-12-05T12:00:05Z",
        "review": {"verdict": "approved", "at": given.isoformat(), "output": "/o/01-x.txt"},
    }
    assert stored_review_state(stored) == "to_review"
    stored["finished_at"] = "2026-12-05T11:59:00Z"
    assert stored_review_state(stored) == "approved"
    item = _item(
        status=ItemStatus.SUCCEEDED,
        output_path="/o/01-x.txt",
        finished_at=given + timedelta(seconds=5),
        review=Review(verdict=Verdict.APPROVED, at=given, output="/o/01-x.txt"),
    )
    assert review_state(item) == "to_review"


def test_export_never_writes_through_a_link_nor_into_no_folder(run_cli, finished, tmp_path):
    """A link at a name export would write, even a link to nothing, is a name taken; an empty
    folder name is refused (it meant the current folder); one verdict per command."""
    assert run_cli("review", finished, "1", "approve").code == 0
    folder = tmp_path / "handed"
    folder.mkdir()
    (folder / "manifest.jsonl").symlink_to(tmp_path / "victim")
    refused = run_cli("export", finished, str(folder))
    assert refused.code == 2 and "manifest.jsonl exists already" in refused.err
    assert not (tmp_path / "victim").exists() and len(list(folder.iterdir())) == 1
    empty = run_cli("export", finished, "")
    assert empty.code == 2 and "give the folder to export into" in empty.err
    two = run_cli("review", finished, "2", "approve", "3", "reject")
    assert two.code == 2 and "one verdict per command" in two.err
    assert [item["review_state"] for item in _show(run_cli, finished)["items"]] == [
        "approved", "to_review", "to_review", "to_review",
    ]  # fmt: skip


def test_kept_names_never_meet_a_variants_name():
    assert kept_name("/o/03-topic.mp4", 1, variant=None) == "/o/03-topic.v1.mp4"
    assert kept_name("/o/03-topic.mp4", 2, variant=None) == "/o/03-topic.v2.mp4"
    # A variant's output is `03-topic.v2.mp4`: its takes are named apart from its siblings.
    assert kept_name("/o/03-topic.v2.mp4", 1, variant=2) == "/o/03-topic.v2.take1.mp4"


def test_a_later_take_has_a_seed_of_its_own_and_the_first_keeps_its():
    assert take_seed(1234, 1, SEED_RANGE) == 1234
    seeds = {take_seed(1234, take, SEED_RANGE) for take in range(1, 50)}
    assert len(seeds) == 49 and all(0 <= seed < SEED_RANGE for seed in seeds)


def test_a_note_is_checked():
    assert check_note("  fine  ") == "fine"
    assert check_note("") is None and check_note(None) is None
    with pytest.raises(ValidationError):
        check_note("x" * 501)


def test_an_export_never_writes_over_a_file_that_appears_meanwhile(
    run_cli, finished, tmp_path, monkeypatch
):
    """Between the check for taken names and the links, a file of the same name appears (a
    second client): the export stops, that file is untouched, what was placed goes again."""
    assert run_cli("review", finished, "1", "2", "approve").code == 0
    target = tmp_path / "out-race"
    real_link = os.link

    def racing(source, dest, *args, **kwargs):
        if str(dest).endswith("02-two.txt"):
            Path(dest).write_text("someone else's")
        return real_link(source, dest, *args, **kwargs)

    monkeypatch.setattr(os, "link", racing)
    raced = run_cli("export", finished, str(target))
    assert raced.code != 0 and raced.err.count("\n") == 1
    assert (target / "02-two.txt").read_text() == "someone else's"
    assert not (target / "01-one.txt").exists() and not (target / "manifest.jsonl").exists()
