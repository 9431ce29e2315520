"""Deferred starts (issue 29): `start B --after A [--after-ok]`, `--at`, `--in` — stored on the
LOCKED batch, shown as QUEUED (after 'A') / SCHEDULED (02:00) in every view from one rule,
started on its own by a background waiter, cancelled by `cancel`, and taken up again by the
next command when that waiter is killed. The run-after tests use real processes (the CLI,
the waiter, runners) and the times the store records."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from batchtui.api.app import create_app
from batchtui.core.deferral import (
    clock_text,
    parse_at,
    parse_delay,
    shown_status,
)
from batchtui.core.errors import ValidationError
from batchtui.core.models import Batch, BatchStatus
from batchtui.core.summary import BatchSummary
from batchtui.engine.liveness import pid_alive
from batchtui.service import BatchService
from batchtui.store import Repository
from tests.conftest import file_bytes
from tests.terminal import Terminal

pytestmark = pytest.mark.usefixtures("own_slots")


def until(condition, limit: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def cli(db: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real `batchtui` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture
def service(db_path: Path) -> Iterator[BatchService]:
    """The test's service; every waiter and runner its batches recorded is ended afterwards."""
    service = BatchService(Repository(db_path), flush_interval=0.02)
    yield service
    for summary in service.list_batches():
        batch = service.find_by_id(summary.id)
        if batch is None:
            continue
        pids = [batch.runner.pid] if batch.runner else []
        if batch.deferred and batch.deferred.waiter:
            pids.append(batch.deferred.waiter.pid)
        for pid in pids:
            if pid != os.getpid() and pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def script(make_script, tmp_path: Path) -> Path:
    """An item command: it fails for the content 'bad', waits for `gate-<content>` when its
    content starts with 'gated', and writes its output."""
    return make_script(
        "item.py",
        f"""
        import os, sys, time
        content = sys.argv[1]
        if content.startswith("gated"):
            while not os.path.exists(os.path.join({str(tmp_path)!r}, "gate-" + content)):
                time.sleep(0.01)
        if content == "bad":
            sys.exit(3)
        open(sys.argv[2], "w").write("ok")
        """,
    )


def locked(service: BatchService, script: Path, name: str, *contents: str) -> Batch:
    batch = service.create(
        name, generator="command", command=f"{script} {{content}} {{output}}",
        output_ext="txt", concurrency=2,
    )  # fmt: skip
    service.add_items(batch.id, list(contents or ["x"]))
    return service.lock(batch.id)


def waiter_pid(service: BatchService, batch_id: str) -> int:
    batch = service.get(batch_id)
    assert batch.deferred is not None and batch.deferred.waiter is not None, batch.deferred
    return batch.deferred.waiter.pid


# ------------------------------------------------------------------ the rule


def test_delays_parse_in_seconds_minutes_hours_and_days():
    assert parse_delay("90s") == timedelta(seconds=90)
    assert parse_delay("15m") == timedelta(minutes=15)
    assert parse_delay("3h") == timedelta(hours=3)
    assert parse_delay("1d") == timedelta(days=1)
    for bad in ("3x", "0s", "", "1.5h", "-2m", "h"):
        with pytest.raises(ValidationError):
            parse_delay(bad)


def test_a_time_of_day_earlier_than_now_means_tomorrow(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
        assert parse_at("02:00", now) == datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
        assert parse_at("04:30", now) == datetime(2026, 12, 4, 4, 30, tzinfo=UTC)
        assert parse_at("03:00", now) == datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # now: next
        assert parse_at("2026-12-24T02:00", now) == datetime(2026, 12, 24, 2, 0, tzinfo=UTC)
        for bad in ("25:00", "2:61", "tomorrow", "2026-12-01T02:00", "2030-01-01T00:00"):
            with pytest.raises(ValidationError):
                parse_at(bad, now)
        assert clock_text(datetime(2026, 12, 5, 2, 0, tzinfo=UTC), now) == "02:00"
        assert clock_text(datetime(2026, 12, 24, 2, 0, tzinfo=UTC), now) == "2026-12-24 02:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_one_rule_gives_the_shown_word_from_the_stored_deferral():
    after = {"after": "a1", "after_name": "Series A"}
    assert shown_status(BatchStatus.LOCKED, after) == "QUEUED (after 'Series A')"
    assert (
        shown_status(BatchStatus.LOCKED, after | {"after_ok": True})
        == "QUEUED (after 'Series A', if COMPLETE)"
    )
    # Seconds are shown only when the time has them (02:00, not 02:00:00).
    hour = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=35, second=0, microsecond=0)
    assert shown_status(BatchStatus.LOCKED, {"at": hour.isoformat()}) == (
        f"SCHEDULED ({hour.astimezone():%H:%M})"
    )
    odd = hour.replace(second=7)
    assert shown_status(BatchStatus.LOCKED, {"at": odd.isoformat()}) == (
        f"SCHEDULED ({odd.astimezone():%H:%M:%S})"
    )
    assert shown_status(BatchStatus.LOCKED, None) == "LOCKED"
    assert shown_status(BatchStatus.PROCESSING, after) == "PROCESSING"  # only a LOCKED one


