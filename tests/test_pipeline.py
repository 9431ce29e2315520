"""Pipelines: items made in stages, each stage on its own host pool, retried and resumed on its
own, and cached by what made it. Real runner processes; every stage's program writes stamps
(stage, item, start and end times) that the tests read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository

pytestmark = [pytest.mark.usefixtures("own_slots"), pytest.mark.slow]


def until(condition, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def stamp(make_script, tmp_path: Path) -> Path:
    """`stamp.py STAGE ITEM SECONDS OUT [IN...]`: a stamp as it starts and as it ends, its
    inputs' text joined into its output; fails while `fail-STAGE-ITEM` holds a count above 0
    (counting down); waits while `hold-STAGE` exists."""
    return make_script(
        "stamp.py",
        f"""
        import json, os, sys, time
        stage, item, seconds, out, *ins = sys.argv[1:]
        folder = {str(tmp_path)!r}
        def stamp(what):
            path = os.path.join(folder, "stamps.jsonl")
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(fd, (json.dumps([stage, item, what, time.time()]) + "\\n").encode())
            os.close(fd)
        stamp("start")
        while os.path.exists(os.path.join(folder, "hold-" + stage)) or os.path.exists(
            os.path.join(folder, f"hold-{{stage}}-{{item}}")
        ):
            time.sleep(0.01)
        time.sleep(float(seconds))
        counter = os.path.join(folder, f"fail-{{stage}}-{{item}}")
        if os.path.exists(counter):
            left = int(open(counter).read())
            if left > 0:
                open(counter, "w").write(str(left - 1))
                stamp("fail")
                sys.exit(f"{{stage}} failed on purpose")
        text = "".join(open(path).read() for path in ins) + f"[{{stage}}:{{item}}]"
        open(out, "w").write(text)
        stamp("end")
        """,
    )


def batchtui(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One `batchtui` command on the test's database, as a person types it."""
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def stamps(folder: Path) -> list[tuple[str, str, str, float]]:
    path = folder / "stamps.jsonl"
    if not path.exists():
        return []
    return [tuple(json.loads(line)) for line in path.read_text().splitlines() if line]


def ran(folder: Path, stage: str) -> list[str]:
    """The items whose `stage` started, in order."""
    return [item for s, item, what, _ in stamps(folder) if s == stage and what == "start"]


def write_pools(tmp_path: Path, **pools: int) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    lines = "\n".join(f"{name} = {count}" for name, count in pools.items())
    (config / "settings.toml").write_text(f"[slots]\n{lines}\n")


def three_stages(stamp: Path, seconds: tuple[float, float, float], **render: object) -> list:
    script, draw, mux = seconds
    return [
        {"name": "script", "command": f"{stamp} script {{content}} {script} {{output}}",
         "pool": "cpu"},
        {"name": "render", "command": f"{stamp} render {{content}} {draw} {{output}} {{in}}",
         "pool": "gpu", **render},
        {"name": "mux",
         "command": f"{stamp} mux {{content}} {mux} {{output}} {{stage.script}} {{in}}",
         "pool": "cpu"},
    ]  # fmt: skip


def locked(service: BatchService, tmp_path: Path, stages: list, n: int, **config) -> str:
    batch = service.create(
        "Pq", generator="command", command="true {output}", stages=stages, concurrency=3,
        output_dir=str(tmp_path / "out"), **config,
    )  # fmt: skip
    service.add_items(batch.id, [f"i{k}" for k in range(1, n + 1)])
    service.lock(batch.id)
    return batch.id


def start(db: Path, ref: str, *extra: str, wait: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db), "start", ref, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    if wait:
        proc.communicate(timeout=120)
    return proc


def intervals(folder: Path, stage: str) -> dict[str, tuple[float, float]]:
    begun: dict[str, float] = {}
    spans: dict[str, tuple[float, float]] = {}
    for s, item, what, at in stamps(folder):
        if s != stage:
            continue
        if what == "start":
            begun[item] = at
        elif what in ("end", "fail"):
            spans[item] = (begun[item], at)
    return spans


