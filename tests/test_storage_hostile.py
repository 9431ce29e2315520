"""Files batchtui did not write, in its folders, through the real CLI: a copy of the whole
database heals its index at the next command; a pipe, a folder, a link, a 2 GiB file, binary
junk, a copy of another batch or a hand-made file where a batch file should be are read
safely and refused in one line (never trusted, never a traceback, never a hang), and every
other batch is still listed."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from batchtui.store import Repository
from batchtui.store.documents import signature_of

pytestmark = pytest.mark.slow

META = {"_meta": {"1": {"app": "batchtui", "schema": 2}}}


MEMORY_LIMIT = 1 << 30
"""Address space a command may use here: far more than it needs, less than a 2 GiB read."""


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A hang is a failure (a list must never wait on what it reads), and so is a read of a
    # file much larger than any batchtui writes.
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "BATCHTUI_LOCK_TIMEOUT": "3"},
        preexec_fn=limited,
    )


def made(db: Path, *names: str) -> list[str]:
    ids = []
    for name in names:
        done = cli(db, "create", name, "--json")
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["id"])
    return ids


def folder_of(db: Path) -> Path:
    return db.parent / f"{db.stem}.batches"


def unsigned(db: Path) -> list[str]:
    """Ids whose index entry does not carry its batch file's signature (a list reads those
    files again, every time)."""
    repo = Repository(db)
    entries = repo.index_file.entries()
    return sorted(
        batch_id
        for batch_id, entry in entries.items()
        if entry["sig"] != list(signature_of(os.lstat(repo.batches.path(batch_id))))
    )


def test_a_copied_database_heals_its_index_at_the_next_command(tmp_path):
    db = tmp_path / "here" / "batchtui.json"
    ids = made(db, "One", "Two", "Three")
    assert unsigned(db) == []
    copy = tmp_path / "copy"
    shutil.copytree(db.parent, copy, symlinks=True)  # `cp -a`: new inodes, same times
    copied = copy / db.name
    assert unsigned(copied) == sorted(ids)  # every entry names a file that is not there
    listed = cli(copied, "list")
    assert listed.returncode == 0 and listed.stderr == ""
    assert all(batch_id in listed.stdout for batch_id in ids)
    assert unsigned(copied) == []  # healed: the next list reads no batch file
    assert cli(copied, "list").stdout == listed.stdout


def test_healing_never_signs_a_file_that_says_something_else(tmp_path):
    db = tmp_path / "here" / "batchtui.json"
    first, _ = made(db, "One", "Two")
    path = folder_of(db) / f"{first}.json"
    data = json.loads(path.read_text())
    data["batch"]["1"]["name"] = "Edited by hand"
    path.write_text(json.dumps(data))
    listed = cli(db, "list")
    assert listed.returncode == 0
    assert "Edited by hand" in listed.stdout  # the file is the truth
    assert unsigned(db) == [first]  # the index is not told it says the old name


def fifo(path: Path) -> None:
    os.mkfifo(path)


def folder(path: Path) -> None:
    path.mkdir()


def link_elsewhere(path: Path) -> None:
    """A link to a well-formed batch file of that id, outside the database."""
    target = path.parent.parent / "elsewhere" / path.name
    target.parent.mkdir()
    batch = json.loads(next(path.parent.glob("[0-9a-f]*.json")).read_text())["batch"]["1"]
    target.write_text(json.dumps({"batch": {"1": {**batch, "id": path.stem}}, **META}))
    path.symlink_to(target)


def link_to_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.json")


def two_gib(path: Path) -> None:
    with open(path, "wb") as handle:
        handle.truncate(2 << 30)  # sparse: no disk, but a 2 GiB read if read


def binary_junk(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def not_a_batch(path: Path) -> None:
    path.write_text(json.dumps({"batch": {"1": {"id": path.stem, "name": 7}}, **META}))


def too_deep(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000)


def newer_schema(path: Path) -> None:
    path.write_text(json.dumps({"batch": {}, "_meta": {"1": {"app": "batchtui", "schema": 9}}}))


HOSTILE: dict[str, Callable[[Path], None]] = {
    "fifo": fifo,
    "folder": folder,
    "link": link_elsewhere,
    "devzero": link_to_zero,
    "dangling": dangling_link,
    "huge": two_gib,
    "junk": binary_junk,
    "handmade": not_a_batch,
    "deep": too_deep,
    "newer": newer_schema,
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_file_batchtui_did_not_write_is_refused_in_one_line(tmp_path, kind):
    db = tmp_path / "data" / "batchtui.json"
    ids = made(db, "One", "Two")
    stray = f"stray{kind}"
    HOSTILE[kind](folder_of(db) / f"{stray}.json")
    listed = cli(db, "list")
    assert listed.returncode == 0, listed.stderr
    assert all(batch_id in listed.stdout for batch_id in ids)  # the others still listed
    assert stray not in listed.stdout
    assert listed.stderr.count("\n") == 1 and f"batch {stray}" in listed.stderr
    shown = cli(db, "show", stray)
    assert shown.returncode == 2
    assert shown.stderr.count("\n") == 1 and "Traceback" not in shown.stderr
    assert str(folder_of(db) / f"{stray}.json") in shown.stderr
    assert cli(db, "list").stdout == listed.stdout


@pytest.mark.parametrize("kind", ["fifo", "junk", "link"])
def test_an_unreadable_file_marked_running_stops_no_command(tmp_path, kind):
    """Every command first looks for runs whose runner died (the batches marked running):
    one of them unreadable is left for `show` to name, not made every command's error."""
    db = tmp_path / "data" / "batchtui.json"
    ids = made(db, "One", "Two")
    HOSTILE[kind](folder_of(db) / "strayrun.json")
    running = folder_of(db) / ".running"
    running.mkdir(exist_ok=True)
    (running / "strayrun").touch()
    listed = cli(db, "list")
    assert listed.returncode == 0, listed.stderr
    assert all(batch_id in listed.stdout for batch_id in ids)
    assert listed.stderr.count("\n") == 1 and "batch strayrun" in listed.stderr
    renamed = cli(db, "rename", ids[0], "Still works")
    assert renamed.returncode == 0, renamed.stderr
    shown = cli(db, "show", "strayrun")
    assert shown.returncode == 2 and shown.stderr.count("\n") == 1


