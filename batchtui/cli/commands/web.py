"""`batchtui web`: the terminal UI in a browser (textual-serve), until ctrl+c.

Every browser tab gets a TUI process of its own on this database: textual-serve starts one
per websocket and stops it when the tab closes. The TUI never owns a run (it hands each one to
a detached runner), so closing a tab, or stopping this server, never stops a run.
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from urllib.parse import quote

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


def tab_command(database: str) -> str:
    """The shell command textual-serve runs for each tab: this interpreter's batchtui (so a
    venv works without PATH), on `database`; `exec`, so the TUI is the tab's process itself."""
    argv = [sys.executable, "-m", "batchtui", "--db", database, "tui"]
    return f"exec {shlex.join(argv)}"


def shown_host(host: str) -> str:
    """How the start line names `host`: a wildcard address as this machine's name, an IPv6
    address in brackets."""
    if host in ("", "0.0.0.0", "::"):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


class Web(BaseCommand):
    arguments = (
        host_option,
        port_option(8080),
        token_file_option(
            "file holding the token a browser presents once, as "
            "http://HOST:PORT/?token=... (then a cookie carries it); required unless the host "
            "is loopback"
        ),
    )

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        host, port = args.host, args.port
        token = token_for(host, args.token_file, "serving the UI")
        ctx.service.check_readable()
        from ...core import child_watcher
        from ..web_server import WebServer, serve_forever  # aiohttp loads only for this verb

        database = str(ctx.service.database_path.absolute())
        listener = listen(host, port)
        bound = listener.getsockname()[1]
        server = WebServer(tab_command(database), token=token, port=bound, service=ctx.service)
        url = f"http://{shown_host(host)}:{bound}/"
        if token:
            url += f"?token={quote(token, safe='')}"
        print(
            f"batchtui in a browser on {url} — database {database}"
            f"{'; the token is needed once per browser' if token else ''}; ctrl+c stops the "
            "server; closing a tab never stops a run",
            flush=True,
        )
        child_watcher.install()  # a TUI process per tab: watched by pidfd, not a thread each
        serve_forever(server, listener)
        sys.stdout.flush()
        return EXIT_OK
