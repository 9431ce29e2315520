"""The API's front door: every request, to every path (the schema and the docs included),
passes here before any route runs.

- **Who may ask.** A request carries the bearer token, or — when the server allows it (on
  loopback without `--token-file`) — it comes over loopback from the server's own account
  (`peers`: the kernel says who owns the client's socket). Anyone else gets 401 with
  `WWW-Authenticate: Bearer`. So the seed's plain `curl localhost:8000/…` works for the user
  who started the server, and no other account on a shared render box can run commands as them.
- **Which name it used.** Without the token, the Host must be a loopback name or address: a
  web page whose own name was rebound to 127.0.0.1 (DNS rebinding) sends that name, and is
  refused; so is a change (POST, PATCH, …) a page of another origin asks for.
- **How much it sends.** A body over `MAX_REQUEST_BYTES` is refused with 413, before it is read
  when it says its length, as soon as it passes the limit when it does not.

Every refusal has the API's one error shape.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.limits import MAX_REQUEST_BYTES
from ..core.textsafe import one_line
from .peers import Peers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REALM = b'Bearer realm="batchtui"'


@dataclass(frozen=True)
class Policy:
    """What the guard lets through."""

    token: str | None
    """The bearer token (None: none is accepted; only `owner`'s loopback requests pass)."""
    owner: int | None
    """The uid whose loopback requests need no token (None: every request needs it)."""
    max_body: int = MAX_REQUEST_BYTES


class BodyTooLarge(Exception):
    """The body passed the limit while it was being read."""


@functools.lru_cache(maxsize=64)  # bounded: what a client types never grows it
def is_loopback_host(header: str) -> bool:
    """Whether a Host header names this machine's loopback (`localhost`, 127.x, [::1])."""
    host = header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _refuse(send: Send, status: int, kind: str, message: str, auth: bool = False) -> None:
    body = json.dumps({"error": {"type": kind, "message": one_line(message)}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if auth:
        headers.append((b"www-authenticate", REALM))
    if status == 413:
        headers.append((b"connection", b"close"))  # the rest of the body is not read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware applying a `Policy` to every HTTP request."""

    def __init__(self, app: ASGIApp, policy: Policy, peers: Peers) -> None:
        self.app, self.policy, self.peers = app, policy, peers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        length = _header(scope, b"content-length")
        limit = self.policy.max_body
        if length is not None and length.strip().isdigit() and int(length) > limit:
            await _refuse(send, *_too_large(limit))
            return
        if length is None and _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)  # no body to count
            return
        await self.app(scope, _counting(receive, limit), send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, bool] | None:
        """Why this request may not go on (status, type, message, ask for the token), or None."""
        host = _header(scope, b"host") or ""
        who = self._who(scope, host)
        if who is not None:
            return 401, "unauthorized", who, True
        if scope.get("method") in UNSAFE:
            origin = _header(scope, b"origin")
            if origin is not None and (
                origin == "null" or urlsplit(origin).netloc.lower() != host.lower()
            ):
                message = f"a change asked for by a page of {origin[:80]} is refused"
                return 403, "cross_origin", message, False
        return None

    def _who(self, scope: Scope, host: str) -> str | None:
        """Why the asker is not let in (None: they are)."""
        policy = self.policy
        given = _bearer(_header(scope, b"authorization"))
        if given is not None and policy.token is not None:
            if hmac.compare_digest(given.encode(), policy.token.encode()):
                return None  # the token: any name (a page cannot know it)
            return "wrong token (Authorization: Bearer …)"
        if policy.owner is None:
            return "missing token (Authorization: Bearer …)"
        if not is_loopback_host(host):
            return (
                f"a request for host {host[:80]!r} needs the token (only loopback names may "
                "go without it)"
            )
        if self.peers.owner(scope.get("client")) != policy.owner:
            return (
                "missing token (Authorization: Bearer …): only the server's own account may "
                "go without it, on loopback"
            )
        return None


def _bearer(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _too_large(limit: int) -> tuple[int, str, str, bool]:
    return (
        413,
        "too_large",
        f"the request body is over {limit // (1024 * 1024)} MiB; send the items in several "
        "requests",
        False,
    )


def _counting(receive: Receive, limit: int) -> Receive:
    """`receive`, raising `BodyTooLarge` once the body passes `limit` bytes."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return counted


def too_large_refusal(limit: int = MAX_REQUEST_BYTES) -> tuple[int, str, str]:
    """The 413 for a body that passed the limit while being read (status, type, message)."""
    status, kind, message, _ = _too_large(limit)
    return status, kind, message