def test_a_status_change_ends_a_deferral_and_the_list_reads_it_from_the_index(
    service, script, db_path
):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    queued = service.queue_start(b.id, after=a.id)
    assert queued.shown_status == "QUEUED (after 'Al')"
    summaries = {s.id: s for s in service.list_batches()}
    assert summaries[b.id].shown_status == "QUEUED (after 'Al')"
    assert BatchSummary.of(queued).shown_status == "QUEUED (after 'Al')"
    assert json.loads(cli(db_path, "list", "--json").stdout)[1]["shown_status"] == (
        "QUEUED (after 'Al')"
    )
    service.cancel(b.id)
    unqueued = service.get(b.id)
    assert unqueued.deferred is None and unqueued.status is BatchStatus.LOCKED
    queued = service.queue_start(b.id, delay="1h")
    queued.status = BatchStatus.DRAFT  # unlock: the move ends the deferral
    assert queued.deferred is None and queued.shown_status == "DRAFT"


# ------------------------------------------------------------ run after (real)


@pytest.mark.slow
def test_b_starts_within_a_second_of_a_ending(service, script, db_path, tmp_path):
    a = locked(service, script, "Al", "gated1")
    b = locked(service, script, "Bo", "x", "y")
    queued = cli(db_path, "start", "Bo", "--after", "Al")
    assert queued.returncode == 0, queued.stderr
    assert "QUEUED (after 'Al')" in queued.stdout
    listed = cli(db_path, "list").stdout
    assert "QUEUED (after 'Al')" in listed, listed
    shown = cli(db_path, "show", "Bo").stdout
    assert "status    ⧗ QUEUED (after 'Al')" in shown
    assert f"waiting   pid {waiter_pid(service, b.id)} on " in shown
    progress = json.loads(cli(db_path, "progress", "Bo", "--json").stdout)
    assert progress["status"] == "LOCKED" and progress["shown_status"] == "QUEUED (after 'Al')"

    run_a = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", "Al"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        until(lambda: service.get(a.id).status is BatchStatus.PROCESSING, what="A running")
        time.sleep(0.6)  # (a look or more of B's waiter while A runs: B must not start)
        assert service.get(b.id).status is BatchStatus.LOCKED
        (tmp_path / "gate-gated1").touch()
        assert run_a.wait(timeout=60) == 0
    finally:
        if run_a.poll() is None:
            run_a.kill()
    until(lambda: service.get(b.id).status is BatchStatus.COMPLETE, what="B to complete")
    ended_a, ran_b = service.get(a.id), service.get(b.id)
    assert ended_a.finished_at is not None and ran_b.started_at is not None
    gap = (ran_b.started_at - ended_a.finished_at).total_seconds()
    assert 0 <= gap < 1.0, gap
    assert ran_b.deferred is None


