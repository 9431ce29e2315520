"""Refusals as JSON: `{"error": {"type": ..., "message": ...}}` with the CLI's one line, and a
status code that says what kind of refusal it is."""

from __future__ import annotations

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


class ApiError(Exception):
    """A refusal of the HTTP layer itself (malformed JSON, a missing token)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def error_response(status: int, kind: str, message: str) -> JSONResponse:
    """The one error shape of the API."""
    return JSONResponse({"error": {"type": kind, "message": one_line(message)}}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Map every refusal to the error shape (never a traceback or an HTML page)."""

    @app.exception_handler(BatchtuiError)
    async def refused(_request: Request, exc: BatchtuiError) -> JSONResponse:
        for kind, status, name in STATUS:
            if isinstance(exc, kind):
                return error_response(status, name, str(exc))
        return error_response(400, "refused", str(exc))

    @app.exception_handler(ApiError)
    async def api_refused(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.kind, exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            422, "invalid", f"invalid request: {model_error_line(exc, 'request')}"
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http"
        )
        response = error_response(exc.status_code, kind, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:  # every method the path has, not one route's
            response.headers["Allow"] = ", ".join(sorted(_methods(app, request.url.path)))
        return response


def _methods(app: FastAPI, path: str) -> set[str]:
    methods: set[str] = set()
    for route in app.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return methods
