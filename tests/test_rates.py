"""Rate limits: a batch's own (`--rate 30/min`) and a host-wide one per name (`[rates]` in
settings.toml, `--rate-key tts`) shared by every runner on the host; an item that says
"later" (exit 75, `RETRY-AFTER N`) waits and runs again without using a retry.

The runs are real runner processes (`batchtui start`); their items stamp the time they start
(a clock shared by every process of the host) and the checks read the stamps."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from batchtui.core.errors import ValidationError
from batchtui.core.failures import RETRY_ON, FailureKind
from batchtui.core.limits import MAX_RATE_WAITS
from batchtui.core.models import BatchConfig, BatchStatus, ItemStatus
from batchtui.core.rates import parse_rate
from batchtui.core.settings import load_host_settings
from batchtui.engine.rates import RATES_FOLDER, RateBucket, rate_buckets
from batchtui.generators.command import parse_retry_after
from batchtui.service import BatchService

pytestmark = pytest.mark.usefixtures("own_slots")  # (conftest: this test's own slot folder)

JITTER = 0.25
"""How much later than its token an item may stamp its start (a process to spawn and a
Python to load, on a loaded machine): the checks allow this much, never more."""


def settings(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "settings.toml").write_text(text)


# --------------------------------------------------------------------- the words


@pytest.mark.parametrize(
    ("text", "count", "per", "shown"),
    [
        ("30/min", 30, 60.0, "30/min"),
        ("2/s", 2, 1.0, "2/s"),
        (" 100 / Hour ", 100, 3600.0, "100/h"),
        ("5/mins", 5, 60.0, "5/min"),
        ("1/sec", 1, 1.0, "1/s"),
    ],
)
def test_a_rate_is_a_count_per_second_minute_or_hour(text, count, per, shown):
    rate = parse_rate(text)
    assert (rate.count, rate.per, str(rate)) == (count, per, shown)
    assert rate.interval == per / count


@pytest.mark.parametrize("text", ["0/min", "fast", "30", "30/day", "-1/s", "1.5/min", "/min"])
def test_what_is_not_a_rate_is_refused_naming_it(text):
    with pytest.raises(ValueError, match=f"'{text}' is not a rate"):
        parse_rate(text)


def test_the_rate_is_a_scheduling_setting_outside_the_config_hash():
    plain = BatchConfig(generator="command", command="x {output}")
    limited = plain.model_copy(update={"rate": "30/min", "rate_key": "tts"})
    assert BatchConfig.model_validate(limited.model_dump()).rate == "30/min"
    assert limited.fingerprint() == plain.fingerprint()
    assert BatchConfig(rate="30 / minute").rate == "30/min"
    assert BatchConfig(rate="", rate_key="").rate is None


def test_rate_limited_is_a_failure_kind_retry_on_names():
    assert FailureKind.RATE_LIMITED.retry_name == "rate_limited" and "rate_limited" in RETRY_ON
    assert BatchConfig(retry_on=["rate_limited"]).retry_on == ["rate_limited"]


@pytest.mark.parametrize(
    ("line", "seconds"),
    [("RETRY-AFTER 20", 20.0), ("  retry-after: 1.5 ", 1.5), ("RETRY-AFTER", None), ("50%", None)],
)
def test_a_retry_after_line_says_how_long(line, seconds):
    assert parse_retry_after(line) == seconds


def test_the_rates_table_names_host_wide_rates(tmp_path):
    settings(tmp_path, '[rates]\ntts = "30/min"\nllm-api = "2/s"\n')
    host = load_host_settings()
    assert {name: str(rate) for name, rate in host.rates.items()} == {
        "tts": "30/min",
        "llm-api": "2/s",
    }
    with pytest.raises(ValidationError, match=r"^no rate 'other' in settings\.toml$"):
        host.rate_for("other")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("rates = 3\n", r"\[rates\] must be a table"),
        ('[rates]\ntts = "fast"\n', r"\[rates\] tts: 'fast' is not a rate"),
        ("[rates]\ntts = 30\n", r"\[rates\] tts: '30' is not a rate"),
        ('[rates]\n"Bad Name" = "1/s"\n', r"'Bad Name' is not a rate name"),
    ],
)
def test_a_bad_rates_table_is_refused_in_one_line(tmp_path, text, says):
    settings(tmp_path, text)
    with pytest.raises(ValidationError, match=says) as caught:
        load_host_settings()
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------- the CLI's refusals


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--rate", "0/min"], "'0/min' is not a rate: N must be from 1"),
        (["--rate", "fast"], "'fast' is not a rate"),
        (["--rate-key", "Bad Key"], "'Bad Key' is not a rate name"),
    ],
)
def test_create_refuses_a_bad_rate_in_one_line(db_path, flags, says):
    result = cli(db_path, "create", "b", *flags)
    assert result.returncode == 2, result
    assert says in result.stderr and result.stderr.count("\n") == 1
    assert not db_path.exists() or "b" not in cli(db_path, "list").stdout


def test_the_rate_is_set_and_cleared_with_create_and_config(db_path):
    assert cli(db_path, "create", "b", "--rate", "30/Minute", "--rate-key", "tts").returncode == 0
    config = BatchService(db_path).get("b").config
    assert (config.rate, config.rate_key) == ("30/min", "tts")
    assert cli(db_path, "config", "b", "--rate", "", "--rate-key", "").returncode == 0
    config = BatchService(db_path).get("b").config
    assert (config.rate, config.rate_key) == (None, None)


def a_batch(db: Path, script: Path, name: str, items: int, **fields: object) -> str:
    service = BatchService(db)
    batch = service.create(
        name, generator="command", command=f"{script} {{content}} {{output}}",
        output_ext="txt", concurrency=3, **fields,
    )  # fmt: skip
    service.add_items(batch.id, [f"{name} {n}" for n in range(items)])
    return batch.id


def test_an_unknown_rate_key_is_refused_at_lock_and_at_start(db_path, tmp_path, make_script):
    script = make_script("ok.py", "import sys; open(sys.argv[2], 'w').write('ok')")
    ref = a_batch(db_path, script, "b", 1, rate_key="tts")
    result = cli(db_path, "lock", ref)
    assert result.returncode == 2 and "no rate 'tts' in settings.toml" in result.stderr
    settings(tmp_path, '[rates]\ntts = "30/min"\n')
    assert cli(db_path, "lock", ref).returncode == 0
    settings(tmp_path, '[rates]\nstt = "30/min"\n')  # changed since the lock
    result = cli(db_path, "start", ref)
    assert result.returncode == 2, result
    assert result.stderr.strip().endswith("no rate 'tts' in settings.toml")
    assert BatchService(db_path).get(ref).status is BatchStatus.LOCKED
    settings(tmp_path, "rates = 3\n")
    result = cli(db_path, "start", ref)
    assert result.returncode == 2 and "[rates] must be a table" in result.stderr


# --------------------------------------------------------------------- the bucket


def test_a_shared_bucket_is_one_for_every_taker_of_its_file(own_slots):
    rate = parse_rate("600/min")  # one every 0.1 s
    path = own_slots / RATES_FOLDER / "tts"
    one, other = RateBucket(rate, "tts", path), RateBucket(rate, "tts", path)

    async def main() -> list[float]:
        stamps = []
        for bucket in (one, other, one, other):
            await bucket.take()
            stamps.append(time.monotonic())
        await other.hold_off(0.5)  # a service said "later": slow down for everyone
        assert 0.4 < await one.next_in() <= 0.5
        return stamps

    stamps = anyio.run(main)
    assert all(b - a >= 0.1 - 0.005 for a, b in itertools.pairwise(stamps)), stamps


def test_a_waiting_taker_is_told_why_and_for_how_long():
    bucket = RateBucket(parse_rate("300/min"), "the rate limit tts (300/min)")
    told: list[str] = []

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(bucket.take, told.append)

    anyio.run(main)
    assert "waiting for the rate limit tts (300/min), after this run's earlier items" in told
    assert "waiting for the rate limit tts (300/min): next in 0.2 s" in told


def test_a_damaged_bucket_file_is_read_as_no_state(own_slots):
    path = own_slots / RATES_FOLDER / "tts"
    bucket = RateBucket(parse_rate("1/h"), "tts", path)
    path.write_text("not json")

    async def main() -> float:
        await bucket.take()  # due at once: nothing readable said otherwise
        return await bucket.next_in()

    assert 3590 < anyio.run(main) <= 3600


def test_a_batch_obeys_its_own_rate_then_its_host_wide_one(tmp_path):
    settings(tmp_path, '[rates]\ntts = "30/min"\n')
    config = BatchConfig(rate="6/min", rate_key="tts")
    own, shared = rate_buckets(config, load_host_settings())
    assert (str(own.rate), own.path) == ("6/min", None)
    assert shared.what == "the rate limit tts (30/min)" and shared.path is not None


# --------------------------------------------------------------------- real runs


def stamper(make_script, tmp_path: Path) -> tuple[Path, Path]:
    """A command that appends the host's clock (/proc/uptime: one clock for every process,
    read by a shell in a millisecond, not a Python that takes tens to start) and its item's
    content to `starts.txt` as it starts, then writes its output."""
    starts = tmp_path / "starts.txt"
    script = tmp_path / "bin" / "stamp.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        f'#!/bin/sh\nread up idle < /proc/uptime\necho "$up $1" >> "{starts}"\necho ok > "$2"\n'
    )
    script.chmod(0o755)
    return script, starts


def read_starts(starts: Path) -> list[tuple[float, str]]:
    pairs = [line.split(" ", 1) for line in starts.read_text().splitlines()]
    return sorted((float(stamp), name) for stamp, name in pairs)


def assert_within_rate(stamps: list[float], interval: float) -> None:
    """A bucket of burst 1: in any window, one start and one more per `interval` (less what
    a start's stamp may lag its token)."""
    for i, first in enumerate(stamps):
        for j in range(i + 1, len(stamps)):
            assert stamps[j] - first >= (j - i) * interval - JITTER, (i, j, stamps)


def started(db: Path, ref: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db), "start", ref],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finish(runs: list[subprocess.Popen[str]]) -> list[str]:
    try:
        outputs = [run.communicate(timeout=120)[0] for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    assert [run.returncode for run in runs] == [0] * len(runs), outputs
    return outputs


@pytest.mark.slow
def test_a_batch_rate_spaces_its_starts(db_path, tmp_path, make_script):
    # 60/min, burst 1: 8 instant items at concurrency 3 start one a second, never bunched.
    script, starts = stamper(make_script, tmp_path)
    ref = a_batch(db_path, script, "b", 8, rate="60/min")
    BatchService(db_path).lock(ref)
    [output] = finish([started(db_path, ref)])
    stamps = [stamp for stamp, _ in read_starts(starts)]
    assert len(stamps) == 8
    assert_within_rate(stamps, 1.0)
    assert stamps[-1] - stamps[0] < 7 + 3, "no slower than the rate either"
    # (a plain line per item: the first thing each waited for)
    assert "waiting for the batch's rate limit (60/min)" in output
    assert BatchService(db_path).get(ref).status is BatchStatus.COMPLETE


@pytest.mark.slow
def test_two_runners_sharing_a_rate_key_obey_one_bucket(db_path, tmp_path, make_script):
    settings(tmp_path, '[rates]\ntts = "120/min"\n')  # one start every 0.5 s, host-wide
    script, starts = stamper(make_script, tmp_path)
    service = BatchService(db_path)
    refs = [a_batch(db_path, script, name, 4, rate_key="tts") for name in ("A", "B")]
    for ref in refs:
        service.lock(ref)
    outputs = finish([started(db_path, ref) for ref in refs])
    found = read_starts(starts)
    assert len(found) == 8
    assert {name.split()[0] for _, name in found[:4]} == {"A", "B"}, "both ran at once"
    assert_within_rate([stamp for stamp, _ in found], 0.5)
    assert any("waiting for the rate limit tts (120/min)" in out for out in outputs)
    assert all(service.get(ref).status is BatchStatus.COMPLETE for ref in refs)


def later_once(make_script, tmp_path: Path, how: str) -> tuple[Path, Path]:
    """A command whose item says "later" on its first attempt (`how`: the Python that does
    it), stamping each start; the next attempt succeeds."""
    starts = tmp_path / "starts.txt"
    said = tmp_path / "said-later"
    script = make_script(
        "later.py",
        f"""
        import os, sys, time
        with open({str(starts)!r}, "a") as f:
            f.write(f"{{time.monotonic()}} {{sys.argv[1]}}\\n")
        if not os.path.exists({str(said)!r}):
            open({str(said)!r}, "w").close()
            {how}
        open(sys.argv[2], "w").write("ok")
        """,
    )
    return script, starts


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "at_least"),
    [
        ("print('RETRY-AFTER 2', flush=True); sys.exit(1)", 2.0),
        ("sys.exit(75)", 0.5),  # no time said: a backoff (`--backoff 0.5`)
    ],
    ids=["retry-after", "exit-75"],
)
def test_an_item_told_later_runs_again_without_using_a_retry(
    db_path, tmp_path, make_script, how, at_least
):
    script, starts = later_once(make_script, tmp_path, how)
    # No retries at all: a plain failure would end it.
    ref = a_batch(db_path, script, "b", 1, retries=0, backoff=0.5)
    BatchService(db_path).lock(ref)
    finish([started(db_path, ref)])
    stamps = [stamp for stamp, _ in read_starts(starts)]
    assert len(stamps) == 2 and stamps[1] - stamps[0] >= at_least, stamps
    batch = BatchService(db_path).get(ref)
    assert batch.status is BatchStatus.COMPLETE
    [item] = batch.items
    assert item.status is ItemStatus.SUCCEEDED and item.retries_used == 0


