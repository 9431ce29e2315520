"""Pause and resume (issue 29), with real runner processes: a drain lets running items finish
and starts none; --now freezes the items' process groups (and stops their timeouts); the
host's pause holds every runner, one started after it too; bad uses are refused."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("own_slots")]


def until(condition, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`batchtui ARGS` as a person runs it: its own process."""
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def started(db: Path, ref: str) -> subprocess.Popen[str]:
    """A foreground `batchtui start ID`: the batch's runner."""
    return subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db), "start", ref],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


@pytest.fixture
def gated(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A shell command (one cheap process per item) that stamps its start (`starts`: content,
    pid, time) and then waits until `release` exists before it writes its output."""
    starts, release = tmp_path / "starts.txt", tmp_path / "release"
    script = tmp_path / "gated.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$1 $$ $(date +%s.%N)" >> "{starts}"\n'
        f'while [ ! -e "{release}" ]; do sleep 0.02; done\n'
        'echo ok > "$2"\n'
    )
    script.chmod(0o755)
    return script, starts, release


def locked(db: Path, script: Path, items: int, **config: object) -> str:
    service = BatchService(db)
    batch = service.create(
        "paused", generator="command", command=f"{script} {{content}} {{output}}",
        output_ext="txt", **config,
    )  # fmt: skip
    service.add_items(batch.id, [f"item{n}" for n in range(1, items + 1)])
    service.lock(batch.id)
    return batch.id


def stamps(starts: Path) -> list[tuple[str, int, float]]:
    if not starts.exists():
        return []
    rows = [line.split() for line in starts.read_text().splitlines()]
    return [(name, int(pid), float(at)) for name, pid, at in rows]


def process_state(pid: int) -> str:
    """The process's state letter ('T': stopped), or 'gone'."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def ended(run: subprocess.Popen[str]) -> str:
    out = run.communicate(timeout=60)[0]
    assert run.returncode == 0, out
    return out


def test_a_drain_starts_nothing_new_lets_running_items_finish_and_resume_goes_on(db_path, gated):
    script, starts, release = gated
    batch_id = locked(db_path, script, 6, concurrency=2)
    run = started(db_path, batch_id)
    try:
        until(lambda: len(stamps(starts)) == 2)
        paused = cli(db_path, "pause", batch_id)
        assert paused.returncode == 0, paused.stderr
        after_pause = time.time()
        assert "paused" in paused.stdout
        service = BatchService(db_path)
        assert service.get(batch_id).holding == "drain"  # the runner obeys, said when it returned
        for view in (["list"], ["show", batch_id], ["progress", batch_id]):
            assert "PAUSED" in cli(db_path, *view).stdout, view
        shown = json.loads(cli(db_path, "show", batch_id, "--json").stdout)
        assert shown["paused"] == shown["progress"]["paused"] == "drain"
        attach = subprocess.Popen(
            [sys.executable, "-m", "batchtui", "--db", str(db_path), "attach", batch_id],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        release.touch()  # the two running items finish; nothing new starts
        until(lambda: service.get(batch_id).progress().succeeded == 2)
        finished = time.time()
        # Two more of the runner's flushes (its heartbeat) later: still nothing started.
        until(lambda: service.get(batch_id).runner.heartbeat.timestamp() > finished + 2.0)
        batch = service.get(batch_id)
        assert batch.status is BatchStatus.PROCESSING
        assert [item.status for item in batch.items].count(ItemStatus.PENDING) == 4
        assert all(at < after_pause for _, _, at in stamps(starts)), stamps(starts)
        resumed = cli(db_path, "resume", batch_id)
        assert resumed.returncode == 0, resumed.stderr
        # The run's own lines and attach's say it paused, then went on.
        for out in (ended(run), ended(attach)):
            paused_at = out.index("⏸ PAUSED: no new item starts; running ones finish")
            assert out.index("▶ resumed", paused_at) < out.index("item3"), out
    finally:
        if "attach" in locals() and attach.poll() is None:
            attach.kill()
        if run.poll() is None:
            run.kill()
    batch = BatchService(db_path).get(batch_id)
    assert batch.status is BatchStatus.COMPLETE
    assert batch.paused is None and batch.holding is None
    assert len(stamps(starts)) == 6


def test_pause_now_freezes_the_group_and_resume_lets_it_go_on(db_path, gated):
    script, starts, release = gated
    batch_id = locked(db_path, script, 2, concurrency=1)
    run = started(db_path, batch_id)
    try:
        until(lambda: len(stamps(starts)) == 1)
        pid = stamps(starts)[0][1]
        assert cli(db_path, "pause", batch_id, "--now").returncode == 0
        until(lambda: process_state(pid) == "T")  # stopped, and its group with it
        assert "PAUSED (frozen)" in cli(db_path, "list").stdout
        release.touch()  # a frozen item does not see it
        assert process_state(pid) == "T"
        assert cli(db_path, "resume", batch_id).returncode == 0
        ended(run)  # it went on, saw the release, ended; the second item ran after it
    finally:
        if run.poll() is None:
            run.kill()
    assert BatchService(db_path).get(batch_id).status is BatchStatus.COMPLETE
    assert len(stamps(starts)) == 2


def test_time_frozen_does_not_count_against_the_timeout(db_path, tmp_path):
    starts = tmp_path / "starts.txt"
    script = tmp_path / "work.sh"
    # About 1 s of its own time (20 short naps), well within a 3 s timeout even on a loaded
    # machine (30 naps in 2 s timed out under CI's two workers, frozen or not).
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$1 $$ $(date +%s.%N)" >> "{starts}"\n'
        "i=0; while [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done\n"
        'echo ok > "$2"\n'
    )
    script.chmod(0o755)
    batch_id = locked(db_path, script, 1, concurrency=1, timeout=3.0)
    run = started(db_path, batch_id)
    try:
        until(lambda: len(stamps(starts)) == 1)
        BatchService(db_path).pause(batch_id, now=True)  # (in-process: quick, well in time)
        frozen_at = time.monotonic()
        until(lambda: process_state(stamps(starts)[0][1]) == "T")
        time.sleep(4.0)  # the pause itself: longer than the whole timeout
        assert time.monotonic() - frozen_at >= 4.0
        assert cli(db_path, "resume", batch_id).returncode == 0
        ended(run)
    finally:
        if run.poll() is None:
            run.kill()
    item = BatchService(db_path).get(batch_id).items[0]
    assert item.status is ItemStatus.SUCCEEDED, item.error


def test_the_hosts_pause_holds_a_batch_started_after_it_until_resume_all(db_path, gated):
    script, starts, release = gated
    release.touch()
    paused = cli(db_path, "pause", "--all")
    assert paused.returncode == 0, paused.stderr
    batch_id = locked(db_path, script, 3, concurrency=3)
    run = started(db_path, batch_id)
    try:
        service = BatchService(db_path)
        until(lambda: service.get(batch_id).holding == "drain")
        assert "PAUSED" in cli(db_path, "list").stdout
        queue = json.loads(cli(db_path, "queue", "--json").stdout)  # the box's one view
        assert queue["paused"] == "drain"
        assert [b["state"] for b in queue["batches"]] == ["PROCESSING ⏸ PAUSED"]
        # Its own pause is not what holds it: resume ID says what will.
        refused = cli(db_path, "resume", batch_id)
        assert refused.returncode == 2 and "resume --all" in refused.stderr
        assert stamps(starts) == []
        assert cli(db_path, "resume", "--all").returncode == 0
        ended(run)
    finally:
        if run.poll() is None:
            run.kill()
        cli(db_path, "resume", "--all")
    assert BatchService(db_path).get(batch_id).status is BatchStatus.COMPLETE
    assert len(stamps(starts)) == 3


# ------------------------------------------------------------------ refused in one line


@pytest.fixture
def quick(tmp_path: Path) -> Path:
    script = tmp_path / "ok.sh"
    script.write_text('#!/bin/sh\necho ok > "$2"\n')
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(
    ("status", "paused", "args", "says"),
    [
        (BatchStatus.DRAFT, False, ["pause", "{id}"], "pausing needs PROCESSING"),
        (BatchStatus.LOCKED, False, ["pause", "{id}", "--now"], "pausing needs PROCESSING"),
        (BatchStatus.COMPLETE, False, ["pause", "{id}"], "pausing needs PROCESSING"),
        (BatchStatus.PROCESSING, False, ["resume", "{id}"], "not paused; pause it first"),
        (BatchStatus.PROCESSING, True, ["pause", "{id}"], "already paused"),
        (BatchStatus.LOCKED, False, ["resume", "{id}"], "resuming needs PROCESSING"),
        (BatchStatus.DRAFT, False, ["pause"], "give a batch ID, or --all"),
        (BatchStatus.DRAFT, False, ["pause", "{id}", "--all"], "not both"),
        (BatchStatus.DRAFT, False, ["resume"], "give a batch ID, or --all"),
    ],
)
def test_bad_uses_are_refused_in_one_line_and_change_nothing(
    run_cli, db_path, quick, own_slots, status, paused, args, says
):
    from .conftest import file_bytes
    from .test_rules import stored_batch

    batch_id = stored_batch(db_path, status, quick, paused=paused)
    before = file_bytes(db_path)
    result = run_cli(*[arg.format(id=batch_id) for arg in args])
    assert result.code == 2, result.out
    assert result.err.count("\n") == 1 and says in result.err, result.err
    assert file_bytes(db_path) == before
    assert not (own_slots / "paused").exists()


# ------------------------------------------------------------------------------ the API


def test_the_api_pauses_and_resumes_a_run_and_the_host(db_path, gated, own_slots):
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    script, starts, release = gated
    draft = BatchService(db_path).create("draft")
    batch_id = locked(db_path, script, 3, concurrency=1)
    run = started(db_path, batch_id)
    try:
        with TestClient(create_app(BatchService(db_path))) as client:
            until(lambda: len(stamps(starts)) == 1)
            paused = client.post(f"/v1/batch/{batch_id}/pause", json={"now": True})
            assert paused.status_code == 202, paused.text
            assert paused.json()["paused"] == "now" and paused.json()["status"] == "PROCESSING"
            until(lambda: process_state(stamps(starts)[0][1]) == "T")
            # Refused in the API's one shape, nothing changed.
            for path, body in [
                (f"/v1/batch/{draft.id}/pause", {}),
                (f"/v1/batch/{draft.id}/resume", None),
                (f"/v1/batch/{batch_id}/pause", {"now": True}),  # already frozen
            ]:
                refused = client.post(path, json=body)
                assert refused.status_code == 409, refused.text
                assert refused.json()["error"]["type"] == "forbidden_transition"
            assert client.post(f"/v1/batch/{batch_id}/pause", json={"now": "x"}).status_code == 422
            assert client.post("/v1/host/pause", json={}).json() == {"paused": "drain"}
            assert (own_slots / "paused").read_text().strip() == "drain"
            assert client.get("/v1/host/pause").json() == {"paused": "drain"}
            resumed = client.post(f"/v1/batch/{batch_id}/resume")
            assert resumed.status_code == 202
            # Its own pause is lifted; the host's still holds it (running items go on).
            until(lambda: BatchService(db_path).get(batch_id).holding == "drain")
            until(lambda: process_state(stamps(starts)[0][1]) != "T")
            assert client.post("/v1/host/resume").json() == {"paused": None}
            assert not (own_slots / "paused").exists()
            release.touch()
            ended(run)
    finally:
        if run.poll() is None:
            run.kill()
    assert BatchService(db_path).get(batch_id).status is BatchStatus.COMPLETE


def test_a_paused_run_killed_is_recovered_as_ever_and_its_retry_starts_paused(db_path, gated):
    script, starts, release = gated
    batch_id = locked(db_path, script, 3, concurrency=1)
    run = started(db_path, batch_id)
    try:
        until(lambda: len(stamps(starts)) == 1)
        assert cli(db_path, "pause", batch_id).returncode == 0
        run.kill()  # SIGKILL: nothing of the runner's own clean-up runs
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    listed = cli(db_path, "list")  # the next command recovers it, as any crashed run
    assert "FAILED ⏸ PAUSED" in listed.stdout, listed.stdout
    batch = BatchService(db_path).get(batch_id)
    assert [item.status for item in batch.items] == [
        ItemStatus.INTERRUPTED, ItemStatus.CANCELLED, ItemStatus.CANCELLED,
    ]  # fmt: skip
    assert batch.paused == "drain" and batch.holding is None
    release.touch()
    rerun = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "retry", batch_id],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        service = BatchService(db_path)
        until(lambda: service.get(batch_id).holding == "drain")  # the kept pause holds it
        assert len(stamps(starts)) == 1
        assert cli(db_path, "resume", batch_id).returncode == 0
        ended(rerun)
    finally:
        if rerun.poll() is None:
            rerun.kill()
    assert BatchService(db_path).get(batch_id).status is BatchStatus.COMPLETE


