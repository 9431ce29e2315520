"""A real HTTP receiver on 127.0.0.1 for the tests of webhooks and Apprise's json:// target:
it records every request (headers and body bytes) and answers with the statuses it is given,
in order (then 200)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    url: str
    answers: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, limit: float = 60.0) -> list[Received]:
        """The requests once there are at least `count` (fails after `limit` seconds)."""
        deadline = time.monotonic() + limit
        while True:
            with self.lock:
                if len(self.got) >= count:
                    return list(self.got)
            assert time.monotonic() < deadline, f"{len(self.got)} requests, wanted {count}"
            time.sleep(0.02)


@contextmanager
def receiver(answers: list[int | tuple[int, dict[str, str]]] | None = None) -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 while the block runs; `answers`: the
    status (and headers) of its first answers, in order."""
    state = Receiver(url="", answers=list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.got.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        time.time(),
                    )
                )
                answer = state.answers.pop(0) if state.answers else 200
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
