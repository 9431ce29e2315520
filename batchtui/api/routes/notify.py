"""`/v1/notify`: where runs announce their news — test each target, the deliveries not made
yet, and sending the given-up ones again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body

from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..routing import ResourceRouter
from ..schemas import NotifyTest

router = ResourceRouter(prefix="/v1/notify", tags=["notify"], responses=ERROR_RESPONSES)


@router.post("/test")
def test(
    service: Service, body: Annotated[NotifyTest, Body(default_factory=NotifyTest)]
) -> dict[str, Any]:
    """Send a test event now to each webhook and notification target (the batch's, else the
    host's): which answered, and the on_end hook a test does not run."""
    answers, hook = service.notify_test(body.batch)
    return {"targets": [answer.as_json() for answer in answers], "on_end": hook}


@router.get("/pending")
def deliveries(service: Service) -> list[dict[str, Any]]:
    """The deliveries not made yet (waiting for their next try), then the given-up ones."""
    return [one.as_json() for one in service.deliveries()]


@router.post("/resend")
def resend(service: Service) -> dict[str, int]:
    """Give every given-up delivery its tries again; how many."""
    return {"resent": service.resend_deliveries()}
