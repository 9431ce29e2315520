"""Cost and budgets (issue 31): items print `COST 0.12`; totals per attempt, item and batch,
right after retries; a budget stops new starts and the batch ends PARTIAL with SKIPPED items;
the canary's forecast within 20% of the real total for ten equal items. Real runners."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("own_slots")]


def batchtui(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def paid(make_script, tmp_path: Path) -> Path:
    """`paid.py CONTENT OUT SECONDS`: prints COST 0.10 twice (two calls of 0.05), sleeps,
    writes OUT; content 'flaky' fails its first attempt (after spending)."""
    return make_script(
        "paid.py",
        f"""
        import os, sys, time
        content, out, seconds = sys.argv[1:]
        print("COST 0.05", flush=True)
        print("COST 0.05", file=sys.stderr, flush=True)
        print("COST lots", flush=True)  # not an amount: not counted (said once in the log)
        time.sleep(float(seconds))
        flag = os.path.join({str(tmp_path)!r}, "failed-" + content)
        if content == "flaky" and not os.path.exists(flag):
            open(flag, "w").close()
            sys.exit("flaky on purpose")
        open(out, "w").write(content)
        """,
    )


def make(db: Path, script: Path, contents: list[str], *flags: str, seconds: float = 0.0) -> str:
    made = batchtui(
        db, "create", "Paid", "--generator", "command", "--command",
        f"{sys.executable} {script} {{content}} {{output}} {seconds}", *flags,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert batchtui(db, "add", "Paid", *contents).returncode == 0
    assert batchtui(db, "lock", "Paid").returncode == 0
    return BatchService(Repository(db)).get("Paid").id


def test_costs_add_up_per_attempt_item_and_batch_after_a_retry(db_path, paid):
    make(db_path, paid, ["one", "flaky", "three"], "--retries", "1", "--backoff", "0")
    ran = batchtui(db_path, "start", "Paid")
    assert ran.returncode == 0, ran.stderr
    assert "cost 0.40" in ran.stdout  # the last line: three items, and flaky's first try
    batch = BatchService(Repository(db_path)).get("Paid")
    costs = {item.content: item.cost for item in batch.items}
    assert costs == {"one": 0.1, "flaky": 0.2, "three": 0.1}
    flaky = next(item for item in batch.items if item.content == "flaky")
    assert [record.cost for record in flaky.attempt_history()] == [0.1, 0.1]
    assert batch.progress().cost == pytest.approx(0.4)
    assert "not counted: 'COST lots'" in Path(flaky.log_path or "").read_text()
    shown = batchtui(db_path, "show", "Paid")
    assert "COST" in shown.stdout and "0.20" in shown.stdout
    manifest = Path(flaky.output_path or "").parent / "manifest.jsonl"
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert {line["content"]: line.get("cost") for line in lines if line["kind"] == "output"} == {
        "one": 0.1, "flaky": 0.1, "three": 0.1,  # the attempt that made it
    }  # fmt: skip
    again = batchtui(db_path, "retry", "Paid", "--item", "1")
    assert again.returncode == 0, again.stderr
    batch = BatchService(Repository(db_path)).get("Paid")
    assert batch.progress().cost == pytest.approx(0.5)  # a run again costs again


def test_a_budget_stops_new_starts_and_the_rest_are_skipped(db_path, paid):
    make(db_path, paid, [f"item{n}" for n in range(8)], "--concurrency", "1")
    ran = batchtui(db_path, "start", "Paid", "--budget", "0.3")
    assert ran.returncode == 1  # PARTIAL
    batch = BatchService(Repository(db_path)).get("Paid")
    assert batch.status is BatchStatus.PARTIAL
    statuses = [item.status for item in batch.items]
    assert statuses == [ItemStatus.SUCCEEDED] * 3 + [ItemStatus.SKIPPED] * 5
    skipped = batch.items[3]
    assert skipped.error == "skipped: budget 0.3 reached: spent 0.30"
    assert batch.progress().cost == pytest.approx(0.3)
    assert "cost 0.30 of budget 0.30" in ran.stdout
    raised = batchtui(db_path, "retry", "Paid", "--budget", "0.5")  # a retry raises it
    assert raised.returncode == 1
    batch = BatchService(Repository(db_path)).get("Paid")
    assert sum(item.status is ItemStatus.SUCCEEDED for item in batch.items) == 5
    assert batch.config.budget == 0.5


def test_a_bad_budget_is_refused_in_one_line_and_a_refused_start_keeps_the_old(db_path, paid):
    make(db_path, paid, ["one"], "--budget", "2")
    for bad in ("-1", "nan", "inf", "0", "lots"):
        result = batchtui(db_path, "start", "Paid", "--budget", bad)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, bad
    assert batchtui(db_path, "unlock", "Paid").returncode == 0  # DRAFT: a start is refused
    refused = batchtui(db_path, "start", "Paid", "--budget", "9")
    assert refused.returncode == 2
    assert BatchService(Repository(db_path)).get("Paid").config.budget == 2.0


def test_the_canarys_forecast_is_within_a_fifth_of_the_real_run(db_path, paid):
    make(db_path, paid, [f"item{n}" for n in range(10)], "--canary", "--concurrency", "3",
         seconds=0.5)  # fmt: skip
    ran = batchtui(db_path, "start", "Paid")
    assert ran.returncode == 0, ran.stderr
    progress = BatchService(Repository(db_path)).get("Paid").progress()
    forecast = progress.forecast
    assert forecast is not None and forecast.slots == 3
    assert progress.elapsed is not None
    assert abs(forecast.seconds - progress.elapsed) <= 0.2 * progress.elapsed
    assert forecast.cost == pytest.approx(progress.cost) == pytest.approx(1.0)


def test_confirm_forecast_waits_for_a_yes_after_the_canary(db_path, paid):
    import time

    batch_id = make(db_path, paid, [f"item{n}" for n in range(4)], "--canary")
    not_yet = batchtui(db_path, "confirm", "Paid")
    assert not_yet.returncode == 2 and "starting" not in not_yet.stderr
    started = batchtui(db_path, "start", "Paid", "--confirm-forecast", "--detach")
    assert started.returncode == 0, started.stderr
    service = BatchService(Repository(db_path))
    deadline = time.monotonic() + 60
    while not service.get(batch_id).awaiting_confirm:
        assert time.monotonic() < deadline, "the run never asked for a yes"
        time.sleep(0.02)
    batch = service.get(batch_id)
    assert [item.status for item in batch.items] == [ItemStatus.SUCCEEDED] + [
        ItemStatus.PENDING
    ] * 3  # nothing else started: it waits
    said = batchtui(db_path, "progress", "Paid")
    assert "forecast: about" in said.stdout and "cost 0.40" in said.stdout
    assert f"waiting for a yes: batchtui confirm {batch_id}" in said.stdout
    yes = batchtui(db_path, "confirm", "Paid")
    assert yes.returncode == 0, yes.stderr
    while service.get(batch_id).status is BatchStatus.PROCESSING:
        assert time.monotonic() < deadline, "the run did not go on after the yes"
        time.sleep(0.02)
    batch = service.get(batch_id)
    assert batch.status is BatchStatus.COMPLETE and not batch.awaiting_confirm
    assert batchtui(db_path, "confirm", "Paid").returncode == 2  # nothing waits now


def test_confirm_forecast_without_a_canary_is_refused_in_one_line(db_path, paid):
    make(db_path, paid, ["one"])
    refused = batchtui(db_path, "start", "Paid", "--confirm-forecast")
    assert refused.returncode == 2 and "confirm_forecast needs canary" in refused.stderr
    assert BatchService(Repository(db_path)).get("Paid").config.confirm_forecast is False


def test_costs_on_a_render_farm_and_across_a_pipelines_stages(tmp_path, db_path):
    """On a real farm (`dask scheduler`, a worker) each stage's COST lines reach the
    coordinator with its log lines: an item of three stages, each printing COST 0.05, cost
    0.15."""
    pytest.importorskip("distributed")
    from .farm import Farm

    farm = Farm(tmp_path / "farm-logs")
    try:
        farm.start_scheduler()
        farm.add_worker("w1")
        farm.wait_for_workers(1)
        step = "sh -c 'echo COST 0.05; echo $0 > \"$1\"' {name} {output}"
        stages = [{"name": n, "command": step.replace("{name}", n)} for n in ("a", "b", "c")]
        service = BatchService(Repository(db_path))
        batch = service.create(
            "Farmed", generator="command", command="true {output}", stages=stages,
            output_dir=str(tmp_path / "out"),
        )  # fmt: skip
        service.add_items(batch.id, ["one", "two"])
        service.lock(batch.id)
        ran = batchtui(db_path, "start", batch.id, "--cluster", farm.address)
        assert ran.returncode == 0, ran.stdout + ran.stderr
    finally:
        farm.stop()
    batch = BatchService(Repository(db_path)).get(batch.id)
    assert [item.cost for item in batch.items] == [pytest.approx(0.15)] * 2
    assert batch.progress().cost == pytest.approx(0.3)
