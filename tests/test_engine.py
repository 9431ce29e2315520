"""The engine through the service: concurrency, isolation, timeouts, cancel, output checks."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import anyio
import pytest

from batchtui.core.events import ItemProgress
from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.engine import LocalExecutor, OutputFinisher, Scheduler
from batchtui.engine.layout import jobs_for
from batchtui.service import BatchService
from batchtui.store import Repository

from .fakes import FakeGenerator
from .helpers import pid_alive, wait_until

pytestmark = pytest.mark.anyio


def local_scheduler(emit, *, concurrency: int) -> Scheduler:
    """A scheduler running the fake generator here, as a runner would build it."""
    generator = FakeGenerator()
    return Scheduler(
        LocalExecutor(generator), OutputFinisher(generator.name), emit, concurrency=concurrency
    )


def fake_batch(service: BatchService, contents: list[str], **config) -> str:
    batch = service.create("Fake", generator="fake", output_ext="txt", **config)
    service.add_items(batch.id, contents)
    service.lock(batch.id)
    return batch.id


def command_batch(service: BatchService, command: str, contents: list[str], **config) -> str:
    config.setdefault("output_ext", "txt")
    batch = service.create("Cmd", generator="command", command=command, **config)
    service.add_items(batch.id, contents)
    service.lock(batch.id)
    return batch.id


async def test_never_more_than_the_limit_run_at_once(service, fake_generator):
    fake_generator.gate = anyio.Event()
    ref = fake_batch(service, [f"item {n}" for n in range(9)], max_items=9)
    async with anyio.create_task_group() as tg:
        tg.start_soon(service.start, ref)
        await wait_until(lambda: fake_generator.active == 3)
        # Give waiting items every chance to (wrongly) take a fourth slot.
        for _ in range(50):
            await anyio.sleep(0)
        assert fake_generator.active == 3
        fake_generator.gate.set()
    assert fake_generator.peak == 3
    assert service.get(ref).status is BatchStatus.COMPLETE


async def test_changing_the_limit_mid_run_takes_effect(service, fake_generator):
    fake_generator.gate = anyio.Event()
    ref = fake_batch(service, [f"item {n}" for n in range(9)], max_items=9, concurrency=2)
    async with anyio.create_task_group() as tg:
        tg.start_soon(service.start, ref)
        await wait_until(lambda: fake_generator.active == 2)
        service.set_concurrency(ref, 5)
        await wait_until(lambda: fake_generator.active == 5)
        fake_generator.gate.set()
    assert fake_generator.peak == 5
    assert service.get(ref).config.concurrency == 5


async def test_limit_changed_by_another_process_is_picked_up(service, db_path, fake_generator):
    fake_generator.gate = anyio.Event()
    ref = fake_batch(service, [f"item {n}" for n in range(6)], concurrency=1)
    other = BatchService(Repository(db_path))  # as a second batchtui process would
    async with anyio.create_task_group() as tg:
        tg.start_soon(service.start, ref)
        await wait_until(lambda: fake_generator.active == 1)
        other.set_concurrency(ref, 4)
        await wait_until(lambda: fake_generator.active == 4)
        fake_generator.gate.set()
    assert fake_generator.peak == 4


@pytest.mark.slow
async def test_real_processes_respect_the_limit(service, make_script, tmp_path):
    """9 command items that each sleep, concurrency 3: their run intervals never overlap by 4."""
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    script = make_script(
        "nap.py",
        f"""
        import sys, time, pathlib
        out, index = sys.argv[1], sys.argv[2]
        stamps = pathlib.Path({str(stamps)!r})
        (stamps / f"{{index}}.start").write_text(repr(time.monotonic()))
        time.sleep(0.3)
        (stamps / f"{{index}}.end").write_text(repr(time.monotonic()))
        pathlib.Path(out).write_text("slept")
        """,
    )
    ref = command_batch(service, f"{script} {{output}} {{index}}", [f"n{n}" for n in range(9)])
    batch = await service.start(ref)
    assert batch.status is BatchStatus.COMPLETE
    edges = []
    for n in range(1, 10):
        edges.append((float((stamps / f"{n}.start").read_text()), 1))
        edges.append((float((stamps / f"{n}.end").read_text()), -1))
    running = peak = 0
    for _, step in sorted(edges):
        running += step
        peak = max(peak, running)
    assert peak == 3


async def test_one_failure_never_stops_the_others(service, fake_generator):
    ref = fake_batch(service, ["a", "FAIL b", "BOOM c", "d"])
    batch = await service.start(ref)
    statuses = [item.status for item in batch.items]
    assert statuses == [
        ItemStatus.SUCCEEDED,
        ItemStatus.FAILED,
        ItemStatus.FAILED,
        ItemStatus.SUCCEEDED,
    ]
    assert batch.status is BatchStatus.PARTIAL
    assert batch.items[1].error == "refused: FAIL b"
    assert batch.items[2].error == "RuntimeError: generator bug"
    assert "Traceback" in Path(batch.items[2].log_path).read_text()


async def test_all_failing_ends_failed(service, fake_generator):
    batch = await service.start(fake_batch(service, ["FAIL 1", "FAIL 2"]))
    assert batch.status is BatchStatus.FAILED


def manifest_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


async def test_success_writes_output_and_its_manifest_line(service, fake_generator):
    batch = await service.start(fake_batch(service, ["Why is space dark?"]))
    item = batch.items[0]
    output = Path(item.output_path)
    assert output.name == "01-why-is-space-dark.txt"
    assert output.parent.parent == Path(batch.config.output_dir)
    assert output.read_text() == "Why is space dark?"
    run, line = manifest_lines(output.parent)
    assert run["kind"] == "run" and run["batch_id"] == batch.id and run["generator"] == "fake"
    assert run["config_hash"] == batch.config_hash and run["config"]["width"] == 1080
    assert run["started_at"] <= line["started_at"], "the run line says when the run began"
    assert line["kind"] == "output" and line["output"] == output.name
    assert line["item_id"] == item.id and line["content"] == "Why is space dark?"
    assert line["config_hash"] == batch.config_hash and line["attempts"] == 1
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name, "manifest.jsonl"]
    assert item.attempts == 1 and item.progress == 1.0
    assert item.started_at <= item.finished_at
    assert not list(output.parent.glob(".*part*")), "temporary outputs are cleaned up"


async def test_manifest_has_one_line_per_output_whatever_the_content(service, fake_generator):
    awkward = ['quotes " and\nnewlines', "ünïcode {braces}: [brackets]", "FAIL here", "plain"]
    batch = await service.start(fake_batch(service, awkward))
    folder = Path(batch.items[0].output_path).parent
    run, *outputs = manifest_lines(folder)
    assert run["kind"] == "run"
    succeeded = [it for it in batch.items if it.status is ItemStatus.SUCCEEDED]
    assert len(succeeded) == 3, "the failed item has no output and no line"
    assert {o["item_id"]: o["content"] for o in outputs} == {it.id: it.content for it in succeeded}


async def test_a_retry_appends_its_own_run_to_the_manifest(service, fake_generator):
    ref = fake_batch(service, ["FLAKY once", "fine"])
    first = await service.start(ref)
    assert first.status is BatchStatus.PARTIAL
    again = await service.retry(ref)
    assert again.status is BatchStatus.COMPLETE
    lines = manifest_lines(Path(again.items[1].output_path).parent)
    assert [line["kind"] for line in lines] == ["run", "output", "run", "output"]
    assert lines[3]["item_id"] == again.items[0].id and lines[3]["attempts"] == 2


@pytest.mark.slow
async def test_timeout_fails_the_item_and_kills_its_process_group(service, make_script, tmp_path):
    pids = tmp_path / "pids"
    script = make_script(
        "hang.py",
        f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pids)!r}, "w").write(f"{{child.pid}}")
        time.sleep(60)
        """,
    )
    ref = command_batch(service, f"{script} {{output}}", ["slow"], timeout=1)
    batch = await service.start(ref)
    item = batch.items[0]
    assert item.status is ItemStatus.FAILED
    assert item.error == "timed out after 1s"
    grandchild = int(pids.read_text())
    await wait_until(lambda: not pid_alive(grandchild), limit=5)


