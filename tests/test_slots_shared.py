"""The host's slot folder as people set it up: one that cannot be used refuses a start before
anything changes; one folder shared by several users works for each of them; a relative
folder is one folder for the runner too, whatever folder that runs in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import batchtui
from batchtui.engine.slots import HostSlots

from .conftest import file_bytes

pytestmark = pytest.mark.slow

NOBODY = 65534


def python_for(run: dict[str, object]) -> str:
    """The interpreter to run batchtui with: this one, or for another account (which cannot
    reach this one under root's home) the system's, on this checkout and its packages."""
    return SYSTEM_PYTHON if "user" in run else sys.executable


SYSTEM_PYTHON = "/usr/bin/python3"
PACKAGES = os.pathsep.join(
    [sysconfig.get_paths()["purelib"], str(Path(batchtui.__file__).parent.parent)]
)


def cli(
    db: Path, *args: str, env: dict[str, str] | None = None, **run: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python_for(run), "-m", "batchtui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        **run,  # type: ignore[call-overload]
    )


def locked_batch(db: Path, *extra: str, **run: object) -> str:
    """A LOCKED batch of two items whose command writes its output; its id."""
    made = cli(db, "create", "Slots", "--generator", "command", "--command",
               "cp /etc/passwd {output}", "--ext", "txt", "--json", *extra, **run)  # fmt: skip
    assert made.returncode == 0, made.stderr
    batch_id = json.loads(made.stdout)["id"]
    for step in (("add", batch_id, "one", "two"), ("lock", batch_id)):
        done = cli(db, *step, **run)
        assert done.returncode == 0, done.stderr
    return batch_id


def status(db: Path, batch_id: str, **run: object) -> dict:
    shown = cli(db, "show", batch_id, "--json", **run)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def until(condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Return once `condition()` holds; fail after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("detach", [False, True], ids=["foreground", "detached"])
@pytest.mark.parametrize("where", ["under-a-file", "a-file"])
def test_a_slot_folder_that_cannot_be_used_refuses_the_start(db_path, tmp_path, detach, where):
    batch_id = locked_batch(db_path)
    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path / "a-file" / "slots" if where == "under-a-file" else tmp_path / "a-file"
    before = file_bytes(db_path)
    env = {"BATCHTUI_SLOTS": "1", "BATCHTUI_SLOTS_DIR": str(folder)}
    started = cli(db_path, "start", batch_id, *(["-d"] if detach else []), env=env)
    assert started.returncode == 2
    assert started.stdout == ""
    assert started.stderr.count("\n") == 1 and f"slot folder {folder}" in started.stderr
    assert file_bytes(db_path) == before  # still LOCKED, nothing written
    assert status(db_path, batch_id)["status"] == "LOCKED"


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder outside the test's private tmp, as an admin makes one to share (1777)."""
    top = Path(tempfile.mkdtemp(prefix="batchtui-shared-"))
    top.chmod(0o755)
    slots = top / "slots"
    slots.mkdir()
    slots.chmod(0o1777)
    try:
        yield top
    finally:
        shutil.rmtree(top)


def another_user(shared_folder: Path, env: dict[str, str]) -> dict[str, object]:
    """How to run batchtui as another account (nobody), with a home of its own beside the
    shared folder."""
    home = shared_folder / "nobody"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    return {
        "user": NOBODY, "group": NOBODY, "extra_groups": [], "cwd": str(home),
        "env": {**os.environ, **env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_STATE_HOME": str(home / ".state"), "BATCHTUI_OUTPUT": str(home / "out"),
                "PYTHONPATH": PACKAGES},
    }  # fmt: skip


as_root = pytest.mark.skipif(
    os.getuid() != 0 or not os.path.exists(SYSTEM_PYTHON), reason="needs root and a system Python"
)


@as_root
@pytest.mark.parametrize(
    ("private_file", "says"),
    [(True, "chmod 644"), (False, "make the folder writable by every user who shares it")],
    ids=["private-lock-file", "folder-not-writable"],
)
def test_a_shared_folder_another_user_cannot_use_refuses_their_start(
    shared_folder, private_file, says
):
    slots = shared_folder / "slots"
    slots.chmod(0o755)  # not writable by the other user
    if private_file:
        (slots / "slot-0.lock").touch(mode=0o600)  # as an older batchtui made them
        os.chmod(slots / "slot-0.lock", 0o600)
    env = {"BATCHTUI_SLOTS": "1", "BATCHTUI_SLOTS_DIR": str(slots)}
    as_nobody = another_user(shared_folder, env)
    theirs_db = shared_folder / "nobody" / "batchtui.json"
    theirs = locked_batch(theirs_db, "--workdir", str(theirs_db.parent), **as_nobody)
    for start in (["start", theirs], ["start", theirs, "-d"]):
        refused = cli(theirs_db, *start, **as_nobody)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stderr.count("\n") == 1 and says in refused.stderr
        assert status(theirs_db, theirs)["status"] == "LOCKED"


@as_root
def test_a_slot_folder_shared_by_two_users_limits_both(db_path, shared_folder):
    slots = shared_folder / "slots"
    env = {"BATCHTUI_SLOTS": "2", "BATCHTUI_SLOTS_DIR": str(slots)}
    mine = locked_batch(db_path)
    ran = cli(db_path, "start", mine, env=env)  # this user makes the lock files
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert sorted(p.name for p in slots.glob("*.lock")) == ["slot-0.lock", "slot-1.lock"]

    as_nobody = another_user(shared_folder, env)
    theirs_db = shared_folder / "nobody" / "batchtui.json"
    theirs = locked_batch(theirs_db, "--workdir", str(theirs_db.parent), **as_nobody)
    root = HostSlots(2, slots)
    held = [root.try_acquire() for _ in range(2)]  # every slot, held by root
    assert held == [0, 1]
    runner = subprocess.Popen(
        [SYSTEM_PYTHON, "-m", "batchtui", "--db", str(theirs_db), "start", theirs],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **as_nobody,  # type: ignore[call-overload]
    )
    try:
        # The other user's items wait for a slot this user holds: the same slots.
        until(lambda: any(i.get("waiting") for i in status(theirs_db, theirs)["items"]))
        assert all(i["status"] == "PENDING" for i in status(theirs_db, theirs)["items"])
        root.close()
        out = runner.communicate(timeout=60)[0]
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, out
    assert status(theirs_db, theirs)["status"] == "COMPLETE"


def test_a_relative_slot_folder_is_the_same_folder_for_a_detached_runner(db_path, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    batch_id = locked_batch(db_path, "--workdir", str(elsewhere))  # the runner runs there
    here = HostSlots(1, tmp_path / "slots")
    assert here.try_acquire() == 0  # `slots` here, in the test's folder
    try:
        env = {"BATCHTUI_SLOTS": "1", "BATCHTUI_SLOTS_DIR": "slots"}
        started = cli(db_path, "start", batch_id, "-d", env=env, cwd=str(tmp_path))
        assert started.returncode == 0, started.stderr
        until(lambda: any(i.get("waiting") for i in status(db_path, batch_id)["items"]))
        assert not (elsewhere / "slots").exists()
        assert all(i["status"] == "PENDING" for i in status(db_path, batch_id)["items"])
    finally:
        here.close()
    until(lambda: status(db_path, batch_id)["status"] == "COMPLETE")


def test_help_says_where_a_relative_slot_folder_is(db_path):
    shown = cli(db_path, "start", "--help")
    assert shown.returncode == 0
    assert "relative path taken from the folder this command runs" in " ".join(shown.stdout.split())