@pytest.mark.slow
def test_retry_after_holds_the_shared_bucket_for_every_batch(db_path, tmp_path, make_script):
    # A's item says "RETRY-AFTER 2"; B, on the same rate key and started meanwhile, waits
    # that out too.
    settings(tmp_path, '[rates]\ntts = "600/min"\n')
    script, starts = later_once(make_script, tmp_path, "print('RETRY-AFTER 2'); sys.exit(1)")
    service = BatchService(db_path)
    a = a_batch(db_path, script, "A", 1, rate_key="tts")
    b = a_batch(db_path, script, "B", 2, rate_key="tts")
    service.lock(a)
    service.lock(b)
    runs = [started(db_path, a)]
    try:
        deadline = time.monotonic() + 30
        while service.get(a).items[0].retry_at is None:  # A's item was told "later"
            assert time.monotonic() < deadline and runs[0].poll() is None, "A never waited"
            time.sleep(0.02)
        runs.append(started(db_path, b))
    finally:
        finish(runs)
    found = read_starts(starts)
    assert [name for _, name in found][:1] == ["A 0"] and len(found) == 4
    told = found[0][0]
    assert all(stamp - told >= 2.0 for stamp, _ in found[1:]), found
    assert service.get(a).status is service.get(b).status is BatchStatus.COMPLETE


