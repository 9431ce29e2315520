"""`/healthz`: whether the server is up and its database readable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import Service

router = APIRouter(tags=["server"])


@router.get("/healthz")
def healthz(service: Service) -> dict[str, Any]:
    """The server is up and its database readable."""
    service.check_readable()
    return {"ok": True, "database": str(service.database_path)}
