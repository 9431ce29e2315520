"""What an endpoint is given besides its parameters: the service the app was made over."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..service import BatchService


async def get_service(request: Request) -> BatchService:
    """The `BatchService` that `create_app` was given (async: no thread hop per request)."""
    service: BatchService = request.app.state.service
    return service


Service = Annotated[BatchService, Depends(get_service)]
"""An endpoint parameter typed `Service` is handed the app's service."""
