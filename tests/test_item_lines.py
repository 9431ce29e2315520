"""Items from text have one reader (`core.item_lines`): the same file gives the same items
through `add --file`, `add ID -`, the TUI's import dialog and a paste, and a byte-order mark
is never part of the first item.

Before: `add --file` split only at LF (3 items from the file below), the TUI's import used
`str.splitlines` (which also splits at form feeds and U+2028: 5 items), and the BOM stayed in
the first item everywhere but `--csv`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual import events

from batchtui.core.errors import ValidationError
from batchtui.core.item_lines import item_lines, read_item_lines, split_lines
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.dialogs import PromptScreen
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.widgets.item_input import ItemInput

from .tui_support import make_app

# A BOM, CRLF, CR and LF line ends, blank and whitespace-only lines, and a form feed and a
# U+2028 inside items (not line ends: they stay in the item).
TEXT = (
    "\ufeffWhy is space dark?\r\n"
    "\r\n"
    "What are black holes?\r"
    "How stars die\n"
    "   \t\n"
    "Page\x0cbreak\r\n"
    "One\u2028item\n"
    "\n"
)
EXPECTED = [
    "Why is space dark?",
    "What are black holes?",
    "How stars die",
    "Page\x0cbreak",
    "One\u2028item",
]


@pytest.fixture
def items_file(tmp_path: Path) -> Path:
    path = tmp_path / "topics.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    return path


def _contents(service: BatchService, batch_id: str) -> list[str]:
    return [item.content for item in service.get(batch_id).items]


def test_the_rule(items_file: Path) -> None:
    assert item_lines(TEXT) == EXPECTED
    assert read_item_lines(str(items_file)) == EXPECTED
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    assert split_lines("a\n") == ["a"] and split_lines("a\n\n") == ["a", ""]
    assert item_lines("  indented stays  \n") == ["  indented stays  "]


def test_a_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9\n".encode("latin-1"))
    for source, words in (
        (str(tmp_path / "none.txt"), "no such file"),
        (str(tmp_path), "is a folder, not a file"),
        (str(latin), "is not UTF-8 text"),
    ):
        with pytest.raises(ValidationError, match=words):
            read_item_lines(source)


def test_add_file_in_a_real_process(items_file: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATCHTUI_", "XDG_"))}
    env["HOME"] = str(tmp_path)  # its config and state folders are the test's
    db = tmp_path / "cli.json"
    cli = [sys.executable, "-m", "batchtui", "--db", str(db)]
    made = subprocess.run(
        [*cli, "create", "Topics", "--json"], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    batch_id = json.loads(made.stdout)["id"]
    added = subprocess.run(
        [*cli, "add", batch_id, "--file", str(items_file)], env=env, capture_output=True
    )
    assert added.returncode == 0, added.stderr
    piped = subprocess.run(
        [*cli, "add", batch_id, "-"], env=env, input=TEXT.encode(), capture_output=True
    )
    assert piped.returncode == 0, piped.stderr
    assert _contents(BatchService(Repository(db)), batch_id) == EXPECTED + EXPECTED


def test_add_file_and_stdin_in_process(run_cli, db_path: Path, items_file: Path) -> None:
    service = BatchService(Repository(db_path))
    batch = service.create("Topics")
    assert run_cli("add", batch.id, "--file", str(items_file)).code == 0
    assert run_cli("add", batch.id, "-", stdin=TEXT).code == 0
    assert _contents(service, batch.id) == EXPECTED + EXPECTED


def test_jsonl_lines_end_where_item_lines_end(tmp_path: Path, run_cli, db_path: Path) -> None:
    table = tmp_path / "rows.jsonl"
    table.write_bytes('\ufeff{"q": "one\u2028two"}\r\n\r{"q": "three"}\r'.encode())
    service = BatchService(Repository(db_path))
    batch = service.create("Rows")
    result = run_cli("add", batch.id, "--jsonl", str(table))
    assert result.code == 0, result.err
    assert _contents(service, batch.id) == ["one\u2028two", "three"]
    cells = tmp_path / "cells.csv"  # a quoted cell's CRLF reads as LF, as in a text file
    cells.write_bytes('\ufeffq\r\n"two\r\nlines"\r\nthree\r\n'.encode())
    assert run_cli("add", batch.id, "--csv", str(cells)).code == 0
    assert _contents(service, batch.id)[2:] == ["two\nlines", "three"]


@pytest.mark.anyio
@pytest.mark.slow
async def test_the_tui_import_and_a_paste_give_the_same_items(
    db_path: Path, items_file: Path
) -> None:
    service = BatchService(Repository(db_path), flush_interval=0.02)
    imported = service.create("Imported")
    pasted = service.create("Pasted")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(imported.id)
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        await pilot.press("escape")  # an empty batch opens in the item box: i would be typed
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("#prompt-input").value = str(items_file)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        app.pop_screen()
        await pilot.pause()
        app.open_batch(pasted.id)
        await pilot.pause()
        box = app.screen.query_one("#item-input", ItemInput)
        assert app.focused is box
        box.post_message(events.Paste(TEXT))
        await pilot.pause()
    assert _contents(service, imported.id) == EXPECTED
    assert _contents(service, pasted.id) == EXPECTED


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_file_that_never_ends_is_refused_at_the_limit(db_path: Path, device: str) -> None:
    """A device says its size is 0: it is read up to the limit, never for ever."""
    base = [sys.executable, "-m", "batchtui", "--db", str(db_path)]
    subprocess.run([*base, "create", "endless"], check=True, capture_output=True)
    for option in ("--file", "--csv"):
        done = subprocess.run(
            [*base, "add", "endless", option, device], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2
        assert done.stderr.strip() == f"batchtui: error: {device} is larger than 64 MiB"
