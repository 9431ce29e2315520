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
used, so they work through `--port 0`, a wildcard bind or an SSH tunnel alike. The page is
batchtui's own (web_page/app_index.html): it fetches nothing from another host and gives the
terminal the keyboard at once.

An item's files are served behind the same guard, at `/items/BATCH/ITEM/` (a page that plays
the video with its poster, with download links) and `/items/BATCH/ITEM/output`, `/poster` or
`/picture` (what shows it: its poster, a frame of its video) (`?download=1`: as an
attachment); a batch's contact sheet (every output's picture, each linking to its page) at
`/sheets/BATCH/`. Only the files the item's record names are served: the address names a batch
and an item by id, never a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware
from textual_serve.server import Server

from ..core.item_vars import as_text
from ..core.models import Batch, BatchItem
from ..core.review import review_counts, review_state
from ..service import BatchService
from ..service.item_files import KINDS, item_address, item_files
from ..service.pictures import picture_of
from .listening import is_loopback

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAGE_FOLDER = Path(__file__).parent / "web_page"
"""batchtui's page (textual-serve's, made local and focused): see app_index.html."""

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


def _item_page(item: BatchItem, files: dict[str, Path], batch_id: str) -> str:
    """A page that plays the item's output (its poster as the still) and links downloads."""

    def url(kind: str, download: bool = False) -> str:
        query = "?download=1" if download else ""
        return html.escape(item_address(batch_id, item.id, kind) + query)

    title = html.escape(item.content.splitlines()[0] if item.content.strip() else item.id)
    parts = [f"<h1>Item {html.escape(item.label)}: {title}</h1>"]
    looked = review_state(item)
    if looked is not None:
        note = item.review.note if item.review is not None and item.review.note else ""
        said = looked.replace("_", " ") + (f": {note}" if note else "")
        parts.append(f'<p class="review {looked}">{html.escape(said)}</p>')
    # Its key and variables: user text, escaped like the title (never markup).
    named = [("key", item.key)] if item.key else []
    named += [(name, as_text(value)) for name, value in (item.vars or {}).items()]
    if named:
        rows = "".join(
            f"<dt>{html.escape(name)}</dt><dd>{html.escape(value)}</dd>" for name, value in named
        )
        parts.append(f"<dl>{rows}</dl>")
    poster = f' poster="{url("poster")}"' if "poster" in files else ""
    if "output" in files:
        parts.append(f'<video controls preload="metadata" src="{url("output")}"{poster}></video>')
    elif "poster" in files:
        parts.append(f'<img alt="poster" src="{url("poster")}">')
    else:
        parts.append("<p>No output file yet.</p>")
    for kind, path in files.items():
        name = html.escape(path.name)
        parts.append(f'<p><a href="{url(kind, True)}" download="{name}">download {name}</a></p>')
    return _page(title, "".join(parts))


_STYLE = (
    "body{background:#0c181f;color:#eee;font-family:monospace;margin:2em}"
    "video,img{max-width:100%;max-height:75vh}a{color:#8cf}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{color:#8cf}"
    "dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".approved{color:#5d5}.rejected{color:#f77}"
    ".sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(11em,1fr));gap:1em}"
    ".sheet figure{margin:0}.sheet img{width:100%;aspect-ratio:9/16;object-fit:cover;"
    "background:#222;max-height:none}.sheet figcaption{overflow-wrap:anywhere}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _sheet_page(batch: Batch) -> str:
    """A batch's contact sheet: each output's picture, a link to its page (which plays it),
    its review."""
    title = html.escape(batch.name)
    counts = review_counts(batch.items).words() or "no output yet"
    tiles = []
    for item in batch.items:
        if not item.output_path:
            continue
        page = html.escape(item_address(batch.id, item.id))
        picture = html.escape(item_address(batch.id, item.id, "picture"))
        looked = review_state(item) or ""
        words = html.escape(item.content.splitlines()[0] if item.content.strip() else item.id)
        mark = {"approved": "✔ approved · ", "rejected": "✘ rejected · "}.get(looked, "")
        tiles.append(
            f'<figure><a href="{page}"><img loading="lazy" alt="{words}" src="{picture}"></a>'
            f'<figcaption><b>{html.escape(item.label)}</b> <span class="{looked}">'
            f"{mark}</span>{words}</figcaption></figure>"
        )
    body = f"<h1>{title}</h1><p>{html.escape(counts)}</p>"
    body += f'<div class="sheet">{"".join(tiles)}</div>' if tiles else "<p>No outputs yet.</p>"
    return _page(title, body)


class WebServer(Server):
    """textual-serve's server, one TUI process per tab, with the guard in front; it also
    serves items' files (see the module's docstring)."""

    def __init__(
        self, command: str, *, token: str | None, port: int, service: BatchService
    ) -> None:
        super().__init__(command, title="batchtui", templates_path=PAGE_FOLDER)
        self.service = service
        self.token = token
        self.cookie = f"batchtui-web-{port}"
        """Cookies are per host, not per port: two servers on one host keep one each."""
        self._tabs: set[asyncio.Task[Any]] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(guard(self.token, self.cookie))
        app.router.add_get("/items/{batch}/{item}/", self.handle_item_page)
        app.router.add_get("/items/{batch}/{item}/{kind}", self.handle_item_file)
        app.router.add_get("/sheets/{batch}/", self.handle_sheet)
        return app

    async def handle_sheet(self, request: web.Request) -> web.StreamResponse:
        """A batch's contact sheet: its outputs' pictures, each linking to its item's page."""
        batch = await asyncio.to_thread(self.service.find_by_id, request.match_info["batch"])
        if batch is None:
            raise web.HTTPNotFound(text="batchtui web: no such batch\n")
        return web.Response(text=_sheet_page(batch), content_type="text/html")

    async def _item(self, request: web.Request) -> tuple[BatchItem, dict[str, Path]]:
        """The item the address names (exact ids) and its recorded files; 404 if none."""
        batch_id, item_id = request.match_info["batch"], request.match_info["item"]
        batch = await asyncio.to_thread(self.service.find_by_id, batch_id)
        item = next((i for i in batch.items if i.id == item_id), None) if batch else None
        if item is None:
            raise web.HTTPNotFound(text="batchtui web: no such item\n")
        return item, await asyncio.to_thread(item_files, item)

    async def handle_item_page(self, request: web.Request) -> web.StreamResponse:
        """An item's page: its video (with its poster) and download links."""
        item, files = await self._item(request)
        page = _item_page(item, files, request.match_info["batch"])
        return web.Response(text=page, content_type="text/html")

    async def handle_item_file(self, request: web.Request) -> web.StreamResponse:
        """One of an item's recorded files (ranges too, so a video can seek)."""
        kind = request.match_info["kind"]
        if kind not in KINDS:
            raise web.HTTPNotFound(text=f"batchtui web: an item has no {kind!r}\n")
        item, files = await self._item(request)
        if kind == "picture":  # what shows it: its poster, a frame (taken once), an image
            found = await asyncio.to_thread(picture_of, item)
            files = {"picture": found} if found is not None else {}
        if kind not in files:
            raise web.HTTPNotFound(text=f"batchtui web: this item has no {kind} file yet\n")
        path = files[kind]
        response = web.FileResponse(path)
        if request.query.get("download"):
            response.headers["Content-Disposition"] = (
                f"attachment; filename*=UTF-8''{quote(path.name, safe='')}"
            )
        return response

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