def most_at_once(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    now = best = 0
    for _, step in edges:
        now += step
        best = max(best, now)
    return best


def test_stages_run_on_their_own_pools_and_overlap(tmp_path: Path, stamp: Path) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0.05, 0.3, 0.05)), 6)
    start(db, ref)
    batch = service.get(ref)
    assert batch.status is BatchStatus.COMPLETE, [i.error for i in batch.items]
    renders = intervals(tmp_path, "render")
    assert len(renders) == 6
    assert most_at_once(list(renders.values())) == 1  # the gpu pool has one slot
    scripts = intervals(tmp_path, "script")
    # Later items' scripts ran while earlier items rendered (the cpu pool is not held up).
    first_render_end = min(end for _, end in renders.values())
    assert sum(1 for begin, _ in scripts.values() if begin < first_render_end) >= 3
    assert most_at_once(list(scripts.values())) <= 2
    # Each output is made of its stages, in order; the item records say so.
    item = batch.items[0]
    text = Path(item.output_path).read_text()
    assert text == "[script:i1][script:i1][render:i1][mux:i1]"
    assert item.stage == "mux"
    assert item.stages is not None and list(item.stages) == ["script", "render", "mux"]
    assert all(r.status is ItemStatus.SUCCEEDED and r.key for r in item.stages.values())
    manifest = (Path(item.output_path).parent / "manifest.jsonl").read_text().splitlines()
    kinds = [json.loads(line)["kind"] for line in manifest]
    assert kinds.count("stage") == 12 and kinds.count("output") == 6


def test_a_stage_failing_twice_then_succeeding_runs_no_earlier_stage_again(
    tmp_path: Path, stamp: Path
) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    stages = three_stages(stamp, (0, 0, 0), retries=2)
    ref = locked(service, tmp_path, stages, 2, backoff=0.05)
    (tmp_path / "fail-render-i2").write_text("2")
    start(db, ref)
    batch = service.get(ref)
    assert batch.status is BatchStatus.COMPLETE
    assert sorted(ran(tmp_path, "script")) == ["i1", "i2"]
    assert sorted(ran(tmp_path, "render")) == ["i1", "i2", "i2", "i2"]
    second = batch.items[1]
    assert second.stages is not None and second.stages["render"].attempts == 3
    assert [r.stage for r in second.attempt_history()][:2] == ["render", "render"]


def test_a_stage_failing_for_good_names_the_stage(tmp_path: Path, stamp: Path) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 2)
    (tmp_path / "fail-render-i2").write_text("9")
    out = start(db, ref).stdout
    batch = service.get(ref)
    assert batch.status is BatchStatus.PARTIAL
    failed = batch.items[1]
    assert failed.status is ItemStatus.FAILED
    assert failed.error is not None and failed.error.startswith("render: exit code 1")
    assert failed.stages is not None and failed.stages["render"].status is ItemStatus.FAILED
    assert "mux" not in failed.stages and "i2" not in ran(tmp_path, "mux")
    assert out is not None


def test_a_killed_runner_resumes_at_the_stage_it_was_in(tmp_path: Path, stamp: Path) -> None:
    """kill -9 while items 2 and 3 render (item 1 is done): a retry runs their render and mux
    only — no script again, nothing of item 1."""
    write_pools(tmp_path, cpu=2, gpu=3)  # (held renders must not keep item 1 from its own)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 3)
    for item in ("i2", "i3"):
        (tmp_path / f"hold-render-{item}").write_text("")
    runner = start(db, ref, wait=False)
    until(lambda: "i1" in ran(tmp_path, "mux") and len(ran(tmp_path, "render")) >= 2)
    until(lambda: service.get(ref).items[0].status is ItemStatus.SUCCEEDED)
    runner.send_signal(signal.SIGKILL)
    runner.wait(timeout=10)
    # Any command notices the dead runner and stops what it left running (the held renders).
    listed = batchtui(db, "list")
    assert listed.returncode == 0, listed.stderr
    for item in ("i2", "i3"):
        (tmp_path / f"hold-render-{item}").unlink()
    before = len(stamps(tmp_path))
    out = batchtui(db, "retry", ref)
    assert out.returncode == 0, out.stdout + out.stderr
    batch = service.get(ref)
    assert batch.status is BatchStatus.COMPLETE, [i.error for i in batch.items]
    # What the retry ran, counted from the stamps: stages 2 and 3 of items 2 and 3, once.
    retry_starts = sorted(
        (stage, item) for stage, item, what, _ in stamps(tmp_path)[before:] if what == "start"
    )
    assert retry_starts == [("mux", "i2"), ("mux", "i3"), ("render", "i2"), ("render", "i3")]
    for item in batch.items[1:]:
        assert item.stages is not None and item.stages["script"].cached
        assert not item.stages["render"].cached and not item.stages["mux"].cached


