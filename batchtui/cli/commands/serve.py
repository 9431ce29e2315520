"""`batchtui serve`: the HTTP API on this database, until ctrl+c."""

from __future__ import annotations

import argparse
import contextlib
import sys

from ...core.errors import EXIT_OK
from ..context import Context
from ..listening import (
    host_option,
    listen,
    port_option,
    token_file_option,
    token_for,
)
from .base import BaseCommand


class Serve(BaseCommand):
    arguments = (
        host_option,
        port_option(8000),
        token_file_option(
            "file holding the bearer token every request must carry (required unless the "
            "host is loopback)"
        ),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        host, port = args.host, args.port
        token = token_for(host, args.token_file, "serving")
        ctx.service.check_readable()
        import uvicorn

        from ...api.app import create_app

        app = create_app(ctx.service, token=token)
        listener = listen(host, port)
        bound = listener.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        print(
            f"batchtui API on http://{shown}:{bound}/v1/batch/ (docs: /docs) — database "
            f"{ctx.service.database_path}{'; token required' if token else ''}; ctrl+c stops "
            "the server, never a run",
            flush=True,
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # ctrl+c: uvicorn has shut down
            server.run(sockets=[listener])
        sys.stdout.flush()
        return EXIT_OK