def test_an_item_always_told_later_fails_after_the_most_waits(db_path, make_script):
    script = make_script("never.py", "print('RETRY-AFTER 0')")
    ref = a_batch(db_path, script, "b", 1, retries=3)
    BatchService(db_path).lock(ref)
    result = cli(db_path, "start", ref)
    assert result.returncode != 0
    [item] = BatchService(db_path).get(ref).items
    assert item.status is ItemStatus.FAILED and item.retries_used == 0
    assert item.error is not None and item.error.startswith(f"rate limited {MAX_RATE_WAITS} times")
    assert item.attempts == MAX_RATE_WAITS + 1


def test_retry_on_without_rate_limited_fails_a_rate_limited_item(db_path, make_script):
    script = make_script("tempfail.py", "import sys; sys.exit(75)")
    ref = a_batch(db_path, script, "b", 1, retry_on=["timeout"])
    BatchService(db_path).lock(ref)
    cli(db_path, "start", ref)
    [item] = BatchService(db_path).get(ref).items
    assert item.status is ItemStatus.FAILED and item.attempts == 1
    assert item.error is not None and "exit code 75" in item.error


# --------------------------------------------------------------------- the TUI's form


@pytest.mark.anyio
async def test_the_config_form_saves_a_rate_and_refuses_a_bad_one(db_path):
    from textual.widgets import Collapsible, Input

    from batchtui.store import Repository
    from batchtui.tui.screens.item_editor import ItemEditorScreen

    from .tui_support import make_app, type_text

    service = BatchService(Repository(db_path))
    batch_id = service.create("Form").id
    app = make_app(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_batch(batch_id)
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, ItemEditorScreen)

        async def enter(field: str, text: str) -> None:
            box = editor.query_one(f"#f-{field}", Input)
            box.focus()
            box.value = ""
            await type_text(pilot, text)
            await pilot.press("enter")
            await pilot.pause()

        await enter("rate", "30 / minute")
        await enter("rate_key", "tts")
        config = service.get(batch_id).config
        assert (config.rate, config.rate_key) == ("30/min", "tts")
        group = editor.query_one("#group-running", Collapsible)
        for _ in range(100):  # the title follows the saved batch (a loaded machine: later)
            if "30/min" in str(group.title):
                break
            await pilot.pause(0.05)
        assert "30/min" in str(group.title)
        for bad in ("0/min", "fast"):
            await enter("rate", bad)
            assert service.get(batch_id).config.rate == "30/min", bad
            panel = str(editor.query_one("#problems").render())
            assert panel.startswith("Not saved:") and f"'{bad}' is not a rate" in panel, panel
        await enter("rate", "")
        assert service.get(batch_id).config.rate is None