def test_a_copy_of_a_batch_under_another_name_is_never_acted_on(tmp_path):
    db = tmp_path / "data" / "batchtui.json"
    original, other = made(db, "Original", "Other")
    folder = folder_of(db)
    shutil.copy(folder / f"{original}.json", folder / "feedc0ffee00.json")
    listed = cli(db, "list")
    assert listed.returncode == 0
    assert listed.stdout.count("Original") == 1  # listed once: as itself
    assert "feedc0ffee00" in listed.stderr and listed.stderr.count("\n") == 1
    shown = cli(db, "show", "feedc0ffee00")
    assert shown.returncode == 2 and f"holds batch '{original}'" in shown.stderr
    renamed = cli(db, "rename", "feedc0ffee00", "Hijacked")
    assert renamed.returncode != 0
    deleted = cli(db, "delete", "feedc0ffee00")
    assert deleted.returncode == 0, deleted.stderr  # the stray file goes …
    assert not (folder / "feedc0ffee00.json").exists()
    after = cli(db, "list")  # … and the batch it copied stays, untouched
    assert original in after.stdout and other in after.stdout and "Hijacked" not in after.stdout


def test_a_file_whose_name_is_no_batch_id_is_not_a_batch(tmp_path):
    db = tmp_path / "data" / "batchtui.json"
    ids = made(db, "One")
    (folder_of(db) / "my notes.json").write_text("{}")
    (folder_of(db) / "x-y.json").write_text("{}")
    listed = cli(db, "list")
    assert listed.returncode == 0 and listed.stderr == ""
    assert ids[0] in listed.stdout


@pytest.mark.parametrize("kind", ["fifo", "folder", "link"])
def test_a_journal_batchtui_did_not_write_never_blocks(tmp_path, kind):
    db = tmp_path / "data" / "batchtui.json"
    ids = made(db, "One", "Two")
    journal = folder_of(db) / ".index-journal.jsonl"
    journal.unlink(missing_ok=True)
    HOSTILE[kind](journal)
    listed = cli(db, "list")  # the batch files are the truth: read past it
    assert listed.returncode == 0, listed.stderr
    assert all(batch_id in listed.stdout for batch_id in ids)
    before = sorted(p.name for p in folder_of(db).iterdir())
    refused = cli(db, "create", "Three")  # a change to the index: refused, nothing written
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "index journal" in refused.stderr
    assert sorted(p.name for p in folder_of(db).iterdir()) == before