def test_a_changed_last_stage_takes_the_earlier_ones_from_the_cache(
    tmp_path: Path, stamp: Path
) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0.2, 0.4, 0.05)), 3)
    began = time.monotonic()
    start(db, ref)
    first_run = time.monotonic() - began
    assert service.get(ref).status is BatchStatus.COMPLETE
    (tmp_path / "stamps.jsonl").unlink()
    # The same series again, its last stage changed: only that stage runs.
    copy = service.duplicate(ref, "Rs")
    stages = three_stages(stamp, (0.2, 0.4, 0.05))
    stages[2]["command"] = stages[2]["command"].replace("mux {content}", "mux2 {content}")
    service.update_config(copy.id, stages=stages)
    service.lock(copy.id)
    began = time.monotonic()
    start(db, copy.id)
    second_run = time.monotonic() - began
    batch = service.get(copy.id)
    assert batch.status is BatchStatus.COMPLETE, [i.error for i in batch.items]
    assert ran(tmp_path, "script") == [] and ran(tmp_path, "render") == []
    assert sorted(ran(tmp_path, "mux2")) == ["i1", "i2", "i3"]
    assert all(item.stages and item.stages["render"].cached for item in batch.items)
    assert Path(batch.items[0].output_path).read_text() == (
        "[script:i1][script:i1][render:i1][mux2:i1]"
    )
    # Measured, not asserted as a time: printed for the note.
    print(f"first run {first_run:.2f}s, last stage changed {second_run:.2f}s")


def test_a_whole_item_comes_from_the_cache_into_a_new_batch_folder(
    tmp_path: Path, stamp: Path
) -> None:
    """Another batch on the same output folder, same recipe: nothing runs, every output is
    put in its own (new) folder from the cache, and deleting the first batch keeps the cache."""
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 2)
    start(db, ref)
    (tmp_path / "stamps.jsonl").unlink()
    service.delete(ref, remove_outputs=True)
    again = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 2)
    start(db, again)
    batch = service.get(again)
    assert batch.status is BatchStatus.COMPLETE, [i.error for i in batch.items]
    assert stamps(tmp_path) == []
    assert [Path(i.output_path).read_text() for i in batch.items] == [
        "[script:i1][script:i1][render:i1][mux:i1]",
        "[script:i2][script:i2][render:i2][mux:i2]",
    ]
    assert all(item.stages and item.stages["mux"].cached for item in batch.items)


def test_the_canary_goes_through_every_stage_before_the_others_start(
    tmp_path: Path, stamp: Path
) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0.05, 0)), 3, canary=True)
    start(db, ref)
    assert service.get(ref).status is BatchStatus.COMPLETE
    seen = [(stage, item, what) for stage, item, what, _ in stamps(tmp_path)]
    canary_done = seen.index(("mux", "i1", "end"))
    assert all(item == "i1" for _, item, _ in seen[: canary_done + 1])
    assert {item for _, item, _ in seen[canary_done + 1 :]} == {"i2", "i3"}


def test_a_failed_canary_skips_the_others(tmp_path: Path, stamp: Path) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 3, canary=True)
    (tmp_path / "fail-render-i1").write_text("9")
    start(db, ref)
    batch = service.get(ref)
    assert [item.status for item in batch.items] == [
        ItemStatus.FAILED, ItemStatus.SKIPPED, ItemStatus.SKIPPED,
    ]  # fmt: skip
    assert batch.items[1].error == "skipped: the canary, item 1, failed"
    assert set(ran(tmp_path, "script")) == {"i1"}


def test_max_failures_lets_no_new_item_in_and_those_inside_finish(
    tmp_path: Path, stamp: Path
) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    stages = three_stages(stamp, (0, 0, 0))
    stages[0]["concurrency"] = 1  # items enter one at a time
    ref = locked(service, tmp_path, stages, 4, max_failures="1")
    (tmp_path / "hold-render-i1").write_text("")
    (tmp_path / "fail-script-i2").write_text("9")
    runner = start(db, ref, wait=False)
    until(lambda: service.get(ref).items[1].status is ItemStatus.FAILED)
    (tmp_path / "hold-render-i1").unlink()
    runner.communicate(timeout=60)
    batch = service.get(ref)
    statuses = [item.status for item in batch.items]
    assert statuses == [
        ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.SKIPPED, ItemStatus.SKIPPED,
    ]  # fmt: skip
    assert batch.items[2].error == "skipped: 1 items failed (max failures 1)"
    assert "i3" not in ran(tmp_path, "script") and "i4" not in ran(tmp_path, "script")


