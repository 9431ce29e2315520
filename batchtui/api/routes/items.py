"""`/v1/batch/{ref}/items`: add, edit and remove a batch's items; an item's log and output."""

from __future__ import annotations

import mimetypes
import os
from typing import Annotated, Any

from fastapi import Query, Response
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

from ...core.errors import NotFoundError
from ...service.views import item_json
from ..answers import ItemAnswer, answer
from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..files import file_response
from ..routing import ResourceRouter
from ..schemas import AddItems, EditItem, ReviewBody

router = ResourceRouter(prefix="/v1/batch/{ref}/items", tags=["items"], responses=ERROR_RESPONSES)


@router.post(
    "/",
    status_code=201,
    response_model=None,
    responses=answer(201, list[ItemAnswer], "the items added"),
)
def add_items(ref: str, body: AddItems, service: Service) -> JSONResponse:
    """Append items to a DRAFT batch (all or nothing): `{"contents": [...]}`, or
    `{"items": [{"content": ..., "vars": {"voice": "alto"}, "key": "intro"}]}` (a key given
    twice, or one already naming an item: nothing added)."""
    if body.items is not None:
        contents = [item.content for item in body.items]
        variables = [item.vars for item in body.items]
        keys = [item.key for item in body.items]
        added = service.add_items(ref, contents, variables, keys)
    else:
        added = service.add_items(ref, body.contents or [])
    return JSONResponse([item_json(i) for i in added], status_code=201)


@router.patch(
    "/{item}",
    response_model=None,
    responses=answer(200, ItemAnswer, "the item as changed"),
)
def edit_item(ref: str, item: str, body: EditItem, service: Service) -> dict[str, Any]:
    """Change one item (DRAFT only): its content, some of its variables (a null value unsets
    one) and its key (null or "" drops it); all or nothing. `item` is an id, a key, a
    position, a variant (`3.v2`) or an id prefix."""
    values, unset, key = body.changes()
    return item_json(service.edit_item(ref, item, body.content, values, unset, key=key))


@router.delete(
    "/{item}",
    response_model=None,
    responses=answer(200, ItemAnswer, "the item removed"),
)
def remove_item(ref: str, item: str, service: Service) -> dict[str, Any]:
    """Remove one item (DRAFT only)."""
    return item_json(service.remove_item(ref, item))


@router.post(
    "/{item}/review",
    response_model=None,
    responses=answer(200, ItemAnswer, "the item as reviewed"),
)
def review_item(ref: str, item: str, body: ReviewBody, service: Service) -> dict[str, Any]:
    """Approve or reject a succeeded item's output, with an optional one-line note (`item`
    as for PATCH; an item with variants: each of them). 422 for an item with no output to
    review."""
    reviewed = service.review(ref, [item], body.verdict, body.note)
    return item_json(reviewed[0])


@router.get("/{item}/log", response_class=PlainTextResponse)
def item_log(
    ref: str,
    item: str,
    service: Service,
    attempt: Annotated[int | None, Query(ge=1, description="that attempt's part only")] = None,
) -> Response:
    """An item's log as text: every attempt's, or `attempt`'s part (empty when it has logged
    nothing); the same read as `batchtui log`."""
    found = service.item(ref, item)
    if attempt is not None:
        return PlainTextResponse(service.item_log(ref, found.id, attempt).text)
    if not found.log_path or not os.path.lexists(found.log_path):
        return PlainTextResponse("")
    what = f"item {found.label}'s log"
    text = "text/plain; charset=utf-8"
    return file_response(found.log_path, what, media_type=text, download=False)


@router.get("/{item}/output", response_class=FileResponse)
def item_output(ref: str, item: str, service: Service) -> Response:
    """Download a succeeded item's output file."""
    found = service.item(ref, item)
    if not found.output_path:
        raise NotFoundError(f"item {found.label} has no output file")
    kind = mimetypes.guess_type(found.output_path)[0] or "application/octet-stream"
    what = f"item {found.label}'s output"
    return file_response(found.output_path, what, media_type=kind, download=True)
