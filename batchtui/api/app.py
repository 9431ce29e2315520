"""The seed's batch HTTP API over one `BatchService`: `/v1/batch` and its operations.

Every endpoint is a thin mapping onto a service method (the same ones the CLI and the TUI
call), so an API user sees exactly the rules, messages and JSON shapes of the CLI's `--json`.
Runs are handed to detached runner processes (`start_detached`): restarting the server never
stops a run. Bodies are parsed as JSON whatever their Content-Type (curl's `-d` labels JSON
as a form), and every refusal is `{"error": {"type", "message"}}` with the CLI's one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as ModelError

from ..core import limits
from ..core.errors import BatchtuiError, NotFoundError, ValidationError, model_error_line
from ..core.models import Progress
from ..service import BatchService
from ..service.views import batch_json, item_json, summary_json
from .errors import ApiError, install_error_handlers
from .events import batch_events
from .security import refuse_cross_site, require_token

M = TypeVar("M", bound=BaseModel)


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
        (404, "no such batch, item or file"),
        (409, "forbidden transition, busy, or an ambiguous reference"),
        (422, "invalid config, content or request"),
        (503, "the database cannot be read or written"),
    )
}


class CreateBatch(BaseModel):
    """`POST /v1/batch/`: a name, config fields (as `create` takes them), optional items."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=limits.MAX_NAME_CHARS)
    config: dict[str, Any] = Field(default_factory=dict)
    items: list[str] = Field(default_factory=list)
    template: str | None = Field(
        default=None, description="start from this template (its config, then `config`)"
    )
    parameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="the template's parameters"
    )


class SaveTemplate(BaseModel):
    """`POST /v1/templates`: a template document, or `batch` to save that batch's structure."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=limits.MAX_TEMPLATE_NAME_CHARS)
    batch: str | None = Field(default=None, description="save this batch's config and items")
    description: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    items: list[str] = Field(default_factory=list)
    count: int | str = 1
    overwrite: bool = False


class AddItems(BaseModel):
    """`POST /v1/batch/{id}/items`."""

    model_config = ConfigDict(extra="forbid")
    contents: list[str]


class EditItem(BaseModel):
    """`PATCH /v1/batch/{id}/items/{item}`."""

    model_config = ConfigDict(extra="forbid")
    content: str


class Concurrency(BaseModel):
    """`PUT /v1/batch/{id}/concurrency`."""

    model_config = ConfigDict(extra="forbid")
    value: int = Field(ge=limits.MIN_CONCURRENCY, le=limits.MAX_CONCURRENCY)


class DuplicateRequest(BaseModel):
    """`POST /v1/batch/{id}/duplicate` (the body is optional)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.MAX_NAME_CHARS,
        description="default: '<name> (copy)'",
    )


class RunRequest(BaseModel):
    """`POST /v1/batch/{id}/start` and `.../retry` (the body is optional)."""

    model_config = ConfigDict(extra="forbid")
    cluster: str | None = Field(
        default=None,
        description="run the items on the Dask scheduler at this address (tcp://HOST:8786); "
        "default: the server's BATCHTUI_CLUSTER; 'local': on the server's host",
    )


class RetryRequest(RunRequest):
    """`POST /v1/batch/{id}/retry` (the body is optional)."""

    items: list[str | int] | None = Field(
        default=None,
        min_length=1,
        max_length=limits.MAX_CHOSEN_ITEMS,
        description="run exactly these items again (positions or item ids), succeeded ones "
        "too; default: every item that did not succeed",
    )


def _body_doc(model: type[BaseModel] | None, *, required: bool = True) -> dict[str, Any]:
    """OpenAPI for a body read by hand (so that any Content-Type is accepted); None: an
    object of config fields."""
    schema = model.model_json_schema() if model is not None else {"type": "object"}
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": required, "content": content}}


async def _json_body(request: Request, empty: bytes = b"null") -> Any:
    """The body parsed as JSON whatever its Content-Type (`empty`: what no body means)."""
    raw = await request.body()
    try:
        return json.loads(raw or empty)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the request body is not JSON: {exc}") from None


