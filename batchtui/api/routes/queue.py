"""`/v1/queue`: this host's box — what runs in which slot, who waits and in what order."""

from __future__ import annotations

from typing import Any

from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..routing import ResourceRouter

router = ResourceRouter(prefix="/v1/queue", tags=["queue"], responses=ERROR_RESPONSES)


@router.get("/")
def host_queue(service: Service) -> dict[str, Any]:
    """The host's slots (their limit, pools and which are free), each running item with its
    slot and that slot's environment, the items waiting for a slot in serving order (priority,
    then when each asked), and the batches running here."""
    return service.host_queue().as_json()
