"""`batchtui serve`'s connections: uvicorn's HTTP/1.1 protocol (h11) with three additions.

- **A deadline for each request head.** uvicorn times out idle keep-alive connections but not a
  connection that keeps sending a byte of its headers now and then (slowloris): ~1,100 of them
  used up the file limit and locked everyone out. Here a connection has `HEADER_SECONDS` from
  when it opens (or from its previous answer) to send a whole request head, or it is closed.
- **A cap on open connections** (`MAX_CONNECTIONS`), so the server always keeps descriptors
  for its database, its logs and its runners. At the cap, a new connection takes the place of
  the one that has waited longest without sending a whole request head (a slow or idle one),
  never of one being answered: a client that sends its request at once always gets in.
- **Who is on the other end**, for the guard: the account that owns the client's socket is
  looked up as the connection opens and forgotten as it closes (`api.peers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from ..api.peers import Peers
from ..core.limits import HEADER_SECONDS, MAX_CONNECTIONS

SHUTDOWN_SECONDS = 3
"""Seconds a stopping server lets the answers under way finish (then they are cut)."""


def protocol_for(
    peers: Peers,
    *,
    header_seconds: float = HEADER_SECONDS,
    max_connections: int = MAX_CONNECTIONS,
) -> type[H11Protocol]:
    """The protocol class for uvicorn's `http=` setting, filling `peers`."""
    waiting: dict[H11Protocol, None] = {}
    """Connections waiting for a request head, the longest-waiting first."""

    class GuardedProtocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                oldest = next(iter(waiting), None)
                if oldest is None:  # every connection is being answered: this one waits
                    transport.abort()  # connection_lost follows and tidies up
                    return
                waiting.pop(oldest)
                oldest.transport.abort()
            peers.opened(self.client, self.server)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            peers.closed(self.client)
            super().connection_lost(exc)

        def handle_events(self) -> None:
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a whole request head arrived
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            idle = self.cycle is None or self.cycle.response_complete  # none pipelined
            if idle and not self.transport.is_closing():
                self._arm()  # the next request's head has its own deadline

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(header_seconds, self._too_slow)
            waiting[self] = None

        def _disarm(self) -> None:
            waiting.pop(self, None)
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            waiting.pop(self, None)
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()

    return GuardedProtocol


def raise_file_limit() -> None:
    """Let this process open as many files as the system allows it (the soft limit up to the
    hard one): connections, the database and logs share them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for wanted in (hard, 1 << 20, 65536):  # "unlimited" is not a number the kernel takes
        if wanted != resource.RLIM_INFINITY and wanted <= soft:
            return
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            return


def server_options() -> dict[str, Any]:
    """uvicorn settings that go with the protocol: idle keep-alive connections closed after
    5 s, request heads of at most 64 KiB, and a stop (ctrl+c, SIGTERM) that waits at most
    `SHUTDOWN_SECONDS` for answers under way — an open event stream never ends on its own, and
    made the server wait forever."""
    return {
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 64 * 1024,
        "timeout_graceful_shutdown": SHUTDOWN_SECONDS,
    }