@pytest.mark.slow
def test_a_killed_waiter_is_replaced_by_the_next_command_and_b_still_starts(
    service, script, db_path, tmp_path
):
    a = locked(service, script, "Al", "gated2")
    b = locked(service, script, "Bo")
    assert cli(db_path, "start", "Bo", "--after", "Al").returncode == 0
    first = waiter_pid(service, b.id)
    until(lambda: pid_alive(first), what="the waiter")
    os.kill(first, signal.SIGKILL)
    until(lambda: not pid_alive(first), what="the waiter to die")

    listed = cli(db_path, "list")
    assert "QUEUED (after 'Al')" in listed.stdout, listed.stdout
    second = waiter_pid(service, b.id)
    assert second != first and pid_alive(second)
    assert cli(db_path, "list").returncode == 0
    assert waiter_pid(service, b.id) == second  # a live waiter is left alone

    assert cli(db_path, "start", "Al", "--detach").returncode == 0
    (tmp_path / "gate-gated2").touch()
    until(lambda: service.get(b.id).status is BatchStatus.COMPLETE, what="B to complete")
    gap = service.get(b.id).started_at - service.get(a.id).finished_at
    assert timedelta(0) <= gap < timedelta(seconds=1)


@pytest.mark.slow
def test_a_start_queued_after_a_batch_that_ended_while_nobody_waited_starts_at_once(
    service, script, db_path
):
    # The waiter died, A ended meanwhile (a reboot, say): the next command starts B.
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    assert cli(db_path, "start", "Bo", "--after", "Al").returncode == 0
    os.kill(waiter_pid(service, b.id), signal.SIGKILL)
    assert cli(db_path, "start", "Al").returncode == 0  # (its own recovery takes B up)
    until(lambda: service.get(b.id).status is BatchStatus.COMPLETE, what="B to complete")
    assert service.get(a.id).status is BatchStatus.COMPLETE


@pytest.mark.slow
def test_a_chain_starts_in_order(service, script, db_path):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    c = locked(service, script, "Cy")
    assert cli(db_path, "start", "Cy", "--after", "Bo").returncode == 0
    assert cli(db_path, "start", "Bo", "--after", "Al", "--after-ok").returncode == 0
    assert "QUEUED (after 'Al', if COMPLETE)" in cli(db_path, "list").stdout
    assert cli(db_path, "start", "Al").returncode == 0
    until(lambda: service.get(c.id).status is BatchStatus.COMPLETE, what="C to complete")
    a, b, c = (service.get(x.id) for x in (a, b, c))
    assert a.finished_at <= b.started_at and b.finished_at <= c.started_at


@pytest.mark.slow
def test_after_ok_with_a_partial_end_leaves_b_locked_saying_why_and_drops_the_chain(
    service, script, db_path
):
    locked(service, script, "Al", "fine", "bad")
    b = locked(service, script, "Bo")
    c = locked(service, script, "Cy")
    assert cli(db_path, "start", "Bo", "--after", "Al", "--after-ok").returncode == 0
    assert cli(db_path, "start", "Cy", "--after", "Bo").returncode == 0
    waiters = [waiter_pid(service, b.id), waiter_pid(service, c.id)]
    assert cli(db_path, "start", "Al").returncode == 1  # PARTIAL
    until(lambda: service.get(b.id).start_note is not None, what="B's note")
    dropped = service.get(b.id)
    assert dropped.status is BatchStatus.LOCKED and dropped.deferred is None
    assert dropped.start_note == "did not start: 'Al' ended PARTIAL, not COMPLETE (--after-ok)"
    shown = cli(db_path, "show", "Bo").stdout
    assert "■ LOCKED" in shown and "note      did not start: 'Al' ended PARTIAL" in shown
    chained = service.get(c.id)
    assert chained.deferred is None and chained.start_note == "did not start: 'Bo' did not start"
    until(lambda: not any(pid_alive(pid) for pid in waiters), what="the waiters to leave")
    assert service.get(b.id).started_at is None


@pytest.mark.slow
def test_cancel_takes_a_queued_start_back(service, script, db_path):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    assert cli(db_path, "start", "Bo", "--after", "Al").returncode == 0
    waiter = waiter_pid(service, b.id)
    cancelled = cli(db_path, "cancel", "Bo")
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout == "the queued start of 'Bo' is cancelled; it stays LOCKED\n"
    until(lambda: not pid_alive(waiter), what="the waiter to end")
    assert service.get(b.id).deferred is None
    assert cli(db_path, "start", "Al").returncode == 0
    assert service.get(a.id).status is BatchStatus.COMPLETE
    assert "■ LOCKED" in cli(db_path, "show", "Bo").stdout
    assert service.get(b.id).started_at is None
    again = cli(db_path, "cancel", "Bo")  # nothing queued, nothing running: as before
    assert again.returncode == 2 and "cancelling needs PROCESSING" in again.stderr


