"""`batchtui serve`: the HTTP API on this database, until ctrl+c."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
from pathlib import Path

from ..core.errors import EXIT_OK, ValidationError
from .base import CliBase


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(path: str) -> str:
    """The token in `path` (stripped); ValidationError if it cannot be used."""
    try:
        token = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValidationError(f"cannot read the token file {path}: {reason}") from None
    if len(token) < 16:
        raise ValidationError(f"the token in {path} is too short (at least 16 characters)")
    return token


class ServeVerb(CliBase):
    """The `serve` verb."""

    def do_serve(self) -> int:
        host, port = self.args.host, self.args.port
        token = read_token(self.args.token_file) if self.args.token_file else None
        if token is None and not _is_loopback(host):
            raise ValidationError(
                f"serving on {host} needs --token-file (only loopback may go without a token)"
            )
        self.service.check_readable()
        import uvicorn

        from ..api.app import create_app

        app = create_app(self.service, token=token)
        listener = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        bound = listener.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        print(
            f"batchtui API on http://{shown}:{bound}/v1/batch/ (docs: /docs) — database "
            f"{self.service.database_path}{'; token required' if token else ''}; ctrl+c stops "
            "the server, never a run",
            flush=True,
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):  # ctrl+c: uvicorn has shut down
            server.run(sockets=[listener])
        sys.stdout.flush()
        return EXIT_OK