async def _parse(request: Request, model: type[M], empty: bytes = b"null") -> M:
    data = await _json_body(request, empty)
    try:
        return model.model_validate(data)
    except ModelError as exc:
        raise ValidationError(f"invalid request: {model_error_line(exc, 'body')}") from None


def create_app(service: BatchService, *, token: str | None = None) -> FastAPI:
    """The API over `service`; with `token`, every request needs `Authorization: Bearer`."""
    app = FastAPI(
        title="batchtui",
        summary="Batches of related media: create, fill, lock, run, follow.",
        redirect_slashes=False,
        dependencies=[refuse_cross_site()] + ([require_token(token)] if token is not None else []),
    )
    install_error_handlers(app)

    def route(method: str, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        """Register `path` with and without its trailing slash (no redirects: curl -X POST
        does not follow them)."""

        def register(handler: Callable[..., Any]) -> Any:
            kwargs.setdefault("responses", ERROR_RESPONSES)
            bare = path.rstrip("/")
            app.add_api_route(bare, handler, methods=[method], **kwargs)
            app.add_api_route(
                bare + "/", handler, methods=[method], include_in_schema=False, **kwargs
            )
            return handler

        return register

    # The route clients poll is matched first (routes are tried in order).
    @route("GET", "/v1/batch/{ref}/progress", response_model=Progress)
    async def progress(ref: str) -> Response:
        """Counts per status, percent, elapsed and ETA (a run whose runner died is ended
        first, as every follower sees it)."""
        # What clients poll, answered on the event loop: a stat of the batch's file and a sum
        # over its items; the one cache is the store's snapshot of the batch, validated once
        # per version of its file (so a change costs one validation, whoever asks).
        answer = service.live_progress(ref)
        return Response(orjson.dumps(answer.model_dump(mode="json")), media_type="application/json")

    @app.get("/healthz", tags=["server"])
    def healthz() -> dict[str, Any]:
        """The server is up and its database readable."""
        service.check_readable()
        return {"ok": True, "database": str(service.database_path)}

    @route("POST", "/v1/batch/", status_code=201, openapi_extra=_body_doc(CreateBatch))
    async def create_batch(request: Request) -> JSONResponse:
        """Create a DRAFT batch (with items, if given: all or nothing)."""
        body = await _parse(request, CreateBatch)

        def make() -> dict[str, Any]:
            if body.template is not None:
                batch = service.create_from_template(
                    body.name, body.template, dict(body.parameters), **body.config
                )
            elif body.parameters:
                raise ValidationError("parameters go with a template")
            else:
                batch = service.create(body.name, **body.config)
            if body.items:
                try:
                    service.add_items(batch.id, body.items)
                except BatchtuiError:
                    service.delete(batch.id)  # nothing half made
                    raise
            return batch_json(service.get(batch.id))

        return JSONResponse(await run_in_threadpool(make), status_code=201)

    @route("GET", "/v1/batch/")
    def list_batches(
        request: Request, limit: int | None = Query(default=None, ge=1)
    ) -> list[dict[str, Any]]:
        """Every batch (or the newest `limit`), oldest first, as the index knows them."""
        raw = request.query_params.get("limit")
        if raw is not None and not raw.isdigit():  # '0.0', '1e3': not a count of batches
            raise ValidationError(f"invalid request: limit must be a whole number, not {raw!r}")
        shown, _total = service.page(limit)
        return [summary_json(s) for s in shown]

    @route("GET", "/v1/batch/{ref}")
    def get_batch(ref: str) -> dict[str, Any]:
        """One batch with its items and progress (by id, unique id prefix or name)."""
        return batch_json(service.get(ref))

    @route("DELETE", "/v1/batch/{ref}")
    def delete_batch(ref: str, outputs: bool = False) -> dict[str, Any]:
        """Forget a batch (refused while PROCESSING); `outputs=true` removes its files too."""
        gone = service.delete(ref, remove_outputs=outputs)
        return {"deleted": gone.id, "name": gone.name, "outputs_removed": outputs}

    @route("POST", "/v1/batch/{ref}/items", status_code=201, openapi_extra=_body_doc(AddItems))
    async def add_items(ref: str, request: Request) -> JSONResponse:
        """Append items to a DRAFT batch (all or nothing)."""
        body = await _parse(request, AddItems)
        items = await run_in_threadpool(service.add_items, ref, body.contents)
        return JSONResponse([item_json(i) for i in items], status_code=201)

    @route("PATCH", "/v1/batch/{ref}/items/{item}", openapi_extra=_body_doc(EditItem))
    async def edit_item(ref: str, item: str, request: Request) -> dict[str, Any]:
        """Replace one item's content (DRAFT only); `item` is an id, prefix or position."""
        body = await _parse(request, EditItem)
        return item_json(await run_in_threadpool(service.edit_item, ref, item, body.content))

    @route("DELETE", "/v1/batch/{ref}/items/{item}")
    def remove_item(ref: str, item: str) -> dict[str, Any]:
        """Remove one item (DRAFT only)."""
        return item_json(service.remove_item(ref, item))

    @route("PATCH", "/v1/batch/{ref}/config", openapi_extra=_body_doc(None))
    async def update_config(ref: str, request: Request) -> dict[str, Any]:
        """Change config fields of a DRAFT batch (validated as a whole)."""
        fields = await _json_body(request, empty=b"{}")
        if not isinstance(fields, dict):
            raise ValidationError("invalid request: the body must be an object of config fields")
        return batch_json(await run_in_threadpool(lambda: service.update_config(ref, **fields)))

    @route("PUT", "/v1/batch/{ref}/concurrency", openapi_extra=_body_doc(Concurrency))
    async def set_concurrency(ref: str, request: Request) -> dict[str, Any]:
        """How many items run at once (also while running)."""
        body = await _parse(request, Concurrency)
        return batch_json(await run_in_threadpool(service.set_concurrency, ref, body.value))

    @route("GET", "/v1/templates")
    def list_templates() -> dict[str, Any]:
        """Every template, and the malformed template files (each reported in one line)."""
        found, problems = service.templates()
        return {"templates": [t.model_dump(mode="json") for t in found], "problems": problems}

    @route("GET", "/v1/templates/{name}")
    def get_template(name: str) -> dict[str, Any]:
        """One template."""
        return service.template(name).model_dump(mode="json")

    @route("POST", "/v1/templates", status_code=201, openapi_extra=_body_doc(SaveTemplate))
    async def save_template(request: Request) -> JSONResponse:
        """Save a template: a whole document, or `{"name", "batch"}` for a batch's structure."""
        body = await _parse(request, SaveTemplate)

        def save() -> dict[str, Any]:
            if body.batch is not None:
                template = service.save_template(
                    body.batch, body.name, description=body.description, overwrite=body.overwrite
                )
            else:
                data = body.model_dump(exclude={"batch", "overwrite"})
                template = service.put_template(data, overwrite=body.overwrite)
            return template.model_dump(mode="json")

        return JSONResponse(await run_in_threadpool(save), status_code=201)

    @route("DELETE", "/v1/templates/{name}")
    def delete_template(name: str) -> dict[str, Any]:
        """Remove a template file."""
        return service.delete_template(name).model_dump(mode="json")

    @route("POST", "/v1/batch/{ref}/lock")
    def lock(ref: str) -> dict[str, Any]:
        """Validate and freeze the config (DRAFT → LOCKED)."""
        return batch_json(service.lock(ref))

    @route(
        "POST",
        "/v1/batch/{ref}/duplicate",
        status_code=201,
        openapi_extra=_body_doc(DuplicateRequest, required=False),
    )
    async def duplicate(ref: str, request: Request) -> JSONResponse:
        """A new DRAFT batch from this one: its config and items, none of its runs."""
        body = await _parse(request, DuplicateRequest, empty=b"{}")
        made = await run_in_threadpool(service.duplicate, ref, body.name)
        return JSONResponse(batch_json(made), status_code=201)

    @route("POST", "/v1/batch/{ref}/unlock")
    def unlock(ref: str) -> dict[str, Any]:
        """Back to DRAFT to edit (LOCKED → DRAFT)."""
        return batch_json(service.unlock(ref))

    run_doc = _body_doc(RunRequest, required=False)

    @route("POST", "/v1/batch/{ref}/start", status_code=202, openapi_extra=run_doc)
    async def start(ref: str, request: Request) -> JSONResponse:
        """Hand the batch to a runner process (it goes on whatever happens to the server);
        `{"cluster": "tcp://HOST:8786"}` runs its items on a Dask cluster."""
        body = await _parse(request, RunRequest, empty=b"{}")
        return await run_in_threadpool(_detached, service, ref, retry=False, cluster=body.cluster)

    @route(
        "POST",
        "/v1/batch/{ref}/retry",
        status_code=202,
        openapi_extra=_body_doc(RetryRequest, required=False),
    )
    async def retry(ref: str, request: Request) -> JSONResponse:
        """Run again only the items that did not succeed, in a runner process (optionally on
        a Dask cluster, as for start); `{"items": [2]}` runs exactly item 2 again, even after
        it succeeded."""
        body = await _parse(request, RetryRequest, empty=b"{}")
        return await run_in_threadpool(
            _detached, service, ref, retry=True, cluster=body.cluster, only=body.items
        )

    @route("POST", "/v1/batch/{ref}/cancel", status_code=202)
    def cancel(ref: str) -> JSONResponse:
        """Ask the batch's runner to stop: waiting items are cancelled, running ones stopped."""
        return JSONResponse(batch_json(service.cancel(ref)), status_code=202)

    @route("GET", "/v1/batch/{ref}/failed")
    def failed(ref: str) -> list[dict[str, Any]]:
        """Items that did not succeed, with their reasons."""
        return [item_json(i) for i in service.failed(ref)]

    @route("GET", "/v1/batch/{ref}/outputs")
    def outputs(ref: str) -> list[dict[str, Any]]:
        """Succeeded items with their output files."""
        return [item_json(i) for i in service.outputs(ref)]

    @route("GET", "/v1/batch/{ref}/events", response_class=StreamingResponse)
    def events(ref: str, request: Request) -> StreamingResponse:
        """Server-Sent Events: `item` (status, progress) and `batch` (progress) changes, then
        `end` once the batch is no longer PROCESSING. Reconnect with `Last-Event-ID` to get
        only what changed since."""
        batch_id = service.get(ref).id  # an unknown batch is a 404, not an empty stream
        stream = batch_events(service, batch_id, request.headers.get("last-event-id"))
        return StreamingResponse(
            stream,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @route("GET", "/v1/batch/{ref}/items/{item}/log", response_class=PlainTextResponse)
    def item_log(ref: str, item: str) -> PlainTextResponse:
        """An item's log as text (empty when it has logged nothing)."""
        found = _item(service, ref, item)
        if not found.log_path or not Path(found.log_path).is_file():
            return PlainTextResponse("")
        return PlainTextResponse(Path(found.log_path).read_text(errors="replace"))

    @route("GET", "/v1/batch/{ref}/items/{item}/output", response_class=FileResponse)
    def item_output(ref: str, item: str) -> FileResponse:
        """Download a succeeded item's output file."""
        found = _item(service, ref, item)
        if not found.output_path or not Path(found.output_path).is_file():
            raise NotFoundError(f"item {found.position} has no output file")
        return FileResponse(found.output_path, filename=Path(found.output_path).name)

    return app


def _item(service: BatchService, ref: str, item: str) -> Any:
    from ..service.refs import resolve_item

    return resolve_item(service.get(ref), item)


def _detached(
    service: BatchService,
    ref: str,
    *,
    retry: bool,
    cluster: str | None = None,
    only: list[str | int] | None = None,
) -> JSONResponse:
    handed = service.start_detached(ref, retry=retry, cluster=cluster, only=only)
    data = batch_json(handed.batch)
    data["runner_log"] = str(handed.log_path)
    return JSONResponse(data, status_code=202)