# ---------------------------------------------------------- scheduled starts


@pytest.mark.slow
def test_in_two_seconds_starts_about_two_seconds_later(service, script, db_path):
    b = locked(service, script, "Bo")
    queued = cli(db_path, "start", "Bo", "--in", "2s", "--json")
    assert queued.returncode == 0, queued.stderr
    data = json.loads(queued.stdout)
    assert data["shown_status"].startswith("SCHEDULED (")
    assert "SCHEDULED (" in cli(db_path, "list").stdout
    until(lambda: service.get(b.id).status is BatchStatus.COMPLETE, what="B to complete")
    ran = service.get(b.id)
    at = datetime.fromisoformat(data["deferred"]["at"])
    assert at - datetime.fromisoformat(data["deferred"]["queued_at"]) == timedelta(seconds=2)
    assert timedelta(0) <= ran.started_at - at < timedelta(seconds=1)


def test_at_stores_the_next_such_time_and_cancel_takes_it_back(service, script, db_path):
    b = locked(service, script, "Bo")
    queued = cli(db_path, "start", "Bo", "--at", "00:00", "--json")
    assert queued.returncode == 0, queued.stderr
    at = service.get(b.id).deferred.at
    now = datetime.now(UTC)
    assert now < at <= now + timedelta(days=1)
    assert at.astimezone().strftime("%H:%M") == "00:00"
    assert json.loads(queued.stdout)["shown_status"] == f"SCHEDULED ({clock_text(at)})"
    waiter = waiter_pid(service, b.id)
    assert cli(db_path, "cancel", "Bo").returncode == 0
    until(lambda: not pid_alive(waiter), what="the waiter to end")
    assert service.get(b.id).deferred is None


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--after", "Bo"), "cannot start after itself"),
        (("--after", "nope"), "nope"),
        (("--after", "Al", "--at", "02:00"), "a start waits for one thing"),
        (("--in", "3x"), "--in wants a whole number and a unit"),
        (("--at", "25:00"), "--at wants a time of day"),
        (("--at", "2020-01-01T02:00"), "is in the past"),
        (("--after-ok",), "--after-ok goes with --after"),
    ],
)
def test_a_bad_deferral_is_refused_in_one_line_and_changes_nothing(
    service, script, db_path, args, says
):
    locked(service, script, "Al")
    locked(service, script, "Bo")
    before = file_bytes(db_path)
    refused = cli(db_path, "start", "Bo", *args)
    assert refused.returncode == 2, refused
    assert refused.stderr.count("\n") == 1 and says in refused.stderr, refused.stderr
    assert file_bytes(db_path) == before


def test_a_cycle_is_refused(service, script, db_path):
    locked(service, script, "Al")
    locked(service, script, "Bo")
    locked(service, script, "Cy")
    assert cli(db_path, "start", "Bo", "--after", "Al").returncode == 0
    assert cli(db_path, "start", "Cy", "--after", "Bo").returncode == 0
    before = file_bytes(db_path)
    refused = cli(db_path, "start", "Al", "--after", "Cy")
    assert refused.returncode == 2
    assert refused.stderr == (
        "batchtui: error: a cycle: 'Al' → 'Cy' → 'Bo' → 'Al' would wait for each other for ever\n"
    )
    assert file_bytes(db_path) == before
    again = cli(db_path, "start", "Bo", "--after", "Cy")
    assert again.returncode == 2 and "already QUEUED (after 'Al')" in again.stderr


def test_after_ok_refuses_a_batch_that_already_ended_otherwise(service, script, db_path):
    locked(service, script, "Al", "fine", "bad")
    locked(service, script, "Bo")
    assert cli(db_path, "start", "Al").returncode == 1
    before = file_bytes(db_path)
    refused = cli(db_path, "start", "Bo", "--after", "Al", "--after-ok")
    assert refused.returncode == 2 and "already ended PARTIAL" in refused.stderr
    assert file_bytes(db_path) == before


# ----------------------------------------------------------------------- API


