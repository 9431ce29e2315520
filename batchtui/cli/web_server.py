"""The server behind `batchtui web`: textual-serve's aiohttp app, guarded.

textual-serve has no auth of its own, and a websocket is not held to the same-origin rule, so
a guard runs in front of every request (an aiohttp middleware):

- with a token: the browser presents it once, as `/?token=…`; that answer is a redirect to
  the same page without it, setting an HttpOnly cookie. Every other HTTP or websocket
  request without that cookie (or `Authorization: Bearer`) is refused with 401.
- without one (loopback only): the Host header must name a loopback address, so a web page
  cannot reach the server through a DNS name rebound to 127.0.0.1.
- either way, a websocket opened from a page of another origin is refused with 403: else any
  web site the user visits could drive the UI in their name.

The page's own addresses (its scripts, its websocket) are made from the address the browser
used, so they work through `--port 0`, a wildcard bind or an SSH tunnel alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware
from textual_serve.server import Server

from .listening import is_loopback

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SHUTDOWN_SECONDS = 5.0
"""How long stopping the server waits for open tabs' requests once their TUIs were told to
quit (the TUIs themselves are told at once)."""


def _same(given: str | None, token: str) -> bool:
    """Whether `given` is the token (in constant time)."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _refused(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=f"batchtui web: {reason}\n")


def _foreign_origin(request: web.Request) -> bool:
    """Whether the request comes from a page of another origin than the address it went to
    (a request with no Origin, from a program rather than a page, is not foreign)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != request.host.lower()


def _names_loopback(request: web.Request) -> bool:
    """Whether the request's Host header names a loopback address."""
    try:
        name = request.url.host
    except ValueError:  # not even a host name
        return False
    return name is not None and is_loopback(name)


def guard(token: str | None, cookie: str) -> Middleware:
    """The middleware that checks every request (see the module's docstring)."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is None:
            if not _names_loopback(request):
                return _refused(
                    403, f"this server answers to a loopback address only, not {request.host}"
                )
        elif _same(request.query.get("token"), token):
            if request.method in ("GET", "HEAD") and request.path == "/":
                # Once: the cookie keeps it, and the address bar and history lose it.
                query = [(key, value) for key, value in request.query.items() if key != "token"]
                response = web.Response(
                    status=303, headers={"Location": str(request.rel_url.with_query(query))}
                )
                response.set_cookie(cookie, token, httponly=True, samesite="Lax", path="/")
                return response
        elif not (_same(request.cookies.get(cookie), token) or _same(_bearer(request), token)):
            return _refused(
                401, "a token is needed: open the address the server printed (…/?token=…)"
            )
        if request.path == "/ws" and _foreign_origin(request):
            return _refused(403, "a websocket from a page of another site is refused")
        return await handler(request)

    return check


class WebServer(Server):
    """textual-serve's server, one TUI process per tab, with the guard in front."""

    def __init__(self, command: str, *, token: str | None, port: int) -> None:
        super().__init__(command, title="batchtui")
        self.token = token
        self.cookie = f"batchtui-web-{port}"
        """Cookies are per host, not per port: two servers on one host keep one each."""
        self._tabs: set[asyncio.Task[Any]] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(guard(self.token, self.cookie))
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: `batchtui web` prints its own start line (textual-serve prints a logo)."""

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # The page links its scripts and its websocket through `public_url`: make it the
        # address this browser used. Nothing awaits between setting and reading it.
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        task = asyncio.current_task()
        assert task is not None
        self._tabs.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        """Stopping the server ends each open tab: its TUI is told to quit (runs go on)."""
        tabs = list(self._tabs)
        for tab in tabs:
            tab.cancel()
        for tab in tabs:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await tab


def serve_forever(server: WebServer, listener: socket.socket) -> None:
    """Serve on `listener` until ctrl+c (or SIGTERM)."""
    web.run_app(
        server._make_app(),
        sock=listener,
        print=None,
        access_log=None,
        shutdown_timeout=SHUTDOWN_SECONDS,
        handle_signals=True,
    )
