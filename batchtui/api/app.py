"""The seed's batch HTTP API over one `BatchService`: `/v1/batch` and its operations.

Every endpoint is a thin mapping onto a service method (the same ones the CLI and the TUI
call), so an API user sees exactly the rules, messages and JSON shapes of the CLI's `--json`.
Runs are handed to detached runner processes (`start_detached`): restarting the server never
stops a run. One router per resource (`routes/`), the request bodies in `schemas`, the service
handed to endpoints by `deps`; bodies are JSON whatever their Content-Type (`routing`), and
every refusal is `{"error": {"type", "message"}}` with the CLI's one line (`errors`). Every
request, to every path, first passes the guard (`guard`: who may ask, under which name, how
much). The docs pages are served with their scripts from here (fastapi-offline): no request
leaves the machine.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from ..service import BatchService
from .errors import install_error_handlers
from .guard import Guard, Policy
from .links import with_links
from .peers import Peers
from .routes import ROUTERS


def create_app(
    service: BatchService, *, policy: Policy | None = None, peers: Peers | None = None
) -> FastAPI:
    """The API over `service`, behind a guard applying `policy` (None: no guard, for an app
    embedded behind a front door of its own, and for tests of the routes alone); `peers` says
    who is behind each connection (filled by the server's protocol)."""
    app = FastAPIOffline(
        title="batchtui",
        summary="Batches of related media: create, fill, lock, run, follow.",
        redirect_slashes=False,
        static_url="/docs-assets",
    )
    app.state.service = service  # what `deps.get_service` hands every endpoint
    for router in ROUTERS:
        app.include_router(router)
    routes = [route for router in ROUTERS for route in router.routes]
    install_error_handlers(app, routes)
    app.openapi = with_links(app, routes)  # type: ignore[method-assign]
    if policy is not None:
        app.add_middleware(Guard, policy=policy, peers=peers or Peers())
    return app