async def test_cancel_stops_running_and_waiting_items(service, make_script, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    script = make_script(
        "wait.py",
        f"""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open(os.path.join({str(pids)!r}, sys.argv[1]), "w").write(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(60)
        """,
    )
    ref = command_batch(service, f"{script} {{index}} {{output}}", list("abcde"), concurrency=2)
    async with anyio.create_task_group() as tg:
        tg.start_soon(service.start, ref)
        await wait_until(lambda: len(list(pids.iterdir())) == 2)
        service.cancel(ref)
    batch = service.get(ref)
    assert [item.status for item in batch.items] == [ItemStatus.CANCELLED] * 5
    assert batch.status is BatchStatus.FAILED
    assert batch.runner is None
    for record in pids.iterdir():
        for pid in map(int, record.read_text().split()):
            await wait_until(lambda pid=pid: not pid_alive(pid), limit=5)


async def test_cancelled_items_run_again_on_retry(service, fake_generator):
    fake_generator.gate = anyio.Event()
    ref = fake_batch(service, list("abcd"), concurrency=1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(service.start, ref)
        await wait_until(lambda: fake_generator.active == 1)
        service.cancel(ref)
    fake_generator.gate = None
    batch = await service.retry(ref)
    assert batch.status is BatchStatus.COMPLETE
    assert [item.attempts for item in batch.items] == [2, 1, 1, 1]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("import sys; sys.exit(0)", "finished without writing its output file"),
        ("import sys; open(sys.argv[1], 'w').close()", "wrote an empty output file"),
        (
            "import sys; sys.stderr.write('render failed: no GPU\\n'); sys.exit(3)",
            "exit code 3: render failed: no GPU",
        ),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "killed by SIGKILL"),
        ("import sys; sys.exit(137)", "exit code 137 (killed: SIGKILL, often out of memory)"),
    ],
)
async def test_generator_failures_have_readable_reasons(service, make_script, body, reason):
    script = make_script("bad.py", body + "\n")
    batch = await service.start(command_batch(service, f"{script} {{output}}", ["x"]))
    assert batch.items[0].status is ItemStatus.FAILED
    assert batch.items[0].error == reason


