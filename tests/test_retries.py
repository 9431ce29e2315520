"""Automatic retry with backoff, and stopping a broken batch early (max failures, canary)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from batchtui.core.errors import ValidationError
from batchtui.core.models import BatchConfig
from batchtui.core.states import BatchStatus, ItemStatus
from batchtui.service import BatchService

from .fakes import FakeGenerator
from .helpers import pid_alive


def run_batch(service: BatchService, contents: list[str], **config: object) -> str:
    batch = service.create("retries", generator="fake", **config)
    service.add_items(batch.id, contents)
    service.lock(batch.id)
    anyio.run(service.start, batch.id)
    return batch.id


def test_a_flaky_item_succeeds_on_its_second_attempt_after_the_backoff(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch_id = run_batch(service, ["FLAKY one", "steady"], retries=2, backoff=0.3)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE
    flaky, steady = batch.items
    assert flaky.status is ItemStatus.SUCCEEDED and flaky.attempts == 2
    first, second = flaky.attempt_history()
    assert (first.status, second.status) == (ItemStatus.FAILED, ItemStatus.SUCCEEDED)
    assert first.error == "refused: FLAKY one"
    assert first.finished_at and second.started_at
    assert (second.started_at - first.finished_at).total_seconds() >= 0.3
    assert flaky.retry_at is None and flaky.error is None
    assert steady.attempts == 1 and len(steady.attempt_history()) == 1


def test_an_item_that_always_fails_fails_after_retries_plus_one_attempts(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch_id = run_batch(service, ["FAIL always"], retries=2, backoff=0.05, backoff_max=0.1)
    (item,) = service.get(batch_id).items
    assert item.status is ItemStatus.FAILED
    assert item.attempts == 3
    assert [h.attempt for h in item.attempt_history()] == [1, 2, 3]
    assert fake_generator.calls == ["FAIL always"] * 3
    # The waits doubled (0.05 then 0.1), within the cap and the jitter (at most +25%; at the
    # cap the jitter spreads the wait below it: 80-100% of backoff_max).
    gaps = [
        (later.started_at - earlier.finished_at).total_seconds()
        for earlier, later in zip(item.attempt_history(), item.attempt_history()[1:], strict=False)
        if later.started_at and earlier.finished_at
    ]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.08


def test_while_an_item_waits_to_retry_its_slot_runs_others(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch_id = run_batch(
        service, ["FLAKY first", "second", "third"], retries=1, backoff=0.4, concurrency=1
    )
    first, second, third = service.get(batch_id).items
    failed, retried = first.attempt_history()
    assert failed.finished_at and retried.started_at and second.started_at and third.started_at
    # With one slot, the other two ran inside the first item's wait.
    assert failed.finished_at <= second.started_at < retried.started_at
    assert failed.finished_at <= third.started_at < retried.started_at
    assert fake_generator.peak == 1


def test_retry_on_limits_what_is_retried(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch_id = run_batch(service, ["FAIL no"], retries=3, backoff=0, retry_on=["timeout"])
    (item,) = service.get(batch_id).items
    assert item.status is ItemStatus.FAILED and item.attempts == 1


def test_max_failures_stops_starting_items_and_retry_runs_the_rest(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    contents = [f"FAIL {n}" for n in range(1, 6)]
    batch_id = run_batch(service, contents, max_failures="2", concurrency=1)
    batch = service.get(batch_id)
    assert fake_generator.calls == ["FAIL 1", "FAIL 2"]  # exactly 2 ran
    assert [i.status for i in batch.items] == [ItemStatus.FAILED] * 2 + [ItemStatus.SKIPPED] * 3
    assert batch.items[2].error == "skipped: 2 items failed (max failures 2)"
    assert batch.status is BatchStatus.FAILED
    progress = batch.progress()
    assert progress.failed == 2 and progress.counts[ItemStatus.SKIPPED] == 3
    # Skipped is not failed: retry runs them first (and stops again after two more failures).
    fake_generator.calls.clear()
    anyio.run(service.retry, batch_id)
    assert fake_generator.calls == ["FAIL 3", "FAIL 4"]


def test_max_failures_as_a_percentage(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    contents = [f"FAIL {n}" for n in range(1, 11)]
    run_batch(service, contents, max_failures="30%", concurrency=1)
    assert len(fake_generator.calls) == 3


def test_a_canary_that_fails_stops_the_batch_after_one_item(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    batch_id = run_batch(service, [f"FAIL {n}" for n in range(1, 6)], canary=True)
    batch = service.get(batch_id)
    assert fake_generator.calls == ["FAIL 1"]
    assert [i.status for i in batch.items][1:] == [ItemStatus.SKIPPED] * 4
    assert "the canary, item 1, failed" in (batch.items[1].error or "")


def test_a_canary_that_succeeds_runs_alone_then_the_others_fan_out(
    service: BatchService, fake_generator: type[FakeGenerator]
) -> None:
    fake_generator.delay = 0.1  # long enough for three to overlap once they may
    batch_id = run_batch(service, [f"ok {n}" for n in range(1, 7)], canary=True, concurrency=3)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE
    canary, *others = batch.items
    assert canary.finished_at is not None
    assert all(o.started_at and o.started_at >= canary.finished_at for o in others)
    assert fake_generator.peak == 3  # after the canary, the full limit


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"max_failures": "0"}, "max_failures"),
        ({"max_failures": "150%"}, "at most 100%"),
        ({"max_failures": "two"}, "max_failures"),
        ({"retries": -1}, "retries"),
        ({"retry_on": ["sometimes"]}, "retry_on"),
    ],
)
def test_bad_retry_settings_are_refused(fields: dict, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        BatchConfig(**fields)


def test_cli_flags_and_errors(run_cli) -> None:
    def cli(*args: str) -> tuple[int, str, str]:
        result = run_cli(*args)
        return result.code, result.out, result.err

    code, out, err = cli(
        "create",
        "flags",
        "--retries",
        "3",
        "--backoff",
        "2",
        "--retry-on",
        "timeout,crash",
        "--max-failures",
        "20%",
        "--canary",
        "--json",
    )
    assert code == 0, err
    config = json.loads(out)["config"]
    assert (config["retries"], config["backoff"], config["retry_on"]) == (
        3,
        2.0,
        ["timeout", "crash"],
    )
    assert (config["max_failures"], config["canary"]) == ("20%", True)
    code, _, err = cli("create", "bad", "--retry-on", "whenever")
    assert code == 2 and "retry_on" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("create", "bad", "--max-failures", "lots")
    assert code == 2 and "max_failures" in err


@pytest.mark.slow
def test_a_runner_killed_during_a_wait_resumes_the_stored_schedule(
    service: BatchService, db_path: Path, tmp_path: Path
) -> None:
    """kill -9 of a background runner while an item waits to retry: `retry` waits out the
    stored time (it does not start at once, nor lose the wait), and the item's scratch
    folder, kept across attempts, lets it finish."""
    marker = "{scratch}/tried"
    command = f'sh -c "test -e {marker} && echo ok > {{output}} || (touch {marker}; exit 3)"'
    batch = service.create(
        "resume", generator="command", command=command, output_ext="txt", retries=1, backoff=6
    )
    service.add_items(batch.id, ["only"])
    service.lock(batch.id)
    env = {**os.environ, "BATCHTUI_DB": str(db_path)}
    started = subprocess.run(
        [sys.executable, "-m", "batchtui", "start", batch.id, "--detach", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    runner = json.loads(started.stdout)["runner_pid"]
    deadline = time.monotonic() + 30
    while True:  # until the stored batch says the item waits to retry
        (item,) = service.get(batch.id).items
        if item.retry_at is not None and item.status is ItemStatus.PENDING:
            break
        assert time.monotonic() < deadline, "the item never waited to retry"
        time.sleep(0.05)
    retry_at = item.retry_at
    os.kill(runner, signal.SIGKILL)
    while pid_alive(runner):
        time.sleep(0.02)
    resumed = subprocess.run(
        [sys.executable, "-m", "batchtui", "retry", batch.id],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert resumed.returncode == 0, resumed.stderr
    (item,) = service.get(batch.id).items
    assert item.status is ItemStatus.SUCCEEDED and item.attempts == 2
    assert (
        item.attempt_history()[-1].started_at is not None
        and item.attempt_history()[-1].started_at >= retry_at
    )
    assert not Path(item.output_path or "").with_name(".work").exists()  # scratch removed


def test_bad_retry_on_value_is_a_validation_error(service: BatchService) -> None:
    with pytest.raises(ValidationError):
        service.create("x", retry_on=["nope"])
