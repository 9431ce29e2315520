"""Faults a hard week on a render box brings (issue 13): nothing lost, nothing orphaned, nothing
stuck, and one line instead of a traceback. Real processes and real files, as in
test_survival.py and test_bad_input.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .conftest import file_bytes
from .helpers import edit_stored, force_status, pid_alive

pytestmark = pytest.mark.slow


def one_line_error(result, fragment: str, code: int = 2) -> None:
    assert result.code == code, result
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchtui: error: "), result.err
    assert fragment in lines[0], lines[0]


# ------------------------------------------------------------------ data loss: the database


def test_a_database_path_that_is_a_symlink_writes_through_to_its_target(tmp_path, fake_generator):
    real = tmp_path / "data" / "real.json"
    real.parent.mkdir()
    link = tmp_path / "db.json"
    link.symlink_to(real)
    via_link = BatchService(Repository(link))
    made = via_link.create("Linked", generator="fake", output_ext="txt")
    via_link.add_items(made.id, ["one", "two"])
    assert link.is_symlink() and os.readlink(link) == str(real), "the link was replaced"
    direct = BatchService(Repository(real))
    assert [i.content for i in direct.get(made.id).items] == ["one", "two"]
    direct.rename(made.id, "Renamed directly")
    assert via_link.get(made.id).name == "Renamed directly"
    # one lock for both names: a batch held through the target is busy through the link
    repo = Repository(real)
    with repo.transaction() as tx:
        tx.get(made.id)
        with pytest.raises(Exception, match="locked by another"):
            BatchService(Repository(link, lock_timeout=0.05)).rename(made.id, "x")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_database_path_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path, run_cli, db_path, kind
):
    db_path.parent.mkdir(exist_ok=True)
    if kind == "fifo":
        os.mkfifo(db_path)
    else:
        db_path.symlink_to("/dev/zero")
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(run_cli("list")), daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, "list blocked on the database path"
    one_line_error(outcome[0], "not a regular file")


def test_a_lock_path_that_is_a_folder_is_one_line(run_cli, db_path, fake_generator):
    BatchService(Repository(db_path)).create("Held", generator="fake")
    lock = Path(str(db_path) + ".lock")
    lock.unlink(missing_ok=True)
    lock.mkdir()
    before = file_bytes(db_path)
    result = run_cli("create", "Another", "--generator", "fake")
    one_line_error(result, "cannot lock")
    assert file_bytes(db_path) == before


# ------------------------------------------------------------------- data loss: the runs


def cli(db_path: Path, *args: str, env: dict | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def start_runner(db_path: Path, ref: str, *, capture: bool = True, **env: str):
    """`batchtui start REF` as its own process (the runner), its output captured (read it
    with communicate) or dropped."""
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", ref],
        stdout=out, stderr=out, text=True, env={**os.environ, **env},
    )  # fmt: skip


def sleepy_batch(db_path: Path, make_script, tmp_path: Path, n: int, seconds: float, **config):
    """n command items that each record their pid and sleep `seconds` before writing output."""
    pids = tmp_path / "pids"
    pids.mkdir(exist_ok=True)
    script = make_script(
        "sleepy.py",
        f"""
        import os, sys, time
        open(os.path.join({str(pids)!r}, sys.argv[1]), "w").write(str(os.getpid()))
        time.sleep({seconds})
        open(sys.argv[2], "w").write("done")
        """,
    )
    service = BatchService(Repository(db_path))
    config.setdefault("concurrency", n)
    made = service.create(
        "Sleepy", generator="command", command=f"{script} {{index}} {{output}}",
        output_ext="txt", validate_output="exists", **config,
    )  # fmt: skip
    service.add_items(made.id, [f"item {i}" for i in range(1, n + 1)])
    service.lock(made.id)
    return made.id, pids


def test_a_suspended_runner_is_alive_whatever_its_heartbeat_says(db_path, make_script, tmp_path):
    ref, pids = sleepy_batch(db_path, make_script, tmp_path, 2, 2.0)
    runner = start_runner(db_path, ref, capture=False)
    try:
        wait_for(lambda: len(list(pids.iterdir())) == 2)
        children = [int(p.read_text()) for p in pids.iterdir()]
        runner.send_signal(signal.SIGSTOP)  # ctrl+z
        wait_for(lambda: process_state(runner.pid) == "T")

        def stale(doc: dict) -> None:
            doc["runner"]["heartbeat"] = "2020-01-01T00:00:00Z"  # far past the window

        edit_stored(db_path, ref, stale)
        listed = cli(db_path, "list")
        assert listed.returncode == 0, listed.stderr
        assert Repository(db_path).get(ref).status is BatchStatus.PROCESSING
        assert all(pid_alive(pid) for pid in children), "a suspended run's children were killed"
        runner.send_signal(signal.SIGCONT)  # fg
        assert runner.wait(timeout=60) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            runner.send_signal(signal.SIGCONT)
        if runner.poll() is None:
            runner.kill()
    assert Repository(db_path).get(ref).status is BatchStatus.COMPLETE


def test_recovery_stops_every_process_of_the_batch_recorded_running_or_not(db_path, tmp_path):
    service = BatchService(Repository(db_path))
    made = service.create("Orphans", generator="command", command="true {output}")
    service.add_items(made.id, ["a", "b"])
    service.lock(made.id)
    service.begin(made.id)  # PROCESSING, both items still recorded PENDING
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()

    def died(doc: dict) -> None:  # as if the runner was SIGKILLed before its first flush
        doc["runner"]["pid"], doc["runner"]["token"] = dead.pid, None

    edit_stored(db_path, made.id, died)
    env = {**os.environ, "BATCHTUI_BATCH": made.id, "BATCHTUI_ITEM": "x"}
    leftovers = [
        subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)"],
            env=env,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert cli(db_path, "list").returncode == 0
        for child in leftovers:
            assert child.wait(timeout=10) == -signal.SIGKILL
        assert stranger.poll() is None, "a process not tagged with the batch was touched"
    finally:
        stranger.kill()
        for child in leftovers:
            child.kill()
    assert Repository(db_path).get(made.id).status.value in ("FAILED", "PARTIAL")


# ------------------------------------------------------------------------------ orphans


ESCAPER = """
import os, subprocess, sys, time
# A grandchild that leaves the item's process group (as a daemonising tool does).
helper = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
)
open(os.path.join({pids!r}, sys.argv[1]), "w").write(str(helper.pid))
time.sleep(float(sys.argv[3]))
open(sys.argv[2], "w").write("done")
"""


@pytest.mark.parametrize(
    ("ending", "seconds", "status"),
    [("success", 0.0, "COMPLETE"), ("timeout", 30.0, "FAILED"), ("cancel", 30.0, "FAILED")],
)
def test_a_grandchild_that_left_the_group_does_not_outlive_its_item(
    db_path, make_script, tmp_path, ending, seconds, status
):
    pids = tmp_path / "pids"
    pids.mkdir()
    script = make_script("escaper.py", ESCAPER.format(pids=str(pids)))
    service = BatchService(Repository(db_path))
    made = service.create(
        "Escapers", generator="command", command=f"{script} {{index}} {{output}} {seconds}",
        output_ext="txt", validate_output="exists", concurrency=2,
        timeout=1.5 if ending == "timeout" else 600,
    )  # fmt: skip
    service.add_items(made.id, ["one", "two"])
    service.lock(made.id)
    runner = start_runner(db_path, made.id, capture=False)
    try:
        wait_for(lambda: len(list(pids.iterdir())) == 2)
        helpers = [int(p.read_text()) for p in pids.iterdir()]
        if ending == "cancel":
            assert cli(db_path, "cancel", made.id).returncode == 0
        runner.wait(timeout=60)
        stored = Repository(db_path).get(made.id)
        assert stored.status.value == status
        for pid in helpers:
            assert not pid_alive(pid), f"the item ended ({ending}) and its grandchild lives on"
    finally:
        if runner.poll() is None:
            runner.kill()
        for pid in [int(p.read_text()) for p in pids.iterdir()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -------------------------------------------------------------------------------- hangs


def test_a_hanging_ffmpeg_cannot_hang_the_check_of_an_adopted_output(db_path, make_script):
    service = BatchService(Repository(db_path))
    # The card is made with room to spare (a loaded machine renders slowly); the check of
    # the adopted output afterwards has 2 s (the timeout is not part of the config's hash).
    made = service.create("Cards", duration=1, timeout=60)
    service.add_items(made.id, ["one"])
    service.lock(made.id)
    assert cli(db_path, "start", made.id).returncode == 0
    with Repository(db_path).transaction() as tx:  # the runner died before recording it
        stored = tx.get(made.id)
        stored.config = stored.config.model_copy(update={"timeout": 2.0})
        force_status(stored.items[0], ItemStatus.INTERRUPTED)
        stored.items[0].output_path = None
        force_status(stored, BatchStatus.PARTIAL)
        tx.save(stored)
    hang = make_script("ffmpeg", "import time\ntime.sleep(120)\n")
    started = time.monotonic()
    retried = cli(db_path, "retry", made.id, env={"BATCHTUI_FFMPEG": str(hang)}, timeout=60)
    took = time.monotonic() - started
    assert retried.returncode != 0 and "timed out" in retried.stdout + retried.stderr
    assert took < 30, f"the retry took {took:.0f}s"
    assert Repository(db_path).get(made.id).status is BatchStatus.FAILED


def process_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0]


def wait_for(condition, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_cancel_right_after_a_detached_start_is_honoured(db_path, make_script, tmp_path):
    ran = tmp_path / "ran"
    ran.mkdir()
    script = make_script(
        "mark.py", f"import os, sys\nopen(os.path.join({str(ran)!r}, sys.argv[1]), 'w')\n"
        "open(sys.argv[2], 'w').write('x')\n",
    )  # fmt: skip
    service = BatchService(Repository(db_path))
    made = service.create(
        "Quick cancel", generator="command", command=f"{script} {{index}} {{output}}",
        output_ext="txt", validate_output="exists",
    )  # fmt: skip
    service.add_items(made.id, ["a", "b", "c"])
    service.lock(made.id)
    detached = service.start_detached(made.id)
    service.cancel(made.id)  # lands before the runner (a fresh Python) has read the batch
    wait_for(lambda: not pid_alive(detached.pid))
    ended = Repository(db_path).get(made.id)
    assert [i.status for i in ended.items] == [ItemStatus.CANCELLED] * 3
    assert not ended.cancel_requested and list(ran.iterdir()) == []


# -------------------------------------------------------------------- stuck and hanging


def test_attach_notices_a_runner_killed_while_it_follows(db_path, make_script, tmp_path):
    ref, pids = sleepy_batch(db_path, make_script, tmp_path, 2, 60.0)
    service = BatchService(Repository(db_path))
    detached = service.start_detached(ref)
    attach = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "attach", ref],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(
            lambda: {i.status for i in Repository(db_path).get(ref).items} == {ItemStatus.RUNNING}
        )
        os.kill(detached.pid, signal.SIGKILL)
        out, err = attach.communicate(timeout=30)
    finally:
        if attach.poll() is None:
            attach.kill()
    assert attach.returncode == 1, out + err
    assert "runner of 'Sleepy' stopped" in out
    stored = Repository(db_path).get(ref)
    assert stored.status is BatchStatus.FAILED
    assert {i.status for i in stored.items} == {ItemStatus.INTERRUPTED}
    for item_pid in (int(p.read_text()) for p in pids.iterdir()):
        wait_for(lambda pid=item_pid: not pid_alive(pid), limit=10)


def test_a_runner_that_cannot_start_leaves_nothing_stuck(db_path, fake_generator, tmp_path):
    service = BatchService(Repository(db_path))
    made = service.create("Nowhere", generator="fake", output_ext="txt")
    service.add_items(made.id, ["a"])
    service.lock(made.id)
    runs = db_path.parent / "runs"
    runs.write_text("a file where the runner logs go")
    before = file_bytes(db_path)
    with pytest.raises(Exception, match="not a folder"):
        service.start_detached(made.id)
    assert file_bytes(db_path) == before, "refused before anything changed"
    runs.unlink()

    import batchtui.service.runs as runs_module

    def broken(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    original = runs_module.spawn_runner
    runs_module.spawn_runner = broken
    try:
        with pytest.raises(Exception, match="could not start a runner"):
            service.start_detached(made.id)
    finally:
        runs_module.spawn_runner = original
    stored = Repository(db_path).get(made.id)
    assert stored.status is not BatchStatus.PROCESSING, "left PROCESSING with no runner"
    assert stored.items[0].status is ItemStatus.CANCELLED  # never started; retry runs it
    assert anyio.run(service.retry, made.id).status is BatchStatus.COMPLETE  # and it goes on


def test_a_run_this_process_begun_and_dropped_is_recovered_without_a_restart(
    db_path, fake_generator
):
    service = BatchService(Repository(db_path))
    made = service.create("Dropped", generator="fake", output_ext="txt")
    service.add_items(made.id, ["a"])
    service.lock(made.id)
    service.begin(made.id)
    assert service.recover_orphans() == [], "begun here, about to run: left alone"
    from batchtui.service.begun import BEGUN_HERE

    BEGUN_HERE.discard(made.id)  # as after a hand-over whose every write failed
    assert [b.id for b in service.recover_orphans()] == [made.id]
    assert service.get(made.id).status is not BatchStatus.PROCESSING


# ----------------------------------------------------------- tracebacks instead of one line


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB file system of its own (tmpfs; needs root), unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system `folder` is on; the filler file (delete it to free the space)."""
    filler = folder / "filler"
    with open(filler, "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"x" * 65536)
            handle.flush()
    return filler


def test_a_full_output_disk_fails_only_the_items_it_hits(db_path, make_script, small_disk):
    script = make_script(
        "big.py",
        """
        import sys
        print("a log line " * 2000, flush=True)
        with open(sys.argv[1], "wb") as out:
            out.write(b"v" * 400_000)
        """,
    )
    service = BatchService(Repository(db_path))
    made = service.create(
        "Full", generator="command", command=f"{script} {{output}}", output_ext="bin",
        validate_output="exists", output_dir=str(small_disk), concurrency=3, max_items=12,
    )  # fmt: skip
    service.add_items(made.id, [f"item {n}" for n in range(12)])
    service.lock(made.id)
    result = cli(db_path, "start", made.id)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    stored = Repository(db_path).get(made.id)
    statuses = [i.status for i in stored.items]
    assert ItemStatus.SUCCEEDED in statuses and ItemStatus.FAILED in statuses, statuses
    assert stored.status is BatchStatus.PARTIAL


def test_a_full_database_disk_mid_run_loses_nothing_once_space_returns(
    tmp_path, make_script, small_disk
):
    db = small_disk / "db.json"
    ref, pids = sleepy_batch(db, make_script, tmp_path, 6, 0.3, concurrency=2)
    runner = start_runner(db, ref)
    wait_for(lambda: len(list(pids.iterdir())) >= 1)
    filler = fill(small_disk)
    wait_for(lambda: len(list(pids.iterdir())) >= 4)  # items go on while nothing can be saved
    filler.unlink()
    _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert "Traceback" not in err and "could not save progress" in err
    assert Repository(db).get(ref).status is BatchStatus.COMPLETE


def test_a_database_disk_that_stays_full_ends_in_one_line_and_recovers_later(
    tmp_path, make_script, small_disk
):
    db = small_disk / "db.json"
    ref, pids = sleepy_batch(db, make_script, tmp_path, 3, 0.5, concurrency=3)
    runner = start_runner(db, ref)
    wait_for(lambda: len(list(pids.iterdir())) == 3)
    filler = fill(small_disk)
    _out, err = runner.communicate(timeout=120)
    assert runner.returncode != 0
    lines = [line for line in err.splitlines() if line.startswith("batchtui: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    filler.unlink()
    shown = cli(db, "show", ref, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] != "PROCESSING"


def test_the_log_cap_holds_for_the_item_across_its_attempts(tmp_path):
    from batchtui.engine.itemlog import ItemLog

    path = tmp_path / "logs" / "01-a.log"
    path.parent.mkdir()
    cap = 64 * 1024
    for attempt in range(6):
        log = ItemLog(path, cap=cap)
        for n in range(2000):
            log.write(f"attempt {attempt} line {n} " + "x" * 40, "stdout")
        log.close()
        assert path.stat().st_size <= cap + 4096, f"attempt {attempt}: {path.stat().st_size}"
    text = path.read_text()
    assert "attempt 5 line 0 " in text, "the newest attempt always has room"
    assert "earlier attempts' log cut" in text


def test_a_malformed_batch_is_one_line_and_everything_else_keeps_working(
    run_cli, db_path, fake_generator
):
    service = BatchService(Repository(db_path))
    bad = service.create("Broken", generator="fake").id
    service.add_items(bad, ["one"])
    good = service.create("Good", generator="fake").id

    def spoil(doc: dict) -> None:
        doc["status"] = "PROCESSING"
        doc["runner"] = {"pid": 1, "host": "x", "started_at": "yesterday", "heartbeat": "yesterday"}
        doc["items"][0]["attempts"] = "many"

    edit_stored(db_path, bad, spoil)
    for argv in (["platforms"], ["create", "Another"], ["show", good], ["add", good, "two"]):
        result = run_cli(*argv)
        assert result.code == 0, (argv, result)
    listed = run_cli("list")
    assert listed.code == 0 and good in listed.out
    for argv in (["show", bad], ["start", bad], ["retry", bad]):
        result = run_cli(*argv)
        one_line_error(result, f"batch {bad} is malformed")
        assert "attempts" in result.err and f"batchtui delete {bad}" in result.err
    gone = run_cli("delete", bad)
    assert gone.code == 0, gone
    assert bad not in run_cli("list").out and Repository(db_path).get(bad) is None


def test_a_batch_file_that_holds_no_batch_is_named_and_deletable(run_cli, db_path):
    service = BatchService(Repository(db_path))
    bad = service.create("Hollow").id
    good = service.create("Fine").id
    path = db_path.parent / f"{db_path.stem}.batches" / f"{bad}.json"
    path.write_text('{"_meta": {"1": {"app": "batchtui", "schema": 2}}, "batch": []}')
    listed = run_cli("list")
    assert listed.code == 0 and good in listed.out and bad not in listed.out
    assert f"batch {bad}" in listed.err and "cannot be read" in listed.err
    one_line_error(run_cli("show", bad), "holds no batch")
    assert run_cli("delete", bad).code == 0
    assert not path.exists() and run_cli("list").err == ""


def test_a_v1_database_whose_table_is_a_list_is_refused_not_read_as_empty(run_cli, db_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_text(
        '{"_meta": {"1": {"app": "batchtui", "schema": 1}}, "batches": [{"id": "x"}]}'
    )
    before = db_path.read_bytes()
    one_line_error(run_cli("list"), "not a TinyDB table")
    assert db_path.read_bytes() == before


def test_delete_outputs_says_what_it_could_not_remove(run_cli, db_path, tmp_path, fake_generator):
    service = BatchService(Repository(db_path))
    made = service.create("Linked", generator="fake", output_ext="txt", output_dir=str(tmp_path))
    service.add_items(made.id, ["one"])
    service.lock(made.id)
    done = anyio.run(service.start, made.id)
    folder = Path(done.items[0].output_path).parent
    elsewhere = tmp_path / "elsewhere"
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere)  # the batch folder is a link to somewhere else
    result = run_cli("delete", made.id, "--outputs")
    one_line_error(result, "not removed", code=1)
    assert "symbolic link" in result.err
    assert (elsewhere / Path(done.items[0].output_path).name).exists(), "followed the link"
    assert Repository(db_path).get(made.id) is None, "the batch itself is deleted"


def test_bidi_overrides_and_zero_width_characters_never_reach_the_terminal_raw(run_cli, db_path):
    sneaky = "invoice\u202egpj.exe \u200bsplit\u2066iso\u2069"
    service = BatchService(Repository(db_path))
    made = service.create(sneaky)
    service.add_items(made.id, [sneaky, "family 👩\u200d💻 stays"])
    invisible = ("\u202e", "\u200b", "\u2066", "\u2069")
    for argv in (["list"], ["show", made.id]):
        result = run_cli(*argv)
        assert result.code == 0
        assert not any(char in result.out for char in invisible), argv
        assert "<U+202E>" in result.out
    assert "👩\u200d💻" in run_cli("show", made.id).out, "emoji joined by a ZWJ stay whole"
    refused = run_cli("show", "nothing\u202eelse")
    assert refused.code != 0 and "\u202e" not in refused.err and "<U+202E>" in refused.err
    stored = BatchService(Repository(db_path)).get(made.id)
    assert stored.name == sneaky, "stored exactly as given: only the display is made safe"


def test_a_name_that_is_also_the_start_of_another_id_is_refused(run_cli, db_path):
    service = BatchService(Repository(db_path))
    target = service.create("Keep me")
    prefix = target.id[:4]
    decoy = service.create(prefix)  # a batch *named* like the other's id prefix
    before = file_bytes(db_path)
    result = run_cli("delete", prefix)
    one_line_error(result, "give the full id")
    assert decoy.id in result.err and target.id in result.err
    assert file_bytes(db_path) == before
    assert run_cli("delete", decoy.id).code == 0  # the full id says which
    assert run_cli("show", prefix).code == 0  # now only the prefix matches


def test_a_deleted_working_folder_or_a_missing_ffmpeg_is_refused_at_lock(
    run_cli, db_path, tmp_path
):
    service = BatchService(Repository(db_path))
    work = tmp_path / "work"
    work.mkdir()
    made = service.create("Cards", workdir=str(work))
    service.add_items(made.id, ["one"])
    work.rmdir()
    one_line_error(run_cli("lock", made.id), "does not exist (deleted?)")
    work.mkdir()
    os.environ["BATCHTUI_FFMPEG"] = str(tmp_path / "no-such-ffmpeg")
    try:  # read at every call: no cache to clear
        one_line_error(run_cli("lock", made.id), "BATCHTUI_FFMPEG")
    finally:
        del os.environ["BATCHTUI_FFMPEG"]
    assert run_cli("lock", made.id).code == 0
    work.rmdir()  # deleted after the lock: start says so, nothing runs
    result = run_cli("start", made.id)
    one_line_error(result, "working folder")
    assert Repository(db_path).get(made.id).status is BatchStatus.LOCKED


def test_links_planted_in_a_batch_folder_are_never_written_through(db_path, tmp_path, make_script):
    from batchtui.engine.layout import batch_folder

    script = make_script("loud.py", "import sys\nprint('hello')\nopen(sys.argv[1], 'w')\n")
    service = BatchService(Repository(db_path))
    made = service.create(
        "Planted", generator="command", command=f"{script} {{output}}", output_ext="txt",
        validate_output="exists", output_dir=str(tmp_path / "out"),
    )  # fmt: skip
    service.add_items(made.id, ["a", "b"])
    service.lock(made.id)
    folder = batch_folder(service.get(made.id).config, made.id, made.name)
    (folder / "logs").mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (folder / "manifest.jsonl").symlink_to(victim)
    (folder / "logs" / "01-a.log").symlink_to(victim)
    result = cli(db_path, "start", made.id)
    assert "Traceback" not in result.stderr
    assert victim.read_text() == "precious\n", "a write went through a planted link"
    stored = Repository(db_path).get(made.id)
    assert any("symbolic link" in (item.error or "") for item in stored.items), stored.items


def test_text_and_folders_that_are_not_utf8_are_refused_in_one_line(run_cli, db_path, tmp_path):
    odd = os.fsdecode(b"w\xff")  # a folder name with a byte that is not UTF-8
    folder = tmp_path / odd
    folder.mkdir()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    cases = [
        (["create", os.fsdecode(b"N\xffame")], "batch name 'N\\xffame' is not valid UTF-8"),
        (["create", "X", "--output", str(folder)], "is not valid UTF-8"),
        (["create", "X", "--workdir", str(folder)], "pass --workdir"),
        (
            ["create", "X", "--generator", "command", "--command", os.fsdecode(b"echo \xff")],
            "command",
        ),
    ]
    for argv, fragment in cases:
        one_line_error(run_cli(*argv), fragment)
    assert not db_path.exists(), "nothing was written"
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        one_line_error(run_cli("create", "From an odd folder"), "pass --workdir")
    finally:
        os.chdir(cwd)


def test_a_lock_held_past_the_timeout_never_costs_a_run(db_path, make_script, tmp_path):
    ref, pids = sleepy_batch(db_path, make_script, tmp_path, 4, 0.3, concurrency=2)
    runner = start_runner(db_path, ref, BATCHTUI_LOCK_TIMEOUT="0.2")
    wait_for(lambda: len(list(pids.iterdir())) >= 1)
    repo = Repository(db_path, lock_timeout=5)
    with repo.transaction() as tx:  # another process holds the batch locked for 3 s
        tx.get(ref)
        time.sleep(3)  # the hold itself is the fault being tested, not a wait for timing
    _out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert "Traceback" not in err
    assert Repository(db_path).get(ref).status is BatchStatus.COMPLETE
