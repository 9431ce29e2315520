"""The API's one credential: a bearer token, compared in constant time; and no changes
asked for by another site's web page."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, Request

from .errors import ApiError


def require_token(token: str | None) -> Any:
    """A dependency that refuses requests without `Authorization: Bearer <token>` (none
    when `token` is None: the loopback default, as in the seed's example)."""

    async def check(request: Request) -> None:  # async: no thread hop per request
        if token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            raise ApiError(401, "unauthorized", "missing or wrong token (Authorization: Bearer …)")

    return Depends(check)


UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_cross_site() -> Any:
    """A dependency that refuses a change a web page of another origin asked for.

    Bodies are read as JSON whatever their Content-Type (so curl's `-d` works), and loopback
    needs no token: without this, any page open in a browser on this machine could POST a
    form here and start a command batch. Browsers always send `Origin` on such requests;
    curl, scripts and the CLI send none, and are not affected."""

    async def check(request: Request) -> None:
        if request.method not in UNSAFE:
            return
        origin = request.headers.get("origin")
        if origin is None:
            return
        host = request.headers.get("host", "")
        if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
            raise ApiError(
                403, "cross_origin", f"a change asked for by a page of {origin} is refused"
            )

    return Depends(check)