async def test_missing_executable_at_run_time_fails_the_item(service, make_script):
    script = make_script("gone.py", "")
    ref = command_batch(service, f"{script} {{output}}", ["x"])
    script.unlink()
    with pytest.raises(Exception, match="executable not found"):
        service.begin(ref)  # refused before anything runs
    assert service.get(ref).status is BatchStatus.LOCKED


async def test_wrong_resolution_video_fails_consistency_check(service, make_script):
    from batchtui.generators.media import ffmpeg_exe

    script = make_script(
        "small.py",
        f"""
        import subprocess, sys
        subprocess.run([{ffmpeg_exe()!r}, "-loglevel", "error", "-f", "lavfi", "-i",
                        "color=c=red:s=320x240:r=30", "-t", "1", "-pix_fmt", "yuv420p",
                        "-y", sys.argv[1]], check=True)
        """,
    )
    ref = command_batch(service, f"{script} {{output}}", ["x"], output_ext="mp4", duration=1)
    batch = await service.start(ref)
    assert batch.items[0].status is ItemStatus.FAILED
    assert batch.items[0].error == "output is 320x240, the batch is locked to 1080x1920"


async def test_progress_lines_and_log_capture(service, make_script):
    script = make_script(
        "chatty.py",
        """
        import sys
        print("PROGRESS 0.25", flush=True)
        print("halfway 50%", flush=True)
        sys.stderr.write("a warning on stderr\\n")
        open(sys.argv[1], "w").write("done")
        """,
    )
    seen: list[float] = []

    def listener(event, batch):
        if isinstance(event, ItemProgress):
            seen.append(event.fraction)

    ref = command_batch(service, f"{script} {{output}}", ["x"])
    batch = await service.start(ref, listener)
    assert seen[:2] == [0.25, 0.5]
    log = Path(batch.items[0].log_path).read_text()
    assert "PROGRESS 0.25" in log and "a warning on stderr" in log


async def test_runaway_output_is_capped_in_the_log(service, make_script):
    script = make_script(
        "flood.py",
        """
        import sys
        line = "x" * 1023 + "\\n"
        for _ in range(20 * 1024):
            sys.stderr.write(line)
        sys.stderr.write("the real reason\\n")
        sys.exit(1)
        """,
    )
    batch = await service.start(command_batch(service, f"{script} {{output}}", ["x"]))
    item = batch.items[0]
    assert item.error == "exit code 1: the real reason"
    assert Path(item.log_path).stat().st_size < 5 * 1024 * 1024


async def test_progress_is_persisted_while_running(service, db_path, fake_generator):
    fake_generator.gate = anyio.Event()
    ref = fake_batch(service, ["a", "b"])
    watcher = Repository(db_path)
    async with anyio.create_task_group() as tg:
        tg.start_soon(service.start, ref)
        await wait_until(
            lambda: [i.status for i in watcher.get(ref).items] == [ItemStatus.RUNNING] * 2
        )
        stored = watcher.get(ref)
        assert stored.status is BatchStatus.PROCESSING
        assert stored.runner is not None and stored.runner.pid == __import__("os").getpid()
        fake_generator.gate.set()
    assert watcher.get(ref).status is BatchStatus.COMPLETE


