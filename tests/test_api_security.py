"""Attacks on a real `batchtui serve`, as a hostile page, another account on the same box, a
slow or greedy client and a planted link would make them."""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from batchtui.core.limits import (
    HEADER_SECONDS,
    MAX_BATCH_CONTENT_BYTES,
    MAX_CONNECTIONS,
    MAX_REQUEST_BYTES,
)
from batchtui.core.models import BatchStatus
from batchtui.service import BatchService
from batchtui.store import Repository

from .test_api import Server, serve

pytestmark = pytest.mark.slow

NOBODY = 65534


@pytest.fixture
def server(db_path: Path) -> Iterator[Server]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    running = serve(db_path)
    yield running
    running.process.kill()
    running.process.wait()


def _port(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _token_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("batchtui", appauthor=False)) / "api-token"


def _raw(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send `request` on a fresh connection; everything the server answers until it closes
    or `timeout` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        answer = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and b'"error"' in answer:
                break
        return answer


def test_a_page_whose_name_was_rebound_to_loopback_is_refused(server: Server, db_path) -> None:
    """DNS rebinding: the page's own name in Host and Origin, on 127.0.0.1, no token."""
    rebound = {"Host": f"rebound.example:{_port(server)}"}
    with server.client() as client:
        for path in ("/v1/batch/", "/openapi.json", "/docs", "/redoc"):
            answer = client.get(path, headers=rebound)
            assert answer.status_code == 401, path
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert "rebound.example" in answer.json()["error"]["message"]
        made = client.post(
            "/v1/batch/",
            json={"name": "Pwned", "config": {"generator": "command", "command": "id"}},
            headers={**rebound, "Origin": f"http://rebound.example:{_port(server)}"},
        )
        assert made.status_code == 401
        assert client.get("/v1/batch/").status_code == 200  # the owner, by a loopback name
    assert BatchService(Repository(db_path)).summaries() == []


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another account")
def test_another_account_on_the_box_needs_the_token_and_cannot_read_it(
    server: Server, db_path
) -> None:
    token_file = _token_file()
    info = token_file.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
    assert stat.S_IMODE(token_file.parent.stat().st_mode) & 0o077 == 0
    token = token_file.read_text().strip()
    fetch = (
        "import sys, urllib.request, urllib.error\n"
        "request = urllib.request.Request(sys.argv[1], data=sys.argv[3].encode() or None,\n"
        "    headers={'Authorization': 'Bearer ' + sys.argv[2]} if sys.argv[2] else {})\n"
        "try:\n"
        "    print(urllib.request.urlopen(request, timeout=20).status)\n"
        "except urllib.error.HTTPError as error:\n"
        "    print(error.code, error.headers.get('WWW-Authenticate'))\n"
        "try:\n"
        "    open(sys.argv[4]).read(); print('read the token')\n"
        "except OSError:\n"
        "    print('cannot read the token')\n"
    )

    def as_nobody(path: str, token: str = "", body: str = "") -> str:
        done = subprocess.run(
            ["/usr/bin/python3", "-c", fetch, server.url + path, token, body, str(token_file)],
            user=NOBODY, group=NOBODY, extra_groups=[], cwd="/",
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert as_nobody("/v1/batch/") == '401 Bearer realm="batchtui"\ncannot read the token\n'
    made = as_nobody("/v1/batch/", body='{"name": "Theirs"}')
    assert made.startswith("401 ")
    assert BatchService(Repository(db_path)).summaries() == []
    assert as_nobody("/v1/batch/", token=token).startswith("200")
    with server.client() as client:  # the owner's own plain request, as in the seed's curl
        assert client.get("/v1/batch/").status_code == 200


def test_token_files_other_accounts_could_read_or_swap_are_refused(db_path, tmp_path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-0123456789\n")
    link = tmp_path / "link"
    link.symlink_to(token_file)
    for path, mode, expected in (
        (token_file, 0o644, "chmod 600"),
        (token_file, 0o620, "chmod 600"),
        (link, 0o600, "cannot read the token file"),
    ):
        token_file.chmod(mode)
        refused = subprocess.run(
            [sys.executable, "-m", "batchtui", "--db", str(db_path), "serve", "--port", "0",
             "--token-file", str(path)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert refused.returncode == 2, refused
        assert refused.stderr.count("\n") == 1 and expected in refused.stderr


def test_bodies_over_the_limit_are_refused_before_they_are_read(server: Server) -> None:
    port = _port(server)
    head = (
        "POST /v1/batch/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_REQUEST_BYTES + 1}\r\n\r\n"
    ).encode()
    answer = _raw(port, head)  # no body sent at all: answered at once
    assert answer.startswith(b"HTTP/1.1 413 ") and b'"too_large"' in answer
    # No length given (chunked): refused as soon as it passes the limit.
    chunk = b"x" * (1024 * 1024)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(
            b"POST /v1/batch/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        answer = b""
        try:
            for _ in range(MAX_REQUEST_BYTES // len(chunk) + 4):
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed on us after the answer
        try:
            while b"\r\n\r\n" not in answer and (data := conn.recv(65536)):
                answer += data
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    with server.client() as client:  # and the server goes on
        assert client.get("/v1/batch/").status_code == 200


def test_connections_that_never_finish_their_headers_are_cut_off(server: Server) -> None:
    port = _port(server)
    slow = socket.create_connection(("127.0.0.1", port), timeout=HEADER_SECONDS + 10)
    slow.sendall(b"GET /v1/batch/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    started = time.monotonic()
    closed = False
    while time.monotonic() - started < HEADER_SECONDS + 8:
        try:
            slow.sendall(b"X-Slow: 1\r\n")  # a byte now and then, never the end
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        slow.settimeout(1.0)
        try:
            if slow.recv(1) == b"":
                closed = True
                break
        except TimeoutError:
            pass
    slow.close()
    assert closed and time.monotonic() - started >= HEADER_SECONDS - 1


def test_a_flood_of_slow_connections_never_locks_a_real_client_out(db_path) -> None:
    """1,200 connections that never finish their headers, on a box with the usual 1,024-file
    default limit, and a real client still gets in, again and again."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    size = 1200
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    try:
        running = serve(db_path)  # it inherits the usual default limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(size + 300, hard)), hard))
    port = _port(running)
    flood = []
    try:
        for _ in range(max(size, MAX_CONNECTIONS + 100)):
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
            flood.append(conn)
        for _ in range(3):
            with httpx.Client(base_url=running.url, timeout=10) as client:
                assert client.get("/v1/batch/").status_code == 200
    finally:
        for conn in flood:
            conn.close()
        running.process.kill()
        running.process.wait()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_downloads_never_follow_a_link_planted_in_the_batch_folder(
    server: Server, db_path, tmp_path
) -> None:
    service = BatchService(Repository(db_path))
    script = tmp_path / "make.py"
    script.write_text("import sys\nprint('made')\nopen(sys.argv[1], 'w').write('fine')\n")
    batch = service.create(
        "Links", generator="command", output_ext="txt", validate_output="exists",
        command=f"{sys.executable} {script} {{output}}", output_dir=str(tmp_path / "out"),
    )  # fmt: skip
    service.add_items(batch.id, ["one"])
    service.lock(batch.id)
    ran = subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db_path), "start", batch.id],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    item = service.get(batch.id).items[0]
    assert service.get(batch.id).status is BatchStatus.COMPLETE and item.output_path
    secret = tmp_path / "secret.txt"
    secret.write_text("the server owner's secret")
    with server.client() as client:
        assert client.get(f"/v1/batch/{batch.id}/items/1/output").content == b"fine"
        output = Path(item.output_path)
        output.unlink()
        output.symlink_to(secret)
        got = client.get(f"/v1/batch/{batch.id}/items/1/output")
        assert got.status_code == 404 and b"secret" not in got.content
        output.unlink()
        os.link(secret, output)  # a second name for another file
        got = client.get(f"/v1/batch/{batch.id}/items/1/output")
        assert got.status_code == 404 and b"secret" not in got.content
        if item.log_path:
            log = Path(item.log_path)
            log.unlink()
            log.symlink_to(secret)
            got = client.get(f"/v1/batch/{batch.id}/items/1/log")
            assert got.status_code == 404 and b"secret" not in got.content
            got = client.get(f"/v1/batch/{batch.id}/items/1/log?attempt=1")
            assert got.status_code == 404 and b"secret" not in got.content
            shown = subprocess.run(
                [sys.executable, "-m", "batchtui", "--db", str(db_path), "log", batch.id, "1"],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert shown.returncode != 0 and "secret" not in shown.stdout + shown.stderr


def test_the_docs_load_nothing_from_other_hosts(server: Server) -> None:
    with server.client() as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page)
            assert html.status_code == 200
            sources = re.findall(r"""(?:src|href)\s*[=:]\s*["']([^"']+)["']""", html.text)
            assert sources, html.text
            for source in sources:
                assert not re.match(r"(https?:)?//", source), source
                assert client.get(source).status_code == 200, source
            assert "cdn." not in html.text and "fonts.googleapis" not in html.text


def test_a_stop_does_not_wait_for_an_open_event_stream(db_path) -> None:
    """SIGTERM while a client follows the events of a batch that is not running (a stream
    that never ends on its own): the server still stops."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    batch = BatchService(Repository(db_path)).create("Idle")
    running = serve(db_path)
    try:
        client = httpx.Client(base_url=running.url, timeout=30)
        with client, client.stream("GET", f"/v1/batch/{batch.id}/events") as stream:
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("data:"))
            running.process.send_signal(signal.SIGTERM)
            assert running.process.wait(timeout=30) in (0, -signal.SIGTERM)  # as uvicorn ends
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def test_a_small_request_cannot_make_a_batch_of_gigabytes(server: Server, db_path) -> None:
    """The size of a batch's text as a whole is bounded, not only each item's."""
    service = BatchService(Repository(db_path))
    batch = service.create("Big", max_items=5000)
    item = "x" * 100_000
    per_request = MAX_REQUEST_BYTES // (len(item) + 4)
    with server.client() as client:
        refused = None
        for _ in range(MAX_BATCH_CONTENT_BYTES // (per_request * len(item)) + 2):
            answer = client.post(
                f"/v1/batch/{batch.id}/items", json={"contents": [item] * per_request}
            )
            if answer.status_code != 201:
                refused = answer
                break
        assert refused is not None and refused.status_code == 422
        assert "MiB of item text" in refused.json()["error"]["message"]
    stored = service.get(batch.id)
    assert sum(len(i.content) for i in stored.items) <= MAX_BATCH_CONTENT_BYTES