def test_the_api_queues_a_start_and_shows_the_word(service, script):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    with TestClient(create_app(service)) as http:
        answer = http.post(f"/v1/batch/{b.id}/start", json={"after": a.id, "after_ok": True})
        assert answer.status_code == 202, answer.text
        assert answer.json()["shown_status"] == "QUEUED (after 'Al', if COMPLETE)"
        listed = http.get("/v1/batch/").json()
        shown = {entry["id"]: entry["shown_status"] for entry in _entries(listed)}
        assert shown[b.id] == "QUEUED (after 'Al', if COMPLETE)"
        bad = http.post(f"/v1/batch/{a.id}/start", json={"in": "soon"})
        assert bad.status_code in (400, 422) and "--in wants" in bad.text
        cancelled = http.post(f"/v1/batch/{b.id}/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["shown_status"] == "LOCKED"


def _entries(listed: object) -> list[dict]:
    if isinstance(listed, dict):
        for value in listed.values():
            if isinstance(value, list):
                return value
    assert isinstance(listed, list)
    return listed


# ----------------------------------------------------------------------- TUI


@pytest.mark.slow
def test_the_tui_list_shows_queued_and_scheduled(service, script, db_path):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    c = locked(service, script, "Cy")
    service.queue_start(b.id, after=a.id)
    service.queue_start(c.id, delay="1h")
    at = clock_text(service.get(c.id).deferred.at)
    with Terminal.batchtui(db_path) as term:
        screen = term.wait_for("SCHEDULED")
        assert "■ LOCKED" in screen
        rows = {line.split()[0]: line for line in screen.splitlines()[2:5]}
        # The word in the status column, what it waits for where the bar would be.
        assert "⧗ QUEUED" in rows["Bo"] and "after 'Al'" in rows["Bo"], screen
        assert "⧗ SCHEDULED" in rows["Cy"] and at in rows["Cy"], screen
        assert "░" not in rows["Bo"] + rows["Cy"] and "░" in rows["Al"]
        term.send(b"q")
        assert term.wait_exit() == 0


@pytest.mark.slow
def test_a_plain_start_starts_a_queued_batch_now_and_unlock_ends_a_queued_start(
    service, script, db_path
):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    c = locked(service, script, "Cy")
    service.queue_start(b.id, after=a.id)
    service.queue_start(c.id, delay="1h")
    waiters = [waiter_pid(service, b.id), waiter_pid(service, c.id)]
    assert cli(db_path, "start", "Bo").returncode == 0
    assert service.get(b.id).status is BatchStatus.COMPLETE
    unlocked = cli(db_path, "unlock", "Cy")
    assert unlocked.returncode == 0, unlocked.stderr
    assert service.get(c.id).deferred is None
    until(lambda: not any(pid_alive(pid) for pid in waiters), what="the waiters to leave")
    relocked = service.lock(c.id)
    assert relocked.shown_status == "LOCKED" and service.get(b.id).shown_status == "COMPLETE"


@pytest.mark.slow
def test_deleting_the_batch_waited_for_drops_the_start_saying_why(service, script, db_path):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    service.queue_start(b.id, after=a.id)
    log = service.get(b.id).deferred.waiter.log_path
    service.delete(a.id)
    until(lambda: service.get(b.id).start_note is not None, what="B's note")
    dropped = service.get(b.id)
    assert dropped.deferred is None and dropped.status is BatchStatus.LOCKED
    assert dropped.start_note == "did not start: 'Al', which it waited for, was deleted"
    until(lambda: "not started: did not start: 'Al'" in Path(log).read_text(), what="its log")


def test_the_host_queue_lists_queued_and_scheduled_batches(service, script, db_path):
    a = locked(service, script, "Al")
    b = locked(service, script, "Bo")
    c = locked(service, script, "Cy")
    service.queue_start(b.id, after=a.id)
    service.queue_start(c.id, delay="1h")
    service.set_priority(c.id, 5)
    states = {claim["name"]: claim for claim in service.host_queue().as_json()["batches"]}
    assert states["Bo"]["state"] == "QUEUED (after 'Al')" and states["Bo"]["to_go"] == 1
    assert states["Cy"]["state"].startswith("SCHEDULED (") and states["Cy"]["priority"] == 5
    assert "Al" not in states  # LOCKED, not queued: no claim