def test_an_item_whose_turn_a_pause_took_back_says_it_waits_no_more(db_path, gated, monkeypatch):
    """Under a host limit an item waits for a slot (◔ WAITING, 1st in line); a pause gives its
    turn back: it is PENDING again, not shown as waiting for a slot that it no longer asks for."""
    monkeypatch.setenv("BATCHTUI_SLOTS", "1")
    script, starts, release = gated
    batch_id = locked(db_path, script, 2, concurrency=2)
    run = started(db_path, batch_id)
    service = BatchService(db_path)
    try:
        until(lambda: len(stamps(starts)) == 1)
        until(lambda: service.get(batch_id).items[1].waiting is not None)
        assert "1st in line" in service.get(batch_id).items[1].waiting
        assert cli(db_path, "pause", batch_id).returncode == 0
        until(lambda: service.get(batch_id).items[1].waiting is None)
        assert service.get(batch_id).items[1].status is ItemStatus.PENDING
        assert json.loads(cli(db_path, "queue", "--json").stdout)["waiting"] == []
        assert cli(db_path, "resume", batch_id).returncode == 0
        release.touch()
        ended(run)
    finally:
        release.touch()
        if run.poll() is None:
            run.kill()
    assert service.get(batch_id).status is BatchStatus.COMPLETE
