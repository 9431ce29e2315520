"""The bad-input catalogue: every case ends in one clear line (exit 2) and changes nothing.

Organised as the issue lists them: content, config, lifecycle, database, generator failures,
files. Forbidden lifecycle moves are also covered one by one in test_cli_errors.py.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import unicodedata
from pathlib import Path

import anyio
import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.engine.layout import batch_folder
from batchtui.service import BatchService
from batchtui.store import Repository

from .conftest import file_bytes


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (to prove outputs were not touched)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def refused(run_cli, db_path: Path, out_dir: Path, argv: list[str], fragment: str) -> None:
    """Run a CLI call that must be refused: exit 2, one line naming the problem, no change."""
    db_before, out_before = file_bytes(db_path), tree(out_dir)
    result = run_cli(*argv)
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchtui: error: "), result.err
    assert fragment in lines[0], lines[0]
    assert result.out == ""
    assert file_bytes(db_path) == db_before, "the database changed"
    assert tree(out_dir) == out_before, "outputs changed"


def draft(db_path: Path, **config) -> str:
    service = BatchService(Repository(db_path))
    config.setdefault("generator", "fake")
    return service.create("Catalogue", **config).id


# ------------------------------------------------------------------------------ content


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "item content is blank"),
        ("  \t \n ", "item content is blank"),
        ("a\x00b", "contains a NUL character"),
        ("x" * 100_001, "item content is too long (100,001 characters"),
        ("😀" * 40_000, "item content is too long"),  # 160 KB: more than one argv string holds
    ],
    ids=["empty", "whitespace", "nul", "100001-chars", "too-many-bytes"],
)
def test_unacceptable_content(run_cli, db_path, out_dir, fake_generator, content, fragment):
    ref = draft(db_path)
    refused(run_cli, db_path, out_dir, ["add", ref, content], fragment)


HOSTILE = {
    "100000-chars": "y" * 100_000,
    "controls": "bell\x07 back\x08 tab\t cr\r del\x7f",
    "ansi": "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J",
    "markup": "[bold]x[/bold] [/] [link=http://e.vil]y[/link] [red",
    "rtl-emoji": "שלום עולם 👋🏽 مرحبا ‮txet‬",
    "path": "../../etc/passwd",
    "shell": "x; touch PWNED | cat `id` $(touch PWNED) 'q\" \\ \nnext line",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_content_is_stored_exactly_shown_inertly_and_passed_literally(
    run_cli, db_path, out_dir, make_script, tmp_path, name
):
    content = HOSTILE[name]
    script = make_script("echo.py", "import sys\nopen(sys.argv[2], 'w').write(sys.argv[1])\n")
    created = run_cli(
        "create", "Hostile", "--generator", "command", "--ext", "txt",
        "--command", f"{script} {{content}} {{output}}", "--json",
    )  # fmt: skip
    ref = json.loads(created.out)["id"]
    assert run_cli("add", ref, content).code == 0
    stored = json.loads(run_cli("show", ref, "--json").out)["items"][0]["content"]
    assert stored == content, "stored exactly"

    shown = run_cli("show", ref).out + run_cli("list").out
    assert "\x1b" not in shown and "\x07" not in shown, (
        "no raw control character reaches a terminal"
    )

    assert run_cli("lock", ref).code == 0
    assert run_cli("start", ref).code == 0
    item = json.loads(run_cli("show", ref, "--json").out)["items"][0]
    output = Path(item["output_path"])
    assert output.read_bytes().decode() == content, "passed as one literal argument"
    assert output.is_relative_to(out_dir), "never outside the output folder"
    assert "/" not in output.name and not output.name.startswith(".")
    # Words of any script are kept (issue 26); controls and bidi overrides never are.
    assert all(unicodedata.category(ch)[0] in "LNM" or ch in "-." for ch in output.name)
    assert not list(tmp_path.rglob("PWNED")), "no shell ever saw the content"


# ------------------------------------------------------------------------------- config

CONFIG_CASES = [
    (["create", "X", "--platform", "mars"], "invalid choice: 'mars'"),
    (["create", "X", "--generator", "nope"], "unknown generator 'nope'"),
    (["create", "X", "--duration", "0"], "duration: Input should be greater than 0"),
    (["create", "X", "--duration", "-5"], "duration: Input should be greater than 0"),
    (
        ["create", "X", "--concurrency", "0"],
        "concurrency: Input should be greater than or equal to 1",
    ),
    (
        ["create", "X", "--concurrency", "-2"],
        "concurrency: Input should be greater than or equal to 1",
    ),
    (
        ["create", "X", "--concurrency", "100000"],
        "concurrency: Input should be less than or equal to 64",
    ),
    (["create", "X", "--max-items", "0"], "max_items: Input should be greater than or equal to 1"),
    (["create", "X", "--background", "not-a-colour"], "'not-a-colour' is not a colour"),
    (["create", "X", "--text-color", "#12345"], "'#12345' is not a colour"),
    (["create", "X", "--fps", "lots"], "'lots' is not a whole number"),
]


@pytest.mark.parametrize(
    ("argv", "fragment"), CONFIG_CASES, ids=[" ".join(c[0][2:]) for c in CONFIG_CASES]
)
def test_bad_config_at_create(run_cli, db_path, out_dir, argv, fragment):
    refused(run_cli, db_path, out_dir, argv, fragment)


def _lock_case(tmp_path: Path) -> dict[str, tuple[dict, str]]:
    not_executable = tmp_path / "render.sh"
    not_executable.write_text("#!/bin/sh\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return {
        "duration above limit": (
            {"duration": 61.0},
            "duration 61s exceeds the YouTube Shorts limit of 60s",
        ),
        "unbalanced quotes": (
            {"generator": "command", "command": "echo 'x {output}"},
            "unbalanced quotes",
        ),
        "unknown placeholder": (
            {"generator": "command", "command": "echo {1nope} {output}"},
            "unknown placeholder {1nope}",
        ),
        "no output": (
            {"generator": "command", "command": "echo {content}"},
            "must write to {output}",
        ),
        "missing executable": (
            {"generator": "command", "command": "no-such-tool-xyz {output}"},
            "'no-such-tool-xyz' not found on PATH",
        ),
        "not executable": (
            {"generator": "command", "command": f"{not_executable} {{output}}"},
            "is not executable (chmod +x?)",
        ),
        "output is a file": ({"output_dir": str(a_file)}, "is a file, not a folder"),
        "output cannot be made": ({"output_dir": "/proc/batchtui-nope"}, "cannot be created"),
        "output not writable": ({"output_dir": "/sys/kernel"}, "is not writable"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "duration above limit",
        "unbalanced quotes",
        "unknown placeholder",
        "no output",
        "missing executable",
        "not executable",
        "output is a file",
        "output cannot be made",
        "output not writable",
    ],
)
def test_bad_config_at_lock(run_cli, db_path, out_dir, tmp_path, fake_generator, case):
    fields, fragment = _lock_case(tmp_path)[case]
    fields.setdefault("generator", "fake")
    ref = draft(db_path, **fields)
    assert run_cli("add", ref, "one").code == 0
    refused(run_cli, db_path, out_dir, ["lock", ref], fragment)


# ---------------------------------------------------------------------------- lifecycle


def test_an_id_that_matches_nothing(run_cli, db_path, out_dir, fake_generator):
    draft(db_path)
    refused(run_cli, db_path, out_dir, ["show", "zz-nothing"], "no batch matches 'zz-nothing'")


def test_an_id_that_matches_several(run_cli, db_path, out_dir):
    service = BatchService(Repository(db_path), id_factory=iter(["abc111", "abc222"]).__next__)
    service.create("One")
    service.create("Two")
    refused(run_cli, db_path, out_dir, ["lock", "abc"], "'abc' matches 2 batches")


def test_deleting_a_batch_keeps_its_outputs_unless_asked(run_cli, db_path, fake_generator):
    service = BatchService(Repository(db_path))
    first = draft(db_path)
    service.add_items(first, ["kept"])
    service.lock(first)
    output = Path(anyio.run(service.start, first).items[0].output_path)
    assert run_cli("delete", first).code == 0
    assert output.exists(), "outputs are kept by default"

    second = draft(db_path)
    service.add_items(second, ["gone"])
    service.lock(second)
    other = Path(anyio.run(service.start, second).items[0].output_path)
    assert run_cli("delete", second, "--outputs").code == 0
    assert not other.exists() and output.exists(), "--outputs removes only that batch's folder"


# ----------------------------------------------------------------------------- database


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (
            b'{"_meta": {"1": {"app": "batchtui", "schema": 1}}, "batches": {"1": {"id"',
            "is not valid JSON",
        ),
        (b"name,status\nSpace,DRAFT\n", "is not valid JSON"),
        (b'{"users": {"1": {"name": "ann"}}}', "was not written by batchtui"),
        (b'{"_meta": {"1": {"app": "batchtui", "schema": 99}}}', "has schema 99, newer than"),
    ],
    ids=["empty", "truncated", "not-json", "other-program", "newer-schema"],
)
def test_unreadable_database_is_refused_and_kept(run_cli, db_path, out_dir, content, fragment):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(content)
    refused(run_cli, db_path, out_dir, ["list"], fragment)
    refused(run_cli, db_path, out_dir, ["create", "X"], str(db_path))


def test_read_only_database_is_read_but_never_written(run_cli, db_path, out_dir):
    assert run_cli("create", "Before").code == 0
    db_path.chmod(0o400)
    assert "Before" in run_cli("list").out
    refused(run_cli, db_path, out_dir, ["create", "After"], "is read-only (chmod u+w")
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o400


def test_missing_database_folder_is_created_private(tmp_path):
    from batchtui.cli.main import main

    db = tmp_path / "new" / "deeper" / "batchtui.json"
    assert main(["--db", str(db), "create", "Fresh"]) == 0
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


# ------------------------------------------------------------------- generator failures


def command_batch(service: BatchService, script: Path, contents: list[str], **config) -> str:
    batch = service.create(
        "Gen", generator="command", command=f"{script} {{output}}", output_ext="txt", **config
    )
    service.add_items(batch.id, contents)
    service.lock(batch.id)
    return batch.id


def test_executable_gone_after_lock_is_refused_at_start(run_cli, db_path, out_dir, make_script):
    script = make_script("vanish.py", "")
    ref = command_batch(BatchService(Repository(db_path)), script, ["x"])
    script.unlink()
    refused(run_cli, db_path, out_dir, ["start", ref], f"executable not found: {script}")


def test_fifty_megabytes_of_stderr_keep_the_log_capped_and_memory_flat(service, make_script):
    script = make_script(
        "flood.py",
        """
        import sys
        block = ("noise " * 170 + "\\n") * 100  # ~100 KB
        for _ in range(500):
            sys.stderr.write(block)
        sys.stderr.write("out of memory in the renderer\\n")
        sys.exit(1)
        """,
    )
    ref = command_batch(service, script, ["flood"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    batch = anyio.run(service.start, ref)
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    item = batch.items[0]
    assert item.status is ItemStatus.FAILED
    assert item.error == "exit code 1: out of memory in the renderer"
    assert Path(item.log_path).stat().st_size < 5 * 1024 * 1024
    assert grew < 30 * 1024, f"peak memory grew by {grew} KiB while 50 MB streamed past"


def run_deleting_the_outputs(service, make_script, tmp_path, contents: list[str], during: int):
    """Run a one-at-a-time command batch of `contents`; while item `during` (1-based) runs,
    someone deletes the batch's output folder. Returns the batch as stored afterwards."""
    import shutil

    started = tmp_path / "started"
    script = make_script(
        "wait.py",
        f"""
        import os, sys, time
        out = sys.argv[1]
        if "{during:02d}-" in os.path.basename(out):
            open({str(started)!r}, "w").close()
            while os.path.exists({str(started)!r}):
                time.sleep(0.01)
        open(out, "w").write("ok")
        """,
    )
    ref = command_batch(service, script, contents, concurrency=1)

    async def scenario():
        async with anyio.create_task_group() as tg:
            tg.start_soon(service.start, ref)
            while not started.exists():  # the items before it are done and recorded
                await anyio.sleep(0.01)
            batch = service.get(ref)
            shutil.rmtree(batch_folder(batch.config, batch.id, batch.name))
            started.unlink()

    anyio.run(scenario)
    return service.get(ref)