def test_engine_never_imports_textual():
    import subprocess

    code = (
        "import sys, batchtui.cli, batchtui.service, batchtui.engine, batchtui.generators;"
        "sys.exit(1 if any(m.startswith('textual') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


async def test_quiet_success_leaves_no_log_but_output_and_failure_do(service, make_script):
    script = make_script(
        "talk.py",
        """
        import sys, pathlib
        out, content = sys.argv[1], sys.argv[2]
        if content == "loud":
            print("rendering loud")
        if content == "bad":
            sys.exit("no luck")
        pathlib.Path(out).write_text(content)
        """,
    )
    ref = command_batch(service, f"{script} {{output}} {{content}}", ["quiet", "loud", "bad"])
    batch = await service.start(ref)
    quiet, loud, bad = batch.items
    assert quiet.status is ItemStatus.SUCCEEDED and not Path(quiet.log_path).exists()
    logs = {
        line.get("output"): line.get("log")
        for line in manifest_lines(Path(quiet.output_path).parent)
    }
    assert logs["01-quiet.txt"] is None, "the manifest never points at a log that was not written"
    assert logs["02-loud.txt"] == loud.log_path
    loud_log = Path(loud.log_path).read_text()
    # The bookkeeping noted before the child spoke comes first, in order.
    assert (
        loud_log.index("=== attempt 1 of item 2")
        < loud_log.index("$ ")
        < loud_log.index("rendering loud")
    )
    assert "[batchtui: SUCCEEDED" in loud_log
    bad_log = Path(bad.log_path).read_text()
    assert "no luck" in bad_log and "[batchtui: FAILED: exit code 1: no luck]" in bad_log


async def test_children_get_default_sigpipe_and_their_own_session(service):
    """Python ignores SIGPIPE; a child must not inherit that (`yes | head` would spin).
    Read by a shell from the kernel (a Python child would ignore SIGPIPE itself)."""
    probe = (
        'grep -E "^SigIgn" /proc/$$/status > "$1"; '
        'read -r _ _ _ _ _ sid _ < /proc/$$/stat; echo "$sid" >> "$1"; echo $$ >> "$1"'
    )
    batch = await service.start(command_batch(service, f"sh -c '{probe}' sh {{output}}", ["x"]))
    ignored, sid, pid = Path(batch.items[0].output_path).read_text().split("\n")[:3]
    sigpipe_bit = 1 << (13 - 1)
    assert not int(ignored.split()[1], 16) & sigpipe_bit
    assert sid.strip() == pid.strip(), "the child leads its own session"


async def test_children_run_in_the_batch_workdir_wherever_the_runner_is(
    service, make_script, tmp_path, monkeypatch
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = make_script(
        "where.py",
        "import os, sys, pathlib\npathlib.Path(sys.argv[1]).write_text(os.getcwd())\n",
    )
    here = command_batch(service, f"{script} {{output}}", ["a"], workdir=str(tmp_path))
    there = command_batch(service, f"{script} {{output}}", ["b"], workdir=str(elsewhere))
    monkeypatch.chdir(tmp_path)  # `here` spawns directly, `there` needs a chdir
    for ref, folder in ((here, tmp_path), (there, elsewhere)):
        batch = await service.start(ref)
        assert Path(batch.items[0].output_path).read_text() == str(folder)


async def test_bare_command_names_are_found_on_path_once(service, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "maketool").symlink_to(shutil.which("sh"))  # a binary: argv[0] is kept as is
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    probe = 'tr "\\0" " " < /proc/$$/cmdline > "$1"'
    batch = await service.start(
        command_batch(service, f"maketool -c '{probe}' sh {{output}}", ["a", "b"])
    )
    assert batch.status is BatchStatus.COMPLETE
    # Found on PATH, and argv[0] stays as written (tools that dispatch on their name work).
    for item in batch.items:
        assert Path(item.output_path).read_text().split()[0] == "maketool"


async def test_a_run_cancelled_before_it_starts_starts_nothing(service, fake_generator):
    batch = service.get(fake_batch(service, [f"item {n}" for n in range(5)], max_items=5))
    events = []
    engine = local_scheduler(events.append, concurrency=3)
    engine.cancel()
    await engine.run(jobs_for(batch, "txt"))
    assert fake_generator.calls == []
    assert [(e.status, e.error) for e in events] == [
        (ItemStatus.CANCELLED, "cancelled before it started")
    ] * 5


async def test_lowering_the_limit_lets_running_items_finish_then_holds(service, fake_generator):
    fake_generator.gate = anyio.Event()
    batch = service.get(fake_batch(service, [f"item {n}" for n in range(8)], max_items=8))
    engine = local_scheduler(lambda event: None, concurrency=4)
    async with anyio.create_task_group() as tg:
        tg.start_soon(engine.run, jobs_for(batch, "txt"))
        await wait_until(lambda: fake_generator.active == 4)
        engine.set_concurrency(1)
        assert fake_generator.active == 4  # nothing running is stopped
        fake_generator.gate.set()
    assert fake_generator.peak == 4 and len(fake_generator.calls) == 8
