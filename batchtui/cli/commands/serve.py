"""`batchtui serve`: the HTTP API on this database, until ctrl+c."""

from __future__ import annotations

import argparse
import contextlib
import os
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
from ..tokens import user_token
from .base import BaseCommand


class Serve(BaseCommand):
    arguments = (
        host_option,
        port_option(8000),
        token_file_option(
            "file holding the bearer token every request must carry (mode 0600; required "
            "unless the host is loopback, where your own account needs none and other "
            "accounts need the one in ~/.local/state/batchtui/api-token)"
        ),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        host, port = args.host, args.port
        named = token_for(host, args.token_file, "serving")
        ctx.service.check_readable()
        import uvicorn

        from ...api.app import create_app
        from ...api.guard import Policy
        from ...api.peers import Peers
        from ..http_protocol import protocol_for, raise_file_limit, server_options

        if named is not None:  # every request carries it, whoever sends it
            policy, who = Policy(token=named, owner=None), "token required"
        else:  # loopback: this account's own requests need none; other accounts need it
            token, path = user_token()
            policy = Policy(token=token, owner=os.getuid())
            who = f"other accounts need the token in {path}"
        peers = Peers()
        app = create_app(ctx.service, policy=policy, peers=peers)
        raise_file_limit()
        listener = listen(host, port)
        bound = listener.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        print(
            f"batchtui API on http://{shown}:{bound}/v1/batch/ (docs: /docs) — database "
            f"{ctx.service.database_path}; {who}; ctrl+c stops the server, never a run",
            flush=True,
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            http=protocol_for(peers),
            **server_options(),
        )
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # ctrl+c: uvicorn has shut down
            server.run(sockets=[listener])
        sys.stdout.flush()
        return EXIT_OK