def test_output_folder_deleted_mid_run_fails_only_that_item(service, make_script, tmp_path):
    batch = run_deleting_the_outputs(service, make_script, tmp_path, ["first", "second"], 1)
    assert [i.status for i in batch.items] == [ItemStatus.FAILED, ItemStatus.SUCCEEDED]
    assert "was deleted while the item ran" in batch.items[0].error
    assert batch.status is BatchStatus.PARTIAL


def test_outputs_after_the_folder_was_deleted_are_recorded_in_a_new_manifest(
    service, make_script, tmp_path
):
    contents = ["first", "second", "third"]
    batch = run_deleting_the_outputs(service, make_script, tmp_path, contents, 2)
    assert [i.status for i in batch.items] == [
        ItemStatus.SUCCEEDED,  # its file went with the folder
        ItemStatus.FAILED,
        ItemStatus.SUCCEEDED,
    ]
    folder = Path(batch.items[2].output_path).parent
    lines = [json.loads(x) for x in (folder / "manifest.jsonl").read_text().splitlines()]
    assert [x["kind"] for x in lines] == ["run", "output"], "a new manifest, with its run line"
    assert lines[1]["item_id"] == batch.items[2].id


# -------------------------------------------------------------------------------- files


def test_private_files_and_folders(run_cli, db_path, make_script, tmp_path):
    script = make_script("ok.py", "import sys\nopen(sys.argv[1], 'w').write('ok')\n")
    ref = command_batch(BatchService(Repository(db_path)), script, ["x"])
    assert run_cli("start", ref, "--detach").code == 0
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    runs = db_path.parent / "runs"
    assert stat.S_IMODE(runs.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(log.stat().st_mode) == 0o600 for log in runs.iterdir())
    run_cli("attach", ref)
    assert os.path.exists(BatchService(Repository(db_path)).outputs(ref)[0].output_path)


