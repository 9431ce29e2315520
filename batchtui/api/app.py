"""The seed's batch HTTP API over one `BatchService`: `/v1/batch` and its operations.

Every endpoint is a thin mapping onto a service method (the same ones the CLI and the TUI
call), so an API user sees exactly the rules, messages and JSON shapes of the CLI's `--json`.
Runs are handed to detached runner processes (`start_detached`): restarting the server never
stops a run. One router per resource (`routes/`), the request bodies in `schemas`, the service
handed to endpoints by `deps`; bodies are JSON whatever their Content-Type (`routing`), and
every refusal is `{"error": {"type", "message"}}` with the CLI's one line (`errors`).
"""

from __future__ import annotations

from fastapi import FastAPI

from ..service import BatchService
from .errors import install_error_handlers
from .routes import ROUTERS
from .security import refuse_cross_site, require_token


def create_app(service: BatchService, *, token: str | None = None) -> FastAPI:
    """The API over `service`; with `token`, every request needs `Authorization: Bearer`."""
    app = FastAPI(
        title="batchtui",
        summary="Batches of related media: create, fill, lock, run, follow.",
        redirect_slashes=False,
        dependencies=[refuse_cross_site()] + ([require_token(token)] if token is not None else []),
    )
    app.state.service = service  # what `deps.get_service` hands every endpoint
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app, [route for router in ROUTERS for route in router.routes])
    return app
