"""The CLI's refusals: exit 2, one line on stderr, and the database exactly as it was.

Plus the read verbs' `--json`, `add --file`, and the empty-database hint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .conftest import CliResult, file_bytes

pytestmark = pytest.mark.usefixtures("fake_generator")

FAKE = {"generator": "fake", "output_ext": "txt"}
RunCli = Callable[..., CliResult]


def svc(db_path: Path) -> BatchService:
    return BatchService(Repository(db_path))


def assert_refused(result: CliResult) -> None:
    assert result.code == 2, result
    assert result.err.startswith("batchtui: error:"), result.err
    assert result.err.endswith("\n")
    assert result.err.count("\n") == 1, result.err
    assert result.out == ""


# --------------------------------------------------------------- batch set-ups


def draft(db_path: Path, items: list[str] | None = None, **fields: object) -> str:
    service = svc(db_path)
    batch = service.create("Space Facts", **{**FAKE, **fields})
    if items:
        service.add_items(batch.id, items)
    return batch.id


def locked(db_path: Path) -> str:
    batch_id = draft(db_path, ["one", "two"])
    svc(db_path).lock(batch_id)
    return batch_id


def processing(db_path: Path) -> str:
    batch_id = locked(db_path)
    svc(db_path).begin(batch_id)
    return batch_id


def ambiguous(db_path: Path) -> str:
    ids = iter(["abc123000001", "abc456000002"])
    service = BatchService(Repository(db_path), id_factory=lambda: next(ids))
    service.create("First", **FAKE)
    service.create("Second", **FAKE)
    return "abc"


FORBIDDEN: dict[str, tuple[Callable[[Path], str], Callable[[str], list[str]], str]] = {
    "start a draft": (lambda db: draft(db, ["a"]), lambda i: ["start", i], "is DRAFT"),
    "start a draft --json": (
        lambda db: draft(db, ["a"]),
        lambda i: ["start", i, "--json"],
        "is DRAFT",
    ),
    "add to a locked batch": (locked, lambda i: ["add", i, "more"], "is LOCKED"),
    "add a file to a locked batch": (locked, lambda i: ["add", i, "--file", "-"], "is LOCKED"),
    "delete a processing batch": (processing, lambda i: ["delete", i], "is PROCESSING"),
    "delete a processing batch and outputs": (
        processing,
        lambda i: ["delete", i, "--outputs"],
        "is PROCESSING",
    ),
    "lock an empty batch": (lambda db: draft(db), lambda i: ["lock", i], "has no items"),
    "lock a locked batch": (locked, lambda i: ["lock", i], "is LOCKED"),
    "lock too long for shorts": (
        lambda db: draft(db, ["a"], duration=61),
        lambda i: ["lock", i],
        "limit of 60s",
    ),
    "add more than max": (
        lambda db: draft(db, ["a"], max_items=2),
        lambda i: ["add", i, "b", "c"],
        "at most 2 items",
    ),
    "add more than max from a file": (
        lambda db: draft(db, [], max_items=1),
        lambda i: ["add", i, "--file", "-"],
        "at most 1 items",
    ),
    "unlock a draft": (lambda db: draft(db), lambda i: ["unlock", i], "is DRAFT"),
    "retry a locked batch": (locked, lambda i: ["retry", i], "is LOCKED"),
    "retry a draft": (lambda db: draft(db, ["a"]), lambda i: ["retry", i], "is DRAFT"),
    "cancel a draft": (lambda db: draft(db), lambda i: ["cancel", i], "is DRAFT"),
    "cancel a locked batch": (locked, lambda i: ["cancel", i], "is LOCKED"),
    "edit a locked batch": (locked, lambda i: ["edit", i, "1", "new text"], "is LOCKED"),
    "remove from a locked batch": (locked, lambda i: ["remove", i, "1"], "is LOCKED"),
    "move in a locked batch": (locked, lambda i: ["move", i, "1", "1"], "is LOCKED"),
    "rename a locked batch": (locked, lambda i: ["rename", i, "New"], "is LOCKED"),
    "config change on a locked batch": (
        locked,
        lambda i: ["config", i, "--duration", "3"],
        "is LOCKED",
    ),
    "config change on a processing batch": (
        processing,
        lambda i: ["config", i, "--fps", "24"],
        "is PROCESSING",
    ),
    "config invalid value": (
        lambda db: draft(db),
        lambda i: ["config", i, "--background", "nocolour"],
        "not a colour",
    ),
    "config max below count": (
        lambda db: draft(db, ["a", "b"]),
        lambda i: ["config", i, "--max-items", "1"],
        "below the 2 items",
    ),
    "concurrency 0": (lambda db: draft(db), lambda i: ["concurrency", i, "0"], "between 1 and 64"),
    "concurrency 65": (locked, lambda i: ["concurrency", i, "65"], "between 1 and 64"),
    "id matching nothing: show": (lambda db: draft(db), lambda i: ["show", "zzzz"], "zzzz"),
    "id matching nothing: lock": (lambda db: draft(db), lambda i: ["lock", "nomatch"], "nomatch"),
    "id matching nothing: delete": (
        lambda db: draft(db),
        lambda i: ["delete", "ffff0000ffff"],
        "ffff0000ffff",
    ),
    "item matching nothing": (
        lambda db: draft(db, ["a"]),
        lambda i: ["edit", i, "7", "x"],
        "no item '7'",
    ),
    "ambiguous prefix: show": (ambiguous, lambda ref: ["show", ref], "matches 2 batches"),
    "ambiguous prefix: add": (ambiguous, lambda ref: ["add", ref, "x"], "matches 2 batches"),
    "ambiguous prefix: delete": (ambiguous, lambda ref: ["delete", ref], "matches 2 batches"),
    "create concurrency 0": (
        lambda db: draft(db),
        lambda i: ["create", "X", "--generator", "fake", "--concurrency", "0"],
        "concurrency",
    ),
    "create concurrency -3": (
        lambda db: draft(db),
        lambda i: ["create", "X", "--concurrency", "-3"],
        "concurrency",
    ),
    "create duration -1": (
        lambda db: draft(db),
        lambda i: ["create", "X", "--duration", "-1"],
        "duration",
    ),
    "create duration 0": (
        lambda db: draft(db),
        lambda i: ["create", "X", "--duration", "0"],
        "duration",
    ),
    "create max-items 0": (
        lambda db: draft(db),
        lambda i: ["create", "X", "--max-items", "0"],
        "max_items",
    ),
    "create unknown generator": (
        lambda db: draft(db),
        lambda i: ["create", "X", "--generator", "nope"],
        "unknown generator 'nope'",
    ),
    "create blank name": (lambda db: draft(db), lambda i: ["create", "   "], "blank"),
    "create bad ext": (lambda db: draft(db), lambda i: ["create", "X", "--ext", ".mp4"], "ext"),
    "add blank content": (lambda db: draft(db, ["a"]), lambda i: ["add", i, ""], "blank"),
    "add whitespace content": (
        lambda db: draft(db, ["a"]),
        lambda i: ["add", i, "ok", "   \t"],
        "blank",
    ),
    "add nothing": (lambda db: draft(db), lambda i: ["add", i], "nothing to add"),
    "add from a missing file": (
        lambda db: draft(db),
        lambda i: ["add", i, "--file", "no-such-file.txt"],
        "no such file",
    ),
    "edit to blank": (lambda db: draft(db, ["a"]), lambda i: ["edit", i, "1", " "], "blank"),
}

# Items fed on stdin to the cases above that read `--file -`.
STDIN = "x\ny\n"


@pytest.mark.parametrize("case", list(FORBIDDEN))
def test_forbidden_operation_is_refused_and_changes_nothing(
    case: str, db_path: Path, run_cli: RunCli
) -> None:
    setup, argv, reason = FORBIDDEN[case]
    ref = setup(db_path)
    before = file_bytes(db_path)
    assert before is not None
    result = run_cli(*argv(ref), stdin=STDIN)
    assert_refused(result)
    assert reason in result.err
    assert file_bytes(db_path) == before


def test_delete_of_processing_batch_leaves_it_processing(db_path: Path, run_cli: RunCli) -> None:
    batch_id = processing(db_path)
    assert_refused(run_cli("delete", batch_id))
    assert svc(db_path).get(batch_id).status is BatchStatus.PROCESSING


def test_refusal_names_batch_state_and_way_forward(db_path: Path, run_cli: RunCli) -> None:
    batch_id = draft(db_path, ["a"])
    result = run_cli("start", batch_id)
    assert_refused(result)
    assert result.err == (
        "batchtui: error: batch 'Space Facts' is DRAFT; starting needs LOCKED — "
        "add items and lock it first\n"
    )


def test_unknown_platform_is_a_usage_error(db_path: Path, run_cli: RunCli) -> None:
    draft(db_path)
    before = file_bytes(db_path)
    result = run_cli("create", "X", "--platform", "mars")
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.endswith("\n")
    assert "error:" in result.err and "mars" in result.err
    assert file_bytes(db_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "X", "--platform", "mars"],
        ["create", "X", "--concurrency", "two"],
        ["concurrency", "abc", "x"],
    ],
)
def test_usage_errors_use_the_common_prefix(
    db_path: Path, run_cli: RunCli, argv: list[str]
) -> None:
    draft(db_path)
    before = file_bytes(db_path)
    assert_refused(run_cli(*argv))
    assert file_bytes(db_path) == before


def test_refused_create_on_a_new_database_creates_no_file(db_path: Path, run_cli: RunCli) -> None:
    for argv in (
        ["create", "X", "--concurrency", "0"],
        ["create", "X", "--duration", "-1"],
        ["create", "X", "--generator", "nope"],
        ["create", ""],
    ):
        assert_refused(run_cli(*argv))
    assert file_bytes(db_path) is None


def test_corrupt_database_is_refused_untouched(db_path: Path, run_cli: RunCli) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b'{"_default": {"1": {"x": 1}}}')
    before = file_bytes(db_path)
    for argv in (["list"], ["create", "X"], ["show", "x"]):
        result = run_cli(*argv)
        assert_refused(result)
        assert str(db_path) in result.err
    assert file_bytes(db_path) == before


@pytest.mark.parametrize("argv", [["show", "no\nsuch"], ["edit", "{id}", "no\nitem", "x"]])
def test_errors_stay_one_line_for_any_ref(db_path: Path, run_cli: RunCli, argv: list[str]) -> None:
    batch_id = draft(db_path, ["a"])
    before = file_bytes(db_path)
    result = run_cli(*[arg.replace("{id}", batch_id) for arg in argv])
    assert_refused(result)
    assert file_bytes(db_path) == before


# ------------------------------------------------------------------------ --json


@pytest.fixture
def partial_batch(db_path: Path, run_cli: RunCli) -> str:
    """A batch run through the CLI that ended PARTIAL (one item failed)."""
    created = run_cli("create", "Space Facts", "--generator", "fake", "--ext", "txt", "--json")
    assert created.code == 0, created.err
    batch_id = json.loads(created.out)["id"]
    added = run_cli("add", batch_id, "Mars is red", "FAIL on purpose", "Venus is hot", "--json")
    assert added.code == 0, added.err
    assert [it["content"] for it in json.loads(added.out)] == [
        "Mars is red",
        "FAIL on purpose",
        "Venus is hot",
    ]
    assert run_cli("lock", batch_id).code == 0
    started = run_cli("start", batch_id, "--json")
    assert started.code == 1, started.err  # a run that ended PARTIAL
    assert json.loads(started.out)["status"] == "PARTIAL"
    return batch_id


def test_json_of_read_verbs(partial_batch: str, run_cli: RunCli) -> None:
    listed = run_cli("list", "--json")
    assert listed.code == 0
    (entry,) = json.loads(listed.out)
    assert entry["id"] == partial_batch
    assert entry["progress"]["succeeded"] == 2

    shown = run_cli("show", partial_batch, "--json")
    assert shown.code == 0
    batch = json.loads(shown.out)
    assert batch["status"] == "PARTIAL"
    assert [it["status"] for it in batch["items"]] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert batch["config_hash"]

    progress = json.loads(run_cli("progress", partial_batch, "--json").out)
    assert progress["total"] == 3
    assert progress["succeeded"] == 2
    assert progress["failed"] == 1
    assert progress["percent"] == 66.7  # successful work only
    assert progress["counts"]["FAILED"] == 1

    failed = json.loads(run_cli("failed", partial_batch, "--json").out)
    assert [it["content"] for it in failed] == ["FAIL on purpose"]
    assert failed[0]["status"] == ItemStatus.FAILED.value
    assert "refused" in failed[0]["error"]

    outputs = json.loads(run_cli("outputs", partial_batch, "--json").out)
    assert [o["position"] for o in outputs] == [1, 3]
    for entry in outputs:
        assert Path(entry["output_path"]).read_text() == entry["content"]


def test_json_of_read_verbs_prints_nothing_else(partial_batch: str, run_cli: RunCli) -> None:
    for verb in ("show", "progress", "failed", "outputs"):
        result = run_cli(verb, partial_batch, "--json")
        assert result.code == 0 and result.err == ""
        json.loads(result.out)  # the whole of stdout is one document


def test_json_of_an_empty_database(run_cli: RunCli, db_path: Path) -> None:
    result = run_cli("list", "--json")
    assert result.code == 0
    assert json.loads(result.out) == []
    assert file_bytes(db_path) is None


def test_json_keeps_content_exact(db_path: Path, run_cli: RunCli) -> None:
    batch_id = draft(db_path)
    tricky = ["[bold]x[/bold]", "$(id) `uname`", "\x1b[31mred\x1b[0m", "שלום 🚀", "a\nb"]
    assert run_cli("add", batch_id, *tricky).code == 0
    shown = json.loads(run_cli("show", batch_id, "--json").out)
    assert [it["content"] for it in shown["items"]] == tricky


# ------------------------------------------------------------------ add --file


def test_add_file_skips_blank_lines(db_path: Path, run_cli: RunCli, tmp_path: Path) -> None:
    batch_id = draft(db_path)
    source = tmp_path / "topics.txt"
    source.write_text("first\n\n   \nsecond topic\n\t\n  indented stays  \r\nlast", "utf-8")
    result = run_cli("add", batch_id, "--file", str(source))
    assert result.code == 0, result.err
    assert "added 4 items" in result.out
    contents = [it.content for it in svc(db_path).get(batch_id).items]
    assert contents == ["first", "second topic", "  indented stays  ", "last"]


def test_add_file_from_stdin(db_path: Path, run_cli: RunCli) -> None:
    batch_id = draft(db_path)
    result = run_cli("add", batch_id, "--file", "-", stdin="from stdin\n\nsecond 🚀\n")
    assert result.code == 0, result.err
    contents = [it.content for it in svc(db_path).get(batch_id).items]
    assert contents == ["from stdin", "second 🚀"]


def test_add_arguments_and_file_together(db_path: Path, run_cli: RunCli) -> None:
    batch_id = draft(db_path)
    result = run_cli("add", batch_id, "arg one", "-f", "-", stdin="line one\n")
    assert result.code == 0, result.err
    contents = [it.content for it in svc(db_path).get(batch_id).items]
    assert contents == ["arg one", "line one"]


def test_add_file_of_only_blank_lines_is_refused(db_path: Path, run_cli: RunCli) -> None:
    batch_id = draft(db_path)
    before = file_bytes(db_path)
    result = run_cli("add", batch_id, "--file", "-", stdin="\n   \n\t\n")
    assert_refused(result)
    assert "nothing to add" in result.err
    assert file_bytes(db_path) == before


def test_add_file_that_is_not_utf8_is_refused(
    db_path: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    batch_id = draft(db_path)
    source = tmp_path / "latin1.txt"
    source.write_bytes(b"caf\xe9\n")
    before = file_bytes(db_path)
    result = run_cli("add", batch_id, "--file", str(source))
    assert_refused(result)
    assert "not UTF-8" in result.err
    assert file_bytes(db_path) == before


# ------------------------------------------------------------------------ list


def test_list_on_an_empty_database_prints_a_hint(run_cli: RunCli, db_path: Path) -> None:
    result = run_cli("list")
    assert result.code == 0
    assert "no batches yet" in result.out
    assert "batchtui create" in result.out
    assert result.err == ""
    assert file_bytes(db_path) is None  # reading never creates the database


def test_list_shows_batches(db_path: Path, run_cli: RunCli) -> None:
    batch_id = draft(db_path, ["a"])
    result = run_cli("list")
    assert result.code == 0
    assert batch_id in result.out
    assert "Space Facts" in result.out
    assert "DRAFT" in result.out
    assert "no batches yet" not in result.out


# ------------------------------------------------- user text reaches the terminal inert


def test_show_prints_item_content_inertly(db_path: Path, run_cli: RunCli) -> None:
    batch_id = draft(db_path, ["[bold]x[/bold]", "\x1b[31mred\x1b]0;title\x07"])
    result = run_cli("show", batch_id)
    assert result.code == 0
    assert "[bold]x[/bold]" in result.out
    assert "\x1b" not in result.out and "\x07" not in result.out


@pytest.mark.parametrize("name", ["[/bold] Facts", "[bold]x[/bold] Facts"])
def test_create_with_markup_in_the_name(run_cli: RunCli, db_path: Path, name: str) -> None:
    result = run_cli("create", name)
    assert result.code == 0
    assert name in result.out


def test_create_with_escapes_in_the_name(run_cli: RunCli, db_path: Path) -> None:
    result = run_cli("create", "\x1b[31mRed\x1b]0;pwned\x07 Facts")
    assert result.code == 0
    assert "\x1b" not in result.out


# ----------------------------------------------------- mistyped verbs and flags


def run_main(*argv: str) -> CliResult:
    """`batchtui ARGV…` in-process, exactly as typed (no `--db` added in front)."""
    from contextlib import redirect_stderr, redirect_stdout
    from io import StringIO

    from batchtui.cli.main import main as cli_main

    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli_main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


def test_a_mistyped_verb_gets_a_did_you_mean(db_path: Path, run_cli: RunCli) -> None:
    result = run_cli("strat", "Space Facts")
    assert_refused(result)
    assert "did you mean start?" in result.err
    assert "_runner" not in result.err  # the internal verb is never offered
    assert not db_path.exists()


def test_an_unknown_verb_lists_only_the_public_ones(run_cli: RunCli) -> None:
    result = run_cli("xyzzy")
    assert_refused(result)
    assert "start" in result.err and "did you mean" not in result.err
    assert "_runner" not in result.err


def test_the_internal_runner_verb_is_not_in_help_or_usage() -> None:
    shown = run_main("--help")
    assert shown.code == 0 and "_runner" not in shown.out
    assert "_runner" not in run_main("list", "--bogus").err
    assert "_runner" not in run_main("_runne").err  # not even as a near miss


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["list", "--jsn"], "--json"),
        (["--jsn", "list"], "--json"),
        (["create", "X", "--generatr", "fake"], "--generator"),
        (["template", "save", "x", "y", "--forec"], "--force"),
        (["list", "--dbb", "x"], "--db"),
    ],
)
def test_a_mistyped_flag_gets_a_did_you_mean(
    db_path: Path, run_cli: RunCli, argv: list[str], meant: str
) -> None:
    result = run_cli(*argv)
    assert_refused(result)
    assert "unrecognized arguments: " in result.err
    assert f"did you mean {meant}?" in result.err, result.err
    assert not db_path.exists()


def test_a_mistyped_choice_gets_a_did_you_mean(db_path: Path, run_cli: RunCli) -> None:
    result = run_cli("create", "X", "--platform", "tiktk")
    assert_refused(result)
    assert "did you mean tiktok?" in result.err
    assert not db_path.exists()


def test_db_is_accepted_after_the_verb_as_before_it(tmp_path: Path) -> None:
    db = str(tmp_path / "after.json")
    made = run_main("create", "Space Facts", "--db", db, "--json")
    assert made.code == 0, made
    batch_id = json.loads(made.out)["id"]
    before = run_main("--db", db, "list", "--json")
    after = run_main("list", "--json", "--db", db)
    assert before.code == after.code == 0
    assert before.out == after.out and json.loads(after.out)[0]["id"] == batch_id
    assert run_main("show", batch_id, f"--db={db}", "--json").code == 0


def test_db_after_the_verb_wins_over_the_one_before(tmp_path: Path) -> None:
    first, second = str(tmp_path / "first.json"), str(tmp_path / "second.json")
    assert run_main("--db", first, "create", "A", "--db", second).code == 0
    assert not Path(first).exists() and Path(second).exists()


def test_a_global_option_in_a_verbs_help() -> None:
    shown = run_main("list", "--help")
    assert shown.code == 0 and "--db" in shown.out


def test_a_line_separator_in_a_refused_value_keeps_the_error_on_one_line(run_cli) -> None:
    # U+2028 breaks no terminal line but every text tool's (splitlines): the fuzz test found
    # `--backoff $'\u2028\u2028'` giving a three-line error.
    for value in ("\u2028\u2028", "a\u2029b"):
        refused = run_cli("create", "x", "--backoff", value)
        assert refused.code == 2
        assert len(refused.err.strip().splitlines()) == 1, refused.err
        assert "<U+2028>" in refused.err or "<U+2029>" in refused.err