# --------------------------------------------------------------------- templates, the API


def test_a_template_carries_the_rate(db_path, tmp_path, monkeypatch):
    import tomllib

    monkeypatch.setenv("BATCHTUI_TEMPLATES", str(tmp_path / "templates"))
    service = BatchService(db_path)
    ref = service.create("b", rate="30/min", rate_key="tts").id
    service.add_items(ref, ["one"])
    service.save_template(ref, "voiced")
    data = tomllib.loads((tmp_path / "templates" / "voiced.toml").read_text())
    assert (data["config"]["rate"], data["config"]["rate_key"]) == ("30/min", "tts")
    made = service.create_from_template("again", "voiced")
    assert (made.config.rate, made.config.rate_key) == ("30/min", "tts")


def test_the_api_sets_the_rate_and_refuses_a_bad_one(db_path):
    from fastapi.testclient import TestClient

    from batchtui.api.app import create_app

    service = BatchService(db_path)
    with TestClient(create_app(service)) as http:
        made = http.post("/v1/batch/", json={"name": "b", "config": {"rate": "2/S"}})
        assert made.status_code == 201, made.text
        ref = made.json()["id"]
        assert made.json()["config"]["rate"] == "2/s"
        bad = http.patch(f"/v1/batch/{ref}/config", json={"rate": "fast"})
        assert bad.status_code in (400, 422) and "'fast' is not a rate" in bad.text
        good = http.patch(f"/v1/batch/{ref}/config", json={"rate": "10/h", "rate_key": "tts"})
        assert good.status_code == 200, good.text
    config = service.get(ref).config
    assert (config.rate, config.rate_key) == ("10/h", "tts")


