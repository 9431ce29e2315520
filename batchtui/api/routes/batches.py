"""`/v1/batch`: create, list, show, delete, configure, lock, unlock and duplicate batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Request
from fastapi.responses import JSONResponse

from ...core.errors import BatchtuiError, ValidationError
from ...service.views import batch_json, summary_json
from ..answers import BatchAnswer, answer
from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..routing import ResourceRouter
from ..schemas import CONFIG_FIELDS_DOC, Concurrency, CreateBatch, DuplicateRequest, Priority

router = ResourceRouter(prefix="/v1/batch", tags=["batches"], responses=ERROR_RESPONSES)


@router.post(
    "/",
    status_code=201,
    response_model=None,
    responses=answer(201, BatchAnswer, "the new batch"),
)
def create_batch(body: CreateBatch, service: Service) -> JSONResponse:
    """Create a DRAFT batch (with items, if given: all or nothing)."""
    if body.template is not None:
        batch = service.create_from_template(
            body.name, body.template, dict(body.parameters), **body.config
        )
    elif body.parameters:
        raise ValidationError("parameters go with a template")
    else:
        batch = service.create(body.name, **body.config)
    if body.items:
        contents = [item if isinstance(item, str) else item.content for item in body.items]
        objects = [item for item in body.items if not isinstance(item, str)]
        try:
            service.add_items(
                batch.id,
                contents,
                [None if isinstance(i, str) else i.vars for i in body.items] if objects else None,
                [None if isinstance(i, str) else i.key for i in body.items] if objects else None,
            )
        except BatchtuiError:
            service.delete(batch.id)  # nothing half made
            raise
    return JSONResponse(batch_json(service.get(batch.id)), status_code=201)


@router.get("/")
def list_batches(
    request: Request, service: Service, limit: Annotated[int | None, Query(ge=1)] = None
) -> list[dict[str, Any]]:
    """Every batch (or the newest `limit`), oldest first, as the index knows them."""
    raw = request.query_params.get("limit")
    if raw is not None and not raw.isdigit():  # '0.0', '1e3': not a count of batches
        raise ValidationError(f"invalid request: limit must be a whole number, not {raw!r}")
    shown, _total = service.page(limit)
    return [summary_json(s) for s in shown]


@router.get(
    "/{ref}",
    response_model=None,
    responses=answer(200, BatchAnswer, "the batch, its items and progress"),
)
def get_batch(ref: str, service: Service) -> dict[str, Any]:
    """One batch with its items and progress (by id, unique id prefix or name)."""
    return batch_json(service.get(ref))


@router.delete("/{ref}")
def delete_batch(ref: str, service: Service, outputs: bool = False) -> dict[str, Any]:
    """Forget a batch (refused while PROCESSING); `outputs=true` removes its files too."""
    gone = service.delete(ref, remove_outputs=outputs)
    return {"deleted": gone.id, "name": gone.name, "outputs_removed": outputs}


@router.patch(
    "/{ref}/config",
    response_model=None,
    responses=answer(200, BatchAnswer, "the batch as changed"),
)
def update_config(
    ref: str,
    service: Service,
    fields: Annotated[dict[str, Any], Body(default_factory=dict, description=CONFIG_FIELDS_DOC)],
) -> dict[str, Any]:
    """Change config fields of a DRAFT batch (validated as a whole)."""
    return batch_json(service.update_config(ref, **fields))


@router.put(
    "/{ref}/concurrency",
    response_model=None,
    responses=answer(200, BatchAnswer, "the batch as changed"),
)
def set_concurrency(ref: str, body: Concurrency, service: Service) -> dict[str, Any]:
    """How many items run at once (also while running)."""
    return batch_json(service.set_concurrency(ref, body.value))


@router.put(
    "/{ref}/priority",
    response_model=None,
    responses=answer(200, BatchAnswer, "the batch as changed"),
)
def set_priority(ref: str, body: Priority, service: Service) -> dict[str, Any]:
    """The batch's priority on this host (also while running; kept for later runs)."""
    return batch_json(service.set_priority(ref, body.value))


@router.post(
    "/{ref}/lock",
    response_model=None,
    responses=answer(200, BatchAnswer, "the locked batch (with variants: a row per variant)"),
)
def lock(ref: str, service: Service) -> dict[str, Any]:
    """Validate and freeze the config (DRAFT → LOCKED)."""
    return batch_json(service.lock(ref))


@router.post(
    "/{ref}/unlock",
    response_model=None,
    responses=answer(200, BatchAnswer, "the batch, DRAFT again (variants folded back)"),
)
def unlock(ref: str, service: Service) -> dict[str, Any]:
    """Back to DRAFT to edit (LOCKED or FAILED → DRAFT)."""
    return batch_json(service.unlock(ref))


@router.post(
    "/{ref}/duplicate",
    status_code=201,
    response_model=None,
    responses=answer(201, BatchAnswer, "the new batch"),
)
def duplicate(
    ref: str,
    service: Service,
    body: Annotated[DuplicateRequest, Body(default_factory=DuplicateRequest)],
) -> JSONResponse:
    """A new DRAFT batch from this one: its config and items, none of its runs."""
    return JSONResponse(batch_json(service.duplicate(ref, body.name)), status_code=201)
