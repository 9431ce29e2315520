"""A schema-1 database whose migration is killed part-way: the next command migrates it (or
finishes the migration), every command works, and no batch is lost.

The case of the issue: the old file holds a batch left PROCESSING by a runner that died, so
the next command recovers it (a transaction holding the index lock) and, the database being
half migrated, also has to migrate it. The migration is killed with SIGKILL at each of its
atomic file replaces in turn (a wrapper around the real CLI counts `os.replace` calls), until
one run of it is not killed at all.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from batchtui.store import Repository
from batchtui.store.atomic import SCHEMA_VERSION

pytestmark = pytest.mark.slow

V1 = Path(__file__).parent / "data" / "v1-database.json"
DEAD = "deadbeef0001"
DRAFT = "7a2f1746929b"

KILL_AT_REPLACE = """
import os, signal, sys
at = int(sys.argv.pop(1))
done = 0
real = os.replace

def replace(*args, **kwargs):
    global done
    real(*args, **kwargs)
    done += 1
    if done == at:
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
sys.argv[0] = "batchtui"
from batchtui.launch import run
run()
"""
"""The real CLI, killed (SIGKILL) right after its N-th atomic file replace."""


def old_database(path: Path) -> dict[str, dict]:
    """Write a schema-1 database: the stored fixture plus a batch left PROCESSING by a runner
    that is gone (a pid that is not running on this host); its documents by id."""
    data = json.loads(V1.read_text(encoding="utf-8"))
    left = copy.deepcopy(data["batches"]["4"])  # LOCKED, two items
    left.update(id=DEAD, name="Left running", status="PROCESSING", started_at=left["locked_at"])
    left["items"][0].update(status="RUNNING", started_at=left["locked_at"])
    left["runner"] = {
        "pid": dead_pid(),
        "host": socket.gethostname(),
        "started_at": left["locked_at"],
        "heartbeat": left["locked_at"],
        "token": 1,
    }
    data["batches"]["7"] = left
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    path.chmod(0o600)
    return {doc["id"]: doc for doc in data["batches"].values()}


def dead_pid() -> int:
    """The pid of a process that has ended (and was collected)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def cli(db: Path, *args: str, kill_at: int | None = None) -> subprocess.CompletedProcess[str]:
    prefix = [sys.executable, "-c", KILL_AT_REPLACE, str(kill_at)] if kill_at else [
        sys.executable, "-m", "batchtui",
    ]  # fmt: skip
    env = {**os.environ, "BATCHTUI_LOCK_TIMEOUT": "3"}
    return subprocess.run(
        [*prefix, "--db", str(db), *args], capture_output=True, text=True, timeout=60, env=env
    )


def check_every_command_works(db: Path, docs: dict[str, dict]) -> None:
    listed = cli(db, "list")
    assert listed.returncode == 0, listed.stderr
    for batch_id in docs:
        assert batch_id in listed.stdout
    shown = cli(db, "show", DEAD, "--json")
    assert shown.returncode == 0, shown.stderr
    recovered = json.loads(shown.stdout)
    assert recovered["status"] == "FAILED"  # its runner is gone: ended, for retry to resume
    assert recovered["items"][0]["status"] == "INTERRUPTED"
    added = cli(db, "add", DRAFT, "one more")
    assert added.returncode == 0, added.stderr
    repo = Repository(db)
    assert sorted(s.id for s in repo.summaries()) == sorted(docs)  # none lost, none added
    for batch_id, doc in docs.items():
        if batch_id not in (DEAD, DRAFT):
            assert repo.get_raw(batch_id) == doc  # every other batch exactly as it was
    assert [i.content for i in repo.get(DRAFT).items][-1] == "one more"
    index = json.loads(db.read_text())
    assert next(iter(index["_meta"].values()))["schema"] == SCHEMA_VERSION
    leftovers = [p.name for p in db.parent.iterdir() if p.name.startswith(db.name + ".")]
    assert leftovers == [db.name + ".lock"]  # no backup, no half-done migration left


def test_a_migration_killed_at_any_step_is_finished_by_the_next_command(tmp_path):
    killed_at = []
    for at in range(1, 40):
        db = tmp_path / f"at-{at}" / "batchtui.json"
        docs = old_database(db)
        first = cli(db, "list", kill_at=at)
        if first.returncode != -signal.SIGKILL:
            assert first.returncode == 0, first.stderr  # the whole migration ran: done
            break
        killed_at.append(at)
        check_every_command_works(db, docs)
        shutil.rmtree(db.parent)
    assert len(killed_at) >= 9  # a backup, seven batch files and the index at least


def test_a_half_migrated_database_from_an_older_batchtui_is_migrated(tmp_path):
    """Some batch files written, no trace of the migration but the folder (as a migration
    killed by an earlier batchtui left it): the first change finishes the migration."""
    db = tmp_path / "data" / "batchtui.json"
    docs = old_database(db)
    folder = db.parent / "batchtui.batches"
    (folder / ".running").mkdir(parents=True)
    (folder / ".running" / DEAD).touch()
    for batch_id in (DEAD, *list(docs)[:2]):
        body = {"batch": {"1": docs[batch_id]}, "_meta": {"1": {"app": "batchtui", "schema": 2}}}
        (folder / f"{batch_id}.json").write_text(json.dumps(body))
    check_every_command_works(db, docs)
