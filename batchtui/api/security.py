"""The API's one credential: a bearer token, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

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
