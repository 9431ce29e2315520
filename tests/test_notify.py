"""A run's news leaves the box from the runner (issue 31): signed webhooks to a real HTTP
receiver, retried and delivered once, delivered still when the runner is killed; Apprise to a
local json:// target; the on_end hook killed at its time limit. Real runner and courier
processes; the receiver is started by the test on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from batchtui.core.models import BatchStatus
from batchtui.runners.notify.announce import announce
from batchtui.runners.notify.outbox import outbox_folder, pending
from batchtui.service import BatchService
from batchtui.store import Repository

from .webhook_receiver import Received, receiver

pytestmark = pytest.mark.slow

SECRET = "whsec_" + base64.b64encode(b"batchtui-test-secret-0123456789ab").decode()


def until(condition, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private settings.toml with the webhook secret and quick retries."""
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(folder))
    path = folder / "settings.toml"
    path.write_text(f'[notify]\nbackoff = 0.1\n\n[secrets]\ndefault = "{SECRET}"\n')
    path.chmod(0o600)
    return path


def batchtui(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def make_batch(db: Path, script: Path, *flags: str, items: int = 2) -> str:
    made = batchtui(
        db, "create", "News", "--generator", "command", "--command",
        f"{sys.executable} {script} {{content}} {{output}}", *flags,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert batchtui(db, "add", "News", *[f"item{n}" for n in range(items)]).returncode == 0
    locked = batchtui(db, "lock", "News")
    assert locked.returncode == 0, locked.stderr
    return BatchService(Repository(db)).get("News").id


@pytest.fixture
def job(make_script) -> Path:
    """`job.py CONTENT OUT`: writes OUT; fails for content 'bad'; waits while `hold` exists."""
    return make_script(
        "job.py",
        """
        import os, sys, time
        content, out = sys.argv[1:]
        while os.path.exists(os.path.join(os.path.dirname(out), "..", "..", "hold")):
            time.sleep(0.01)
        if content == "bad":
            sys.exit("bad on purpose")
        open(out, "w").write(content)
        """,
    )


def ends(got: list[Received]) -> list[Received]:
    return [r for r in got if json.loads(r.body)["type"] == "batch.ended"]


def test_the_end_is_signed_retried_on_500_and_delivered_once(db_path, settings, job):
    with receiver([500, 500]) as hooks:
        batch_id = make_batch(
            db_path, job, "--webhook", hooks.url + "/in", "--events", "ended", items=3
        )
        started = batchtui(db_path, "start", "News")
        assert started.returncode == 0, started.stderr
        got = hooks.wait_for(3)
        until(lambda: not pending(outbox_folder(db_path)))  # nothing left to try
        got = hooks.got
    assert len(got) == 3, "two 500s, then a 200: three tries, and no fourth"
    assert {r.headers["webhook-id"] for r in got} == {got[0].headers["webhook-id"]}
    for request in got:  # every try signed, as the specification's library checks it
        event = Webhook(SECRET).verify(request.body, request.headers)
    assert event["type"] == "batch.ended"
    data = event["data"]["batch"]
    assert data["id"] == batch_id and data["status"] == "COMPLETE"
    assert data["counts"]["succeeded"] == 3 and data["items"] == 3
    assert data["elapsed"] is not None and data["elapsed"] >= 0
    assert data["output_dir"]
    with pytest.raises(WebhookVerificationError):  # another secret does not verify it
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(got[0].body, got[0].headers)
    log = (db_path.parent / "runs" / f"{batch_id}-notify.log").read_text()
    assert "try 1 of 8: HTTP 500; again in" in log and "try 3 of 8: HTTP 200" in log


def test_a_runner_killed_right_after_the_end_still_delivers_it(db_path, settings, job):
    with receiver() as hooks:
        batch_id = make_batch(db_path, job, "--webhook", hooks.url, "--events", "ended")
        started = batchtui(db_path, "start", "News", "--detach", "--json")
        assert started.returncode == 0, started.stderr
        pid = json.loads(started.stdout)["runner"]["pid"]
        service = BatchService(Repository(db_path))
        until(lambda: service.get(batch_id).status is BatchStatus.COMPLETE, 60)
        if _alive(pid):  # right after its end (it may be on its way out by itself)
            os.kill(pid, signal.SIGKILL)
        assert batchtui(db_path, "list").returncode == 0  # the next command
        got = hooks.wait_for(1)
        until(lambda: not pending(outbox_folder(db_path)))
        got = hooks.got
    assert len(ends(got)) == 1
    assert json.loads(got[0].body)["data"]["batch"]["status"] == "COMPLETE"


def test_news_queued_by_a_runner_that_died_is_sent_by_the_next_command(db_path, settings, job):
    """The runner queued the end (inside its final write) and was killed before it started a
    courier: the next command, whatever it is, starts one."""
    with receiver() as hooks:
        batch_id = make_batch(db_path, job)  # a run that announces nothing
        assert batchtui(db_path, "start", "News").returncode == 0
        said = batchtui(db_path, "config", "News", "--webhook", hooks.url, "--events", "ended")
        assert said.returncode == 0, said.stderr  # who hears of it: changeable once it ended
        service = BatchService(Repository(db_path))
        batch = service.get(batch_id)
        assert batch.status is BatchStatus.COMPLETE
        queued = announce(db_path, batch, "ended", batch.updated_at, start_courier=False)
        assert queued == 1 and len(pending(outbox_folder(db_path))) == 1
        assert hooks.got == []  # nobody delivers it…
        assert batchtui(db_path, "show", "News").returncode == 0  # …until a command runs
        got = hooks.wait_for(1)
        until(lambda: not pending(outbox_folder(db_path)))
    assert json.loads(got[0].body)["data"]["batch"]["id"] == batch_id


def test_a_runner_killed_mid_run_has_its_end_announced_by_recovery(
    db_path, settings, job, tmp_path
):
    (tmp_path / "hold").touch()
    with receiver() as hooks:
        batch_id = make_batch(db_path, job, "--webhook", hooks.url, "--events", "ended")
        started = batchtui(db_path, "start", "News", "--detach", "--json")
        pid = json.loads(started.stdout)["runner"]["pid"]
        service = BatchService(Repository(db_path))
        until(lambda: any(i.status.value == "RUNNING" for i in service.get(batch_id).items))
        os.kill(pid, signal.SIGKILL)
        until(lambda: not _alive(pid))
        assert batchtui(db_path, "list").returncode == 0  # recovery ends it, and says so
        got = hooks.wait_for(1)
    event = json.loads(got[0].body)
    assert event["type"] == "batch.ended"
    assert event["data"]["batch"]["status"] == "FAILED"
    assert event["data"]["batch"]["counts"]["interrupted"] >= 1


def test_apprise_tells_a_local_json_target(db_path, settings, job):
    with receiver() as people:
        port = people.url.rsplit(":", 1)[1]
        make_batch(db_path, job, "--notify", f"json://127.0.0.1:{port}/phone", "--events", "ended")
        assert batchtui(db_path, "start", "News").returncode == 0
        got = people.wait_for(1)
    message = json.loads(got[0].body)
    assert got[0].path == "/phone"
    assert message["title"] == "batchtui: News COMPLETE"
    assert message["message"].startswith("2 of 2 made in ")


def test_an_item_failing_for_good_is_announced_and_the_events_chosen_are_all(
    db_path, settings, job
):
    with receiver() as hooks:
        made = batchtui(
            db_path, "create", "News", "--generator", "command", "--command",
            f"{sys.executable} {job} {{content}} {{output}}", "--webhook", hooks.url,
        )  # fmt: skip
        assert made.returncode == 0
        batchtui(db_path, "add", "News", "good", "bad")
        batchtui(db_path, "lock", "News")
        assert batchtui(db_path, "start", "News").returncode != 0  # PARTIAL
        hooks.wait_for(3)
        until(lambda: not pending(outbox_folder(db_path)))
        types = sorted(json.loads(r.body)["type"] for r in hooks.got)
    assert types == ["batch.ended", "batch.started", "item.failed"]
    failed = next(json.loads(r.body) for r in hooks.got if b"item.failed" in r.body)
    assert failed["data"]["item"]["content"] == "bad"
    assert "bad on purpose" in failed["data"]["item"]["error"]


def test_a_hook_that_hangs_is_killed_at_its_timeout_and_the_batch_ends(
    db_path, settings, job, make_script, tmp_path
):
    hang = make_script(
        "hang.py",
        f"""
        import os, sys, time
        open({str(tmp_path / "hook.pid")!r}, "w").write(str(os.getpid()))
        print("hook for", sys.argv[1:], sys.stdin.read()[:20], flush=True)
        time.sleep(600)
        """,
    )
    batch_id = make_batch(
        db_path, job, "--on-end", f"{hang} {{name}} {{status}}", "--hook-timeout", "1"
    )
    started = batchtui(db_path, "start", "News")
    assert started.returncode == 0, started.stderr
    assert BatchService(Repository(db_path)).get(batch_id).status is BatchStatus.COMPLETE
    log = db_path.parent / "runs" / f"{batch_id}-notify.log"
    until(lambda: log.exists() and "killed after 1 s" in log.read_text(), 30)
    text = log.read_text()
    assert "hook for ['News', 'COMPLETE'] {\"type\": \"batch.end" in text
    pid = int((tmp_path / "hook.pid").read_text())
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def test_a_webhook_added_while_the_batch_runs_hears_of_its_end(db_path, settings, job, tmp_path):
    """Who hears of a run may change while it runs: the runner's own writes keep the change,
    and its end goes to the new target."""
    (tmp_path / "hold").touch()
    with receiver() as hooks:
        batch_id = make_batch(db_path, job)
        started = batchtui(db_path, "start", "News", "--detach")
        assert started.returncode == 0, started.stderr
        service = BatchService(Repository(db_path))
        until(lambda: any(i.status.value == "RUNNING" for i in service.get(batch_id).items))
        said = batchtui(db_path, "config", "News", "--webhook", hooks.url, "--events", "ended")
        assert said.returncode == 0, said.stderr
        stored = Repository(db_path).batches.path(batch_id)
        ours = stored.stat().st_mtime_ns
        until(lambda: stored.stat().st_mtime_ns != ours)  # the runner wrote since (it saw ours)
        assert service.get(batch_id).config.webhooks == [hooks.url]
        (tmp_path / "hold").unlink()
        got = hooks.wait_for(1)
    assert json.loads(got[0].body)["data"]["batch"]["status"] == "COMPLETE"


def test_every_item_end_is_announced_with_its_own_item_when_asked(db_path, settings, job):
    """`item` events: one per item's end, each carrying that item (found by id among many)."""
    contents = [f"item{n}" for n in range(12)] + ["bad"]
    with receiver() as hooks:
        made = batchtui(
            db_path, "create", "News", "--generator", "command", "--command",
            f"{sys.executable} {job} {{content}} {{output}}", "--webhook", hooks.url,
            "--events", "item,failed", "--concurrency", "3", "--max-items", "20",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert batchtui(db_path, "add", "News", *contents).returncode == 0
        assert batchtui(db_path, "lock", "News").returncode == 0
        assert batchtui(db_path, "start", "News").returncode == 1  # PARTIAL
        hooks.wait_for(len(contents) + 1)
        until(lambda: not pending(outbox_folder(db_path)))
        bodies = [json.loads(r.body) for r in hooks.got]
    ended = {
        b["data"]["item"]["content"]: b["data"]["item"] for b in bodies if b["type"] == "item.ended"
    }
    assert sorted(ended) == sorted(contents)
    assert {content: item["status"] for content, item in ended.items()} == {
        c: "FAILED" if c == "bad" else "SUCCEEDED" for c in contents
    }
    assert [b["data"]["item"]["content"] for b in bodies if b["type"] == "item.failed"] == ["bad"]
