"""How every resource's routes behave alike: bodies are JSON whatever their Content-Type, and
every path answers with and without its trailing slash.

curl's `-d` labels JSON as a form, and the seed's README sends it so: FastAPI alone would then
refuse the body. `JsonBodyRoute` decodes the body itself and hands FastAPI a request that says
JSON, so the endpoint's pydantic model parses (and documents) it as usual. A body that is not
JSON is refused with 400 `malformed_json`, after the token and the cross-site checks (as a body
read by hand was): the failure is noted on the request and a dependency raises it in turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from .errors import ApiError

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _DecodedRequest(Request):
    """A request whose body is already decoded JSON (FastAPI reads `body` and `json`)."""

    def __init__(self, request: Request, raw: bytes, decoded: Any) -> None:
        super().__init__(request.scope, request.receive)
        self._raw, self._decoded = raw, decoded

    async def body(self) -> bytes:
        return self._raw

    async def json(self) -> Any:
        return self._decoded


async def _as_json(request: Request) -> Request:
    """`request` with its body decoded as JSON, labelled so; a body that is not JSON is noted
    (for `refuse_malformed_body`) and handed on as no body at all."""
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client left mid-body: nobody to answer, nothing to log
        raise HTTPException(400, "the client left before its request body was sent") from None
    if not raw:
        return request  # no body: the endpoint's default, or "body: Field required"
    try:
        decoded = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        request.state.malformed_body = f"the request body is not JSON: {exc}"
        raw, decoded = b"", None
    except RecursionError:  # [[[[…: deeper than any request of ours
        request.state.malformed_body = "the request body is JSON nested too deeply"
        raw, decoded = b"", None
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
    request.scope["headers"] = [*headers, (b"content-type", b"application/json")]
    return _DecodedRequest(request, raw, decoded)


async def refuse_malformed_body(request: Request) -> None:
    """400 for a body that is not JSON (runs after the app's own checks, before validation)."""
    problem = getattr(request.state, "malformed_body", None)
    if problem is not None:
        raise ApiError(400, "malformed_json", problem)


class JsonBodyRoute(APIRoute):
    """A route whose body, if it takes one, is read as JSON whatever its Content-Type."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if BODY_METHODS & set(kwargs.get("methods") or ()):
            kwargs["dependencies"] = [
                *(kwargs.get("dependencies") or ()),
                Depends(refuse_malformed_body),
            ]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if self.body_field is None:
            return handle  # a body sent anyway is ignored, unread

        async def handle_json(request: Request) -> Response:
            return await handle(await _as_json(request))

        return handle_json


class ResourceRouter(APIRouter):
    """An `APIRouter` of `JsonBodyRoute`s, each path also registered with a trailing slash
    (left out of the schema): no redirects, since `curl -X POST` does not follow them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(route_class=JsonBodyRoute, **kwargs)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        bare = path.rstrip("/")
        super().add_api_route(bare, endpoint, **kwargs)
        super().add_api_route(bare + "/", endpoint, **{**kwargs, "include_in_schema": False})