# --------------------------------------------------------------------- the real app, in a pty


@pytest.mark.slow
def test_the_app_says_an_unknown_rate_key_then_runs_under_the_rate(
    db_path, tmp_path, own_slots, make_script
):
    from .terminal import Terminal

    script, starts = stamper(make_script, tmp_path)
    ref = a_batch(db_path, script, "Voices", 3, rate_key="tts", output_dir=str(tmp_path / "out"))
    env = {"BATCHTUI_CONFIG_DIR": str(tmp_path / "config"), "BATCHTUI_SLOTS_DIR": str(own_slots)}
    with Terminal.batchtui(db_path, env=env, cwd=tmp_path) as term:
        term.wait_for("Voices", settle=0.3)
        term.send(b"l")  # lock: this host names no rate 'tts'
        term.wait_for("no rate 'tts' in settings.toml", settle=0.2)
        assert BatchService(db_path).get(ref).status is BatchStatus.DRAFT
        settings(tmp_path, '[rates]\ntts = "60/min"\n')
        term.send(b"l")
        term.wait_for("LOCKED", settle=0.3)
        term.send(b"s")
        term.wait_for("Start", settle=0.3)
        term.send(b"\r")
        term.wait_for("WAITING", timeout=30)  # the second item: a token a second
        term.wait_for(lambda screen: "COMPLETE" in screen or "FAILED" in screen, timeout=60)
    assert BatchService(db_path).get(ref).status is BatchStatus.COMPLETE
    assert_within_rate([stamp for stamp, _ in read_starts(starts)], 1.0)
