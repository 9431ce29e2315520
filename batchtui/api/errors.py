"""Refusals as JSON: `{"error": {"type": ..., "message": ...}}` with the CLI's one line, and a
status code that says what kind of refusal it is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..core.errors import (
    AmbiguousError,
    BatchtuiError,
    BusyError,
    ClusterError,
    MalformedBatchError,
    NotFoundError,
    StoreError,
    TransitionError,
    ValidationError,
    model_error_line,
)
from ..core.textsafe import one_line
from .guard import BodyTooLarge, too_large_refusal

STATUS: list[tuple[type[BatchtuiError], int, str]] = [
    (NotFoundError, 404, "not_found"),
    (AmbiguousError, 409, "ambiguous"),
    (TransitionError, 409, "forbidden_transition"),
    (BusyError, 409, "busy"),
    (ValidationError, 422, "invalid"),
    (MalformedBatchError, 422, "malformed_batch"),
    (StoreError, 503, "storage"),
    (ClusterError, 503, "cluster_unavailable"),
]
"""Most specific first: the first class an error is an instance of decides."""

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
"""Every refusal: what kind, and the CLI's one-line message (JSON whatever the endpoint's
own media type: a log is text, its 404 is JSON)."""

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for status, text in (
        (400, "malformed JSON"),
        (401, "missing or wrong token"),
        (413, "the request body is too large"),
        (404, "no such batch, item or file"),
        (409, "forbidden transition, busy, or an ambiguous reference"),
        (422, "invalid config, content or request"),
        (503, "the database cannot be read or written"),
    )
}
"""The refusals every `/v1` operation documents."""


class ApiError(Exception):
    """A refusal of the HTTP layer itself (malformed JSON, a missing token)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    """The one error shape of the API."""
    return JSONResponse({"error": {"type": kind, "message": one_line(message)}}, status_code=status)


class _RequestProblems:
    """A request's validation problems, a body's fields named as in the body itself
    ('name', not 'body.name'; the body as a whole is 'body'), parameters by where they are
    ('query.limit')."""

    def __init__(self, exc: RequestValidationError) -> None:
        self._errors = exc.errors()

    def errors(self) -> list[Mapping[str, Any]]:
        return [_in_body(error) for error in self._errors]


NOT_AN_OBJECT = frozenset({"missing", "model_attributes_type", "model_type", "dict_type"})
"""pydantic's words for a body that is absent or not an object, each said one way here."""


def _in_body(error: Mapping[str, Any]) -> Mapping[str, Any]:
    loc: Sequence[Any] = error.get("loc", ())
    if tuple(loc) == ("body",) and error.get("type") in NOT_AN_OBJECT:
        return {**error, "loc": (), "msg": "must be a JSON object"}
    return {**error, "loc": tuple(loc[1:])} if loc[:1] == ("body",) else error


def install_error_handlers(app: FastAPI, routes: Iterable[Any]) -> None:
    """Map every refusal to the error shape (never a traceback or an HTML page); `routes`
    are every route the app has (a 405 lists the methods of all those matching its path)."""
    routes = list(routes)

    @app.exception_handler(BatchtuiError)
    async def refused(_request: Request, exc: BatchtuiError) -> JSONResponse:
        for kind, status, name in STATUS:
            if isinstance(exc, kind):
                return error_response(status, name, str(exc))
        return error_response(400, "refused", str(exc))

    @app.exception_handler(ApiError)
    async def api_refused(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.kind, exc.message)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # A bug of ours, never the client's fault: still the one error shape (the server's
        # log has the traceback), never a bare text page.
        return error_response(
            500, "internal", f"internal error ({type(exc).__name__}); the server's log has more"
        )

    @app.exception_handler(BodyTooLarge)
    async def too_large(_request: Request, _exc: BodyTooLarge) -> JSONResponse:
        response = error_response(*too_large_refusal())
        response.headers["Connection"] = "close"  # the rest of the body is not read
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        line = model_error_line(_RequestProblems(exc), "body")
        return error_response(422, "invalid", f"invalid request: {line}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http"
        )
        response = error_response(exc.status_code, kind, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:  # every method the path has, not one route's
            response.headers["Allow"] = ", ".join(sorted(_methods(routes, request.url.path)))
        return response


def _methods(routes: Iterable[Any], path: str) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return methods
