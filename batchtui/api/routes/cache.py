"""`/v1/cache`: the pipelines' stage caches — their size, and trimming them."""

from __future__ import annotations

from typing import Any

from ...core.deferral import DELAY_RULE, parse_delay
from ...core.errors import ValidationError
from ...core.sizes import parse_size
from ..deps import Service
from ..errors import ERROR_RESPONSES
from ..routing import ResourceRouter
from ..schemas import PruneCache

router = ResourceRouter(prefix="/v1/cache", tags=["cache"], responses=ERROR_RESPONSES)


@router.get("/")
def caches(service: Service) -> list[dict[str, Any]]:
    """Each stage cache (one per output folder pipelines wrote into): its folder, entries,
    bytes, and when its oldest and newest entries were last used."""
    return [cache.as_json() for cache in service.caches()]


@router.post("/prune")
def prune(body: PruneCache, service: Service) -> list[dict[str, Any]]:
    """Remove entries not used for `older`, then the least recently used until each cache is
    at most `max_size`; what each cache lost and kept."""
    if body.older is None and body.max_size is None:
        raise ValidationError("prune needs older, max_size or both")
    older = None
    if body.older is not None:
        try:
            older = parse_delay(body.older).total_seconds()
        except ValidationError:
            raise ValidationError(f"older: '{body.older}' is not an age ({DELAY_RULE})") from None
    size = parse_size(body.max_size) if body.max_size is not None else None
    return [one.as_json() for one in service.prune_caches(older_than=older, max_size=size)]
