"""`/v1/batch/{ref}/…` for runs: start, retry, cancel, and follow them (progress, events,
what failed, what came out)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Body, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ...core.models import Progress
from ...service import BatchService
from ...service.views import batch_json, item_json
from ..answers import BatchAnswer, ItemAnswer, answer
from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..events import batch_events
from ..routing import ResourceRouter
from ..schemas import RetryRequest, RunRequest

router = ResourceRouter(prefix="/v1/batch/{ref}", tags=["runs"], responses=ERROR_RESPONSES)


# The route clients poll is matched first (routes are tried in order).
@router.get("/progress", response_model=Progress)
async def progress(ref: str, service: Service) -> Response:
    """Counts per status, percent, elapsed and ETA (a run whose runner died is ended
    first, as every follower sees it)."""
    # What clients poll, answered on the event loop: a stat of the batch's file and a sum
    # over its items (a due runner check runs in a thread); the one cache is the store's
    # snapshot of the batch, validated once per version of its file.
    answer = await service.progress_on_loop(ref)
    return Response(orjson.dumps(answer.model_dump(mode="json")), media_type="application/json")


@router.post(
    "/start",
    status_code=202,
    response_model=None,
    responses=answer(202, BatchAnswer, "the batch as handed to its runner"),
)
def start(
    ref: str, service: Service, body: Annotated[RunRequest, Body(default_factory=RunRequest)]
) -> JSONResponse:
    """Hand the batch to a runner process (it goes on whatever happens to the server);
    `{"cluster": "tcp://HOST:8786"}` runs its items on a Dask cluster. `{"after": "A"}`
    (`"after_ok": true`: only if A ends COMPLETE), `{"at": "02:00"}` or `{"in": "3h"}` queue
    the start instead: the batch shows QUEUED / SCHEDULED and starts on its own then.
    `{"budget": 5.0}` and `{"confirm_forecast": true}` set the run's own settings (kept)."""
    with service.run_settings(ref, **body.settings()):  # (put back if the start is refused)
        if body.deferred:
            queued = service.queue_start(
                ref,
                after=body.after,
                after_ok=body.after_ok,
                at=body.at,
                delay=body.delay,
                cluster=body.cluster,
            )
            return JSONResponse(batch_json(queued), status_code=202)
        return _handed(service, ref, retry=False, cluster=body.cluster)


@router.post(
    "/retry",
    status_code=202,
    response_model=None,
    responses=answer(202, BatchAnswer, "the batch as handed to its runner"),
)
def retry(
    ref: str, service: Service, body: Annotated[RetryRequest, Body(default_factory=RetryRequest)]
) -> JSONResponse:
    """Run again only the items that did not succeed, in a runner process (optionally on
    a Dask cluster, as for start); `{"items": [2]}` runs exactly item 2 again, even after
    it succeeded; `{"rejected": true}` makes the rejected outputs again as new takes."""
    with service.run_settings(ref, **body.settings()):  # (put back if the retry is refused)
        return _handed(
            service, ref, retry=True, cluster=body.cluster, only=body.items, rejected=body.rejected
        )


@router.post(
    "/cancel",
    status_code=202,
    response_model=None,
    responses=answer(202, BatchAnswer, "the batch, its runner asked to stop"),
)
def cancel(ref: str, service: Service) -> JSONResponse:
    """Ask the batch's runner to stop: waiting items are cancelled, running ones stopped."""
    return JSONResponse(batch_json(service.cancel(ref)), status_code=202)


@router.post(
    "/confirm",
    status_code=202,
    response_model=None,
    responses=answer(202, BatchAnswer, "the batch, its runner told to go on"),
)
def confirm(ref: str, service: Service) -> JSONResponse:
    """Yes to the forecast the run waits on after its canary (`confirm_forecast`): the other
    items start. 422 when it waits for none; cancel is the no."""
    return JSONResponse(batch_json(service.confirm(ref)), status_code=202)


@router.get(
    "/failed",
    response_model=None,
    responses=answer(200, list[ItemAnswer], "the items that did not succeed"),
)
def failed(ref: str, service: Service) -> list[dict[str, Any]]:
    """Items that did not succeed, with their reasons."""
    return [item_json(i) for i in service.failed(ref)]


@router.get(
    "/outputs",
    response_model=None,
    responses=answer(200, list[ItemAnswer], "the succeeded items, with their output files"),
)
def outputs(ref: str, service: Service, approved: bool = False) -> list[dict[str, Any]]:
    """Succeeded items with their output files (`approved=true`: only those approved in
    review)."""
    chosen = service.approved(ref) if approved else service.outputs(ref)
    return [item_json(i) for i in chosen]


@router.get("/qa", response_model=None)
def qa(ref: str, service: Service) -> dict[str, Any]:
    """The batch's video outputs measured now with ffmpeg's filters (its `qa` checks, else
    black, frozen and first_frame): each one's findings (`passed`, `findings`: check and reason,
    `stats`) and the series' spread (duration, loudness: min, median, max; fps, codecs,
    sizes). Measurements are kept per version of each file, so asking again is quick."""
    return service.qa_report(ref).as_json()


@router.get("/events", response_class=StreamingResponse)
def events(ref: str, request: Request, service: Service) -> StreamingResponse:
    """Server-Sent Events: `item` (status, progress; which item it is: `item_id`, `label`
    such as `3.v2`, `key`, `variant`, `vars`), `removed` (an item gone: deleted from a
    draft, or a variant folded back by unlock) and `batch` (progress) changes, then `end`
    once the batch is no longer PROCESSING. Reconnect with `Last-Event-ID` to get
    only what changed since."""
    batch_id = service.get(ref).id  # an unknown batch is a 404, not an empty stream
    stream = batch_events(service, batch_id, request.headers.get("last-event-id"))
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _handed(
    service: BatchService,
    ref: str,
    *,
    retry: bool,
    cluster: str | None = None,
    only: list[str | int] | None = None,
    rejected: bool = False,
) -> JSONResponse:
    """The batch as handed to a detached runner, with where that runner logs."""
    handed = service.start_detached(ref, retry=retry, cluster=cluster, only=only, rejected=rejected)
    data = batch_json(handed.batch)
    data["runner_log"] = str(handed.log_path)
    return JSONResponse(data, status_code=202)
