"""The HTTP API as its users drive it: a real `batchtui serve` on a free port, curl and httpx."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .conftest import file_bytes
from .helpers import decode_frames

pytestmark = pytest.mark.slow


@dataclass
class Server:
    process: subprocess.Popen
    url: str

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def serve(db_path: Path, *args: str, env: dict | None = None) -> Server:
    """Start `batchtui serve --port 0` and wait for the line that says where it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"http://([\d.]+):(\d+)/", line)
    if found is None:
        process.kill()
        raise AssertionError(f"serve did not start: {line}{process.stdout.read()}")
    return Server(process, f"http://{found.group(1)}:{found.group(2)}")


@pytest.fixture
def server(db_path: Path) -> Iterator[Server]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    running = serve(db_path)
    yield running
    running.process.send_signal(signal.SIGINT)
    try:
        running.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        running.process.kill()


def curl(*args: str) -> dict | list:
    out = subprocess.run(["curl", "-s", "--fail-with-body", *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_seeds_example_verbatim_ends_complete_with_three_mp4s(server, tmp_path):
    """The seed's five commands as its README gives them, only `{id}` filled in."""
    base = server.url
    made = curl(
        "-X",
        "POST",
        f"{base}/v1/batch/",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name": "Space Facts", "config": {"platform": "youtube_shorts"}}',
    )  # fmt: skip  (outputs go to $BATCHTUI_OUTPUT: the test's own folder)
    batch_id = made["id"]
    curl(
        "-X", "POST", f"{base}/v1/batch/{batch_id}/items",
        "-d", '{"contents": ["Why is space dark?", "What are black holes?", "How stars die"]}',
    )  # fmt: skip
    curl("-X", "POST", f"{base}/v1/batch/{batch_id}/lock")
    curl("-X", "POST", f"{base}/v1/batch/{batch_id}/start")
    deadline = time.monotonic() + 120
    while (progress := curl(f"{base}/v1/batch/{batch_id}/progress"))["status"] == "PROCESSING":
        assert time.monotonic() < deadline, progress
        time.sleep(0.2)
    assert progress["status"] == "COMPLETE" and progress["succeeded"] == 3
    outputs = curl(f"{base}/v1/batch/{batch_id}/outputs")
    assert len(outputs) == 3
    for item in outputs:
        path = Path(item["output_path"])
        assert path.suffix == ".mp4" and decode_frames(path) > 0
    with server.client() as client:  # the file itself can be downloaded
        got = client.get(f"/v1/batch/{batch_id}/items/1/output")
        assert (
            got.status_code == 200 and got.content == Path(outputs[0]["output_path"]).read_bytes()
        )


def test_a_batch_made_over_http_is_the_clis_and_the_other_way_round(server, db_path):
    with server.client() as client:
        made = client.post("/v1/batch", json={"name": "Shared", "items": ["a", "b"]}).json()
    service = BatchService(Repository(db_path))
    assert [i.content for i in service.get(made["id"]).items] == ["a", "b"]
    other = service.create("From the CLI")
    with server.client() as client:
        listed = [b["id"] for b in client.get("/v1/batch/").json()]
        assert listed == [made["id"], other.id]
        assert client.get(f"/v1/batch/{other.id[:6]}").json()["name"] == "From the CLI"


def test_every_refusal_is_one_json_line_and_changes_nothing(server, db_path, tmp_path):
    service = BatchService(Repository(db_path))
    done = service.create("Done", output_dir=str(tmp_path / "out"))
    draft = service.create("Draft")
    service.create("Twin")
    service.create("Twin")
    cases = [
        ("GET", "/v1/batch/nothing-like-it", None, 404, "not_found"),
        ("POST", "/v1/batch/", b"{not json", 400, "malformed_json"),
        ("POST", "/v1/batch/", b'{"name": "X", "config": {"duration": -1}}', 422, "invalid"),
        ("POST", "/v1/batch/", b'{"name": "   "}', 422, "invalid"),
        ("POST", "/v1/batch/", b'{"config": {}}', 422, "invalid"),
        (
            "POST",
            f"/v1/batch/{draft.id}/items",
            b'{"contents": ["ok", "a\\u0000b"]}',
            422,
            "invalid",
        ),
        ("POST", f"/v1/batch/{draft.id}/lock", b"", 422, "invalid"),  # no items
        ("POST", f"/v1/batch/{draft.id}/start", b"", 409, "forbidden_transition"),
        ("POST", f"/v1/batch/{done.id}/cancel", b"", 409, "forbidden_transition"),
        ("GET", "/v1/batch/Twin", None, 409, "ambiguous"),
        ("PUT", f"/v1/batch/{draft.id}/concurrency", b'{"value": 0}', 422, "invalid"),
        ("PATCH", f"/v1/batch/{draft.id}/config", b"[1, 2]", 422, "invalid"),
        ("POST", f"/v1/batch/{draft.id}/retry", b'{"items": []}', 422, "invalid"),
        ("POST", f"/v1/batch/{done.id}/retry", b'{"items": [9]}', 409, "forbidden_transition"),
        ("POST", f"/v1/batch/{draft.id}/duplicate", b'{"name": ""}', 422, "invalid"),
    ]
    before = file_bytes(db_path)
    with server.client() as client:
        for method, path, body, status, kind in cases:
            response = client.request(method, path, content=body)
            assert response.status_code == status, (method, path, response.text)
            error = response.json()["error"]
            assert error["type"] == kind and "\n" not in error["message"], (path, error)
            assert file_bytes(db_path) == before, f"{method} {path} changed the database"
        # A web page of another site cannot make changes (a form POST needs no preflight);
        # the same request from curl or a script, with no Origin, can.
        forged = client.post(
            "/v1/batch/",
            content=b'{"name": "Forged"}',
            headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
        )
        assert forged.status_code == 403 and forged.json()["error"]["type"] == "cross_origin"
        assert file_bytes(db_path) == before
        assert client.post("/v1/batch/", content=b'{"name": "Mine"}').status_code == 201


def test_a_token_is_required_off_loopback_and_checked_on_every_request(db_path, tmp_path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    refused = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "serve", "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert refused.returncode == 2 and "needs --token-file" in refused.stderr
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-0123456789\n")
    token_file.chmod(0o600)
    running = serve(db_path, "--token-file", str(token_file))
    try:
        with running.client() as client:
            assert client.get("/v1/batch/").status_code == 401
            assert (
                client.get("/v1/batch/", headers={"Authorization": "Bearer nope"}).json()["error"][
                    "type"
                ]
                == "unauthorized"
            )
        with running.client("s3cret-token-0123456789") as client:
            assert client.get("/v1/batch/").status_code == 200
    finally:
        running.process.kill()
        running.process.wait()


def test_restarting_the_server_never_stops_a_run(db_path, make_script, tmp_path):
    script = make_script("slow.py", "import sys, time\ntime.sleep(2)\nopen(sys.argv[1], 'w')\n")
    service = BatchService(Repository(db_path))
    made = service.create(
        "Survives", generator="command", command=f"{script} {{output}}", output_ext="txt",
        validate_output="exists", output_dir=str(tmp_path / "out"),
    )  # fmt: skip
    service.add_items(made.id, ["a", "b"])
    service.lock(made.id)
    first = serve(db_path)
    with first.client() as client:
        assert client.post(f"/v1/batch/{made.id}/start").status_code == 202
    first.process.kill()  # the server dies mid-run
    first.process.wait()
    second = serve(db_path)
    try:
        with second.client() as client:
            deadline = time.monotonic() + 60
            while client.get(f"/v1/batch/{made.id}/progress").json()["status"] == "PROCESSING":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert client.get(f"/v1/batch/{made.id}").json()["status"] == "COMPLETE"
    finally:
        second.process.kill()
        second.process.wait()
    assert Repository(db_path).get(made.id).status is BatchStatus.COMPLETE


def sse(client: httpx.Client, path: str, headers: dict | None = None) -> list[dict]:
    """Every event of a stream until the server ends it: [{'id', 'event', 'data'}]."""
    events, current = [], {}
    with client.stream("GET", path, headers=headers or {}, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if "event" in current:
                    events.append(current)
                current = {}
            elif line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(":")
                current[key] = json.loads(value) if key == "data" else value.strip()
    return events


def test_events_stream_every_change_until_the_batch_ends_and_resume_from_an_id(
    server, make_script, tmp_path
):
    script = make_script("step.py", "import sys, time\ntime.sleep(0.3)\nopen(sys.argv[1], 'w')\n")
    with server.client() as client:
        made = client.post(
            "/v1/batch/",
            json={
                "name": "Streamed",
                "items": ["a", "b", "c"],
                "config": {
                    "generator": "command", "command": f"{script} {{output}}",
                    "output_ext": "txt", "validate_output": "exists",
                    "output_dir": str(tmp_path / "out"), "concurrency": 2,
                },
            },
        ).json()  # fmt: skip
        client.post(f"/v1/batch/{made['id']}/lock")
        assert client.post(f"/v1/batch/{made['id']}/start").status_code == 202
        events = sse(client, f"/v1/batch/{made['id']}/events")
        kinds = [e["event"] for e in events]
        assert kinds[-1] == "end" and events[-1]["data"]["status"] == "COMPLETE"
        finished = {e["data"]["item_id"] for e in events if e["event"] == "item"
                    and e["data"]["status"] == "SUCCEEDED"}  # fmt: skip
        assert len(finished) == 3
        assert [e for e in events if e["event"] == "batch"][-1]["data"]["percent"] == 100.0
        sequence = [int(e["id"].split(".")[1]) for e in events]
        assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)
        again = sse(client, f"/v1/batch/{made['id']}/events", {"Last-Event-ID": events[-1]["id"]})
        assert [e["event"] for e in again] == ["batch", "end"], "nothing new since that id"
        assert client.get("/v1/batch/missing/events").status_code == 404


@pytest.mark.anyio
async def test_a_batch_made_over_http_shows_live_in_the_tui(server, db_path):
    from .helpers import wait_until
    from .tui_support import make_app

    app = make_app(BatchService(Repository(db_path)), poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        async with httpx.AsyncClient(base_url=server.url) as client:
            made = (await client.post("/v1/batch/", json={"name": "From curl"})).json()
        table = app.screen.query_one("#batches")
        await wait_until(lambda: made["id"] in [row.value for row in table.rows], limit=10)
        assert "From curl" in table.get_row(made["id"])[0].plain
