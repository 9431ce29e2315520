"""Which local account is at the other end of a loopback TCP connection.

On a render box shared by several users, "loopback" does not mean "the server's owner": any
local account can connect to 127.0.0.1. Linux says who owns each TCP socket in
`/proc/net/tcp` and `/proc/net/tcp6` (the `uid` column; what `ss -e` and identd read): the
client's socket is the one whose local address is the connection's client address and whose
remote address is the server's. It is looked up once per connection, when it is made, and
kept only while that connection is open, so a port reused later by another account can never
inherit the answer.

Anywhere else (not Linux, no /proc), the account is unknown and the token is asked for.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path

Address = tuple[str, int]

_TABLES = {socket.AF_INET: Path("/proc/net/tcp"), socket.AF_INET6: Path("/proc/net/tcp6")}


def _proc_address(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    """(family, the address as /proc/net/tcp* writes it: each 32-bit word in host order)."""
    packed = ipaddress.ip_address(host).packed
    # The kernel prints each 32-bit word of the address as it sits in memory, read as a
    # native integer: 127.0.0.1 is 0100007F on a little-endian machine.
    words = struct.unpack(f"={len(packed) // 4}I", packed)
    text = "".join(f"{word:08X}" for word in words)
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    return family, f"{text}:{port:04X}"


def owner_of(client: Address, server: Address) -> int | None:
    """The uid owning the client end of the loopback connection client → server, or None
    when it cannot be told (not Linux, not found, not loopback)."""
    try:
        if not ipaddress.ip_address(client[0]).is_loopback:
            return None
        family, local = _proc_address(*client)
        _, remote = _proc_address(*server)
        table = _TABLES[family].read_text(encoding="ascii", errors="replace")
    except (ValueError, OSError, KeyError):
        return None
    for line in table.splitlines()[1:]:
        fields = line.split()
        # sl local rem st tx:rx tr:when retrnsmt uid timeout inode
        if len(fields) > 7 and fields[1] == local and fields[2] == remote:
            try:
                return int(fields[7])
            except ValueError:
                return None
    return None


_UNKNOWN = -1
"""Not looked up yet (a connection's account is looked up only when a request needs it)."""


class Peers:
    """The account behind each open connection: connections are registered as they open and
    forgotten as they close (by the server's protocol); the account is looked up the first
    time the guard asks (a connection that never sends a request costs no lookup: reading the
    kernel's table for each of a flood of connections would itself be the attack)."""

    def __init__(self) -> None:
        self._open: dict[Address, tuple[Address, int | None]] = {}

    def opened(self, client: Address | None, server: tuple[str, int | None] | None) -> None:
        """A connection was made."""
        if client is None or server is None or server[1] is None:
            return
        self._open[client] = ((server[0], server[1]), _UNKNOWN)

    def closed(self, client: Address | None) -> None:
        """The connection is gone: forget it (its port may be someone else's next)."""
        if client is not None:
            self._open.pop(client, None)

    def owner(self, client: Address | None) -> int | None:
        """The uid behind the open connection from `client` (None: unknown)."""
        if client is None:
            return None
        key = (client[0], client[1])
        entry = self._open.get(key)
        if entry is None:
            return None
        server, uid = entry
        if uid == _UNKNOWN:
            uid = owner_of(key, server)
            self._open[key] = (server, uid)
        return uid