def test_a_cancel_stops_every_stage(tmp_path: Path, stamp: Path) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 4)
    (tmp_path / "hold-render").write_text("")
    runner = start(db, ref, wait=False)
    until(lambda: len(ran(tmp_path, "render")) == 1 and len(ran(tmp_path, "script")) == 4)
    out = batchtui(db, "cancel", ref)
    assert out.returncode == 0, out.stderr
    runner.communicate(timeout=60)
    batch = service.get(ref)
    assert batch.status.value in ("FAILED", "PARTIAL")
    assert all(item.status is ItemStatus.CANCELLED for item in batch.items), [
        (item.status, item.error) for item in batch.items
    ]
    assert ran(tmp_path, "mux") == []


def test_the_api_takes_stages_and_says_where_each_item_is(tmp_path: Path, stamp: Path) -> None:
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    with TestClient(create_app(service)) as http:
        made = http.post(
            "/v1/batch/",
            json={
                "name": "Api",
                "config": {"stages": three_stages(stamp, (0, 0, 0)),
                           "output_dir": str(tmp_path / "out")},
                "items": ["i1", "i2"],
            },
        )  # fmt: skip
        assert made.status_code == 201, made.text
        ref = made.json()["id"]
        assert [s["name"] for s in made.json()["config"]["stages"]] == ["script", "render", "mux"]
        bad = http.patch(f"/v1/batch/{ref}/config", json={"stages": [{"name": "x"}]})
        assert bad.status_code == 422 and "needs a generator or a command" in bad.text
        assert http.post(f"/v1/batch/{ref}/lock").status_code == 200
    start(db, ref)
    with TestClient(create_app(BatchService(Repository(db)))) as http:
        batch = http.get(f"/v1/batch/{ref}").json()
        item = batch["items"][0]
        assert item["stage"] == "mux"
        assert set(item["stages"]) == {"script", "render", "mux"}
        assert item["stages"]["render"]["status"] == "SUCCEEDED"
        assert len(item["stages"]["render"]["key"]) == 64
        progress = http.get(f"/v1/batch/{ref}/progress").json()
        assert progress["stages"]["render"] == {"made": 2, "cached": 0, "running": 0, "failed": 0}
        schema = http.get("/openapi.json").json()["components"]["schemas"]
        documented = set(schema["StageConfig"]["properties"])
        assert all(set(stage) <= documented for stage in batch["config"]["stages"])
        assert set(item["stages"]["render"]) <= set(schema["StageRecord"]["properties"])
        events = http.get(f"/v1/batch/{ref}/events").text
        assert '"stage":"mux"' in events and '"stages":{' in events


def test_an_item_asked_for_again_makes_every_stage_anew(tmp_path: Path, stamp: Path) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 2)
    start(db, ref)
    (tmp_path / "stamps.jsonl").unlink()
    out = batchtui(db, "retry", ref, "--item", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert sorted((s, i) for s, i, what, _ in stamps(tmp_path) if what == "start") == [
        ("mux", "i2"), ("render", "i2"), ("script", "i2"),
    ]  # fmt: skip
    item = service.get(ref).items[1]
    assert item.stages is not None and not any(r.cached for r in item.stages.values())


def test_unlocking_a_failed_pipeline_forgets_where_its_items_were(
    tmp_path: Path, stamp: Path
) -> None:
    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 1)
    (tmp_path / "fail-script-i1").write_text("9")
    start(db, ref)
    assert service.get(ref).items[0].stage == "script"
    batch = service.unlock(ref)
    assert batch.status is BatchStatus.DRAFT
    assert batch.items[0].stage is None and batch.items[0].stages is None