# ------------------------------------------------------------------------------- in the TUI


@pytest.mark.anyio
@pytest.mark.slow
async def test_the_editor_answers_bad_input_inline(db_path):
    from textual.widgets import Input

    from .tui_support import make_app

    service = BatchService(Repository(db_path))
    ref = service.create("Inline").id
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(ref)
        await pilot.pause()
        screen = app.screen
        for field, value, message in (
            ("duration", "abc", "Duration s: 'abc' is not a number"),
            ("duration", "-3", "duration: Input should be greater than 0"),
            ("concurrency", "0", "concurrency must be between 1 and 64, not 0"),
            ("background", "nope", "'nope' is not a colour"),
        ):
            box = screen.query_one(f"#f-{field}", Input)
            box.focus()
            box.value = value
            await pilot.press("enter")
            await pilot.pause()
            assert message in str(screen.query_one("#problems").render())
        box = screen.query_one("#item-input", Input)
        box.focus()
        box.value = "a\x00b"
        await pilot.press("enter")
        await pilot.pause()
        notices = [n.message for n in app._notifications]
        assert any("NUL character" in message for message in notices), notices
    batch = service.get(ref)
    assert batch.items == [] and batch.config.duration == 5.0 and batch.config.concurrency == 3


def test_the_live_progress_bar_shows_names_literally(service, fake_generator):
    """On a terminal `start` draws rich bars: a name or item with markup stays as typed."""
    import io

    from batchtui.cli.output import RunDisplay
    from batchtui.core.events import ItemStarted
    from batchtui.core.models import utcnow

    batch = service.create("Demo [b]x[/b] [red", generator="fake", output_ext="txt")
    service.add_items(batch.id, ["[link=http://e.vil]y[/link]"])
    batch = service.get(batch.id)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    display = RunDisplay(batch, out)
    item = batch.items[0]
    with display:  # stopping draws the bars one last time
        display.on_event(ItemStarted(batch.id, item.id, 1, utcnow(), "", ""), batch)
    shown = out.getvalue()
    assert "Demo [b]x[/b] [red" in shown
    assert "[link=http://e.vil]y[/lin" in shown  # cut to the bar's width, never styled
