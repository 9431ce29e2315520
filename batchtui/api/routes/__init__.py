"""One router per resource; `ROUTERS` in the order requests are matched (the progress route,
polled by every client, first)."""

from __future__ import annotations

from fastapi import APIRouter

from . import batches, cache, health, imports, items, notify, pausing, queue, runs, templates

ROUTERS: tuple[APIRouter, ...] = (
    runs.router,
    pausing.router,
    pausing.host_router,
    imports.router,
    batches.router,
    items.router,
    templates.router,
    queue.router,
    cache.router,
    notify.router,
    health.router,
)
