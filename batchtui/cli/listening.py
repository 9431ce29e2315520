"""What `serve` and `web` share: where they listen (`--host`, `--port`, `--token-file`), the
token, the loopback rule and the listening socket."""

from __future__ import annotations

import ipaddress
import socket

from ..core.errors import ValidationError
from .options import Option, port
from .tokens import read_token

host_option = Option("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")


def port_option(default: int) -> Option:
    """`--port`, defaulting to `default`."""
    return Option(
        "--port", type=port, default=default, help=f"port (default {default}; 0: any free)"
    )


def token_file_option(text: str) -> Option:
    """`--token-file`, `text` saying what the token is for."""
    return Option("--token-file", help=text)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine's loopback (no one else can connect)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_for(host: str, token_file: str | None, serving: str) -> str | None:
    """The token from `token_file` (None without one); ValidationError when `host` is not
    loopback and there is no token (`serving` says what, e.g. "serving the UI")."""
    token = read_token(token_file) if token_file else None
    if token is None and not is_loopback(host):
        raise ValidationError(
            f"{serving} on {host} needs --token-file (only loopback may go without a token)"
        )
    return token


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (bound here, so `--port 0` can say which port it got).

    Made with an explicit IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) only on
    accepted sockets whose `proto` says TCP, and `socket.create_server` leaves it 0; with
    Nagle on, keep-alive clients waited ~40 ms for delayed ACKs (1,100 requests/s instead
    of 4,800, measured with wrk)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
        listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except OSError as exc:
        raise ValidationError(f"cannot serve on {host}: {exc.strerror or exc}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        raise ValidationError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    return listener