def test_a_stage_of_any_length_is_checked_for_size_not_the_batch_duration(
    tmp_path: Path,
) -> None:
    """A narrated card lasts as long as its voice: `any_length` checks its size and the
    platform's longest, not the batch's duration (which still holds for other stages)."""
    from batchtui.generators.media import ffmpeg_exe

    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    clip = (
        f"{ffmpeg_exe()} -y -loglevel error -f lavfi -i color=c=navy:s=1080x1920:d=1.3:r=30 "
        "-pix_fmt yuv420p {output}"
    )

    def run(any_length: bool) -> object:
        stage = {"name": "card", "command": clip, "ext": "mp4", "any_length": any_length}
        batch = service.create(
            f"L{int(any_length)}", generator="command", command="true {output}",
            stages=[stage], output_dir=str(tmp_path / "out"), duration=5,
        )  # fmt: skip
        service.add_items(batch.id, ["a"])
        service.lock(batch.id)
        start(db, batch.id)
        return service.get(batch.id).items[0]

    fixed = run(False)
    assert fixed.status is ItemStatus.FAILED
    assert "card: output lasts 1.30s, the batch is locked to 5s" in fixed.error
    free = run(True)
    assert free.status is ItemStatus.SUCCEEDED, free.error


def test_the_cache_is_listed_and_pruned_least_recently_used_first(
    tmp_path: Path, stamp: Path
) -> None:
    """`batchtui cache` and the API say how big the cache is; a prune by size removes the
    least recently used entries first and never anything that is not an entry."""
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0)), 2)
    start(db, ref)
    root = tmp_path / "out" / ".cache" / "stages"
    stray = root / "ab" / "notes.txt"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("mine")
    entries = sorted(p for p in root.rglob("*") if p.is_file() and p != stray)
    assert len(entries) == 6  # 2 items x 3 stages
    for age, path in enumerate(entries):  # the first is the least recently used
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    newest = entries[-1]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return batchtui(db, "cache", *args)

    listed = cli("--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["entries"] == 6
    assert cli("--prune").returncode == 2
    assert cli("--prune", "--max-size", "lots").returncode == 2
    size = newest.stat().st_size
    pruned = cli("--prune", "--max-size", str(size))
    assert pruned.returncode == 0, pruned.stderr
    assert "removed 5 outputs" in pruned.stdout
    assert sorted(p for p in root.rglob("*") if p.is_file()) == sorted([newest, stray])
    with TestClient(create_app(BatchService(Repository(db)))) as http:
        assert http.get("/v1/cache").json()[0]["entries"] == 1
        bad = http.post("/v1/cache/prune", json={"older": "soon"})
        assert bad.status_code == 422 and "is not an age" in bad.text
        gone = http.post("/v1/cache/prune", json={"older": "1d"}).json()
        assert gone[0]["removed"] == 1 and gone[0]["left"] == 0
    assert stray.read_text() == "mine"
    # The batch's own outputs are not the cache's: they are all still there.
    assert all(Path(item.output_path).exists() for item in service.get(ref).items)


def test_log_attempt_n_finds_a_stages_attempt_and_a_variants(tmp_path: Path, stamp: Path) -> None:
    """Each stage's attempt is one of the item's: `log --attempt N` finds its part (the header
    names the stage; before, the header did not match and the part came back empty)."""
    from batchtui.service.item_logs import HEADER, attempt_part

    write_pools(tmp_path, cpu=2, gpu=1)
    db = tmp_path / "db.json"
    service = BatchService(Repository(db))
    ref = locked(service, tmp_path, three_stages(stamp, (0, 0, 0), retries=1), 1, backoff=0.01)
    (tmp_path / "fail-render-i1").write_text("1")  # render fails once: attempts 2 and 3
    start(db, ref)
    item = service.get(ref).items[0]
    assert item.attempts == 4 and [r.stage for r in item.attempt_history()][-2:] == [
        "render", "mux",
    ]  # fmt: skip
    failed_render = batchtui(db, "log", ref, "1", "--attempt", "2")
    assert failed_render.returncode == 0, failed_render.stderr
    assert "(stage render)" in failed_render.stdout and "render failed on purpose" in (
        failed_render.stdout
    )
    assert "(stage mux)" not in failed_render.stdout
    assert HEADER.match("=== attempt 3 of item 2.v3 at 2026-12-05T02:00:00+00:00 ===")
    assert attempt_part("=== attempt 1 of item 2.v3 at t ===\nx\n", 1) == (
        "=== attempt 1 of item 2.v3 at t ===\nx\n"
    )
