"""Pausing runs: `/v1/batch/{ref}/pause|resume` for one batch, `/v1/host/pause|resume` for
every batch on this host (the flag every runner obeys, `batchtui pause --all`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body
from fastapi.responses import JSONResponse

from ...core.models import BatchStatus
from ...service.views import batch_json
from ..answers import BatchAnswer, answer
from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..routing import ResourceRouter
from ..schemas import HostPause, PauseRequest

router = ResourceRouter(prefix="/v1/batch/{ref}", tags=["runs"], responses=ERROR_RESPONSES)
host_router = ResourceRouter(prefix="/v1/host", tags=["runs"], responses=ERROR_RESPONSES)


@router.post(
    "/pause",
    status_code=202,
    response_model=None,
    responses=answer(202, BatchAnswer, "the batch, its runner paused"),
)
def pause(
    ref: str, service: Service, body: Annotated[PauseRequest, Body(default_factory=PauseRequest)]
) -> JSONResponse:
    """Pause a PROCESSING batch: no new item starts (none asks for a slot), running ones
    finish; `{"now": true}` freezes them too. It stays PROCESSING, `"paused"` says how."""
    return JSONResponse(batch_json(service.pause(ref, now=body.now)), status_code=202)


@router.post(
    "/resume",
    status_code=202,
    response_model=None,
    responses=answer(202, BatchAnswer, "the batch, going on (or handed to a runner to retry)"),
)
def resume(ref: str, service: Service) -> JSONResponse:
    """A paused batch goes on; a PARTIAL or FAILED one is retried in a runner process (as
    `POST .../retry`: `resume` has meant that since before there was pause)."""
    batch = service.resume(ref)
    if batch.status is BatchStatus.PROCESSING:
        return JSONResponse(batch_json(batch), status_code=202)
    handed = service.start_detached(batch.id, retry=True)
    data = batch_json(handed.batch)
    data["runner_log"] = str(handed.log_path)
    return JSONResponse(data, status_code=202)


@host_router.get("/pause", response_model=HostPause)
def host_paused(service: Service) -> HostPause:
    """Whether every batch on this host is held (`pause --all`), and how."""
    return HostPause(paused=service.host_pause())


@host_router.post("/pause", response_model=HostPause)
def pause_host(
    service: Service, body: Annotated[PauseRequest, Body(default_factory=PauseRequest)]
) -> HostPause:
    """Pause every batch on this host, running ones at their runner's next write (within
    a second) and ones started later from their first item; until `POST /v1/host/resume`."""
    return HostPause(paused=service.pause_host(now=body.now))


@host_router.post("/resume", response_model=HostPause)
def resume_host(service: Service) -> HostPause:
    """Lift the host's pause (batches paused on their own stay paused)."""
    service.resume_host()
    return HostPause(paused=None)
