"""Which local account is at the other end of a loopback TCP connection.

On a render box shared by several users, "loopback" does not mean "the server's owner": any
local account can connect to 127.0.0.1. Linux says who owns each TCP socket (what `ss -e` and
identd read). The client's socket is the one whose local address is the connection's client
address and whose remote address is the server's.

It is asked of the kernel by that exact address pair over `sock_diag` netlink (one hash lookup
in the kernel, ~10 µs). `/proc/net/tcp*` says the same, but reading it walks every bucket of
the kernel's connection table: ~4.5 ms per lookup here, on the event loop, for every new
connection (a client that does not keep its connection open paid it on every request). The
table is read only where netlink is refused (some sandboxes). No maintained library asks for
one socket: pyroute2's `DiagSocket` dumps every socket, psutil reads /proc.

The answer is kept only while that connection is open, so a port reused later by another
account can never inherit it. Anywhere else (not Linux), the account is unknown and the token
is asked for.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path

Address = tuple[str, int]

_TABLES = {socket.AF_INET: Path("/proc/net/tcp"), socket.AF_INET6: Path("/proc/net/tcp6")}
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NO_COOKIE = 0xFFFFFFFF
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id
_REQUEST = struct.Struct("=BBBBI")  # inet_diag_req_v2: family, protocol, ext, pad, states
_ID_TAIL = struct.Struct("=III")  # inet_diag_sockid after the addresses: if, cookie[2]
_UID_AT = _HEADER.size + 4 + 48 + 12  # inet_diag_msg: 4 bytes, the id, then expires, rq, wq
"""Offset of idiag_uid in an answer (the message layout is the kernel's stable ABI)."""


def _packed(family: socket.AddressFamily, host: str) -> bytes:
    return socket.inet_pton(family, host).ljust(16, b"\0")


class SockDiag:
    """A sock_diag netlink channel kept open for exact lookups (opening one per lookup cost
    as much again as the lookup itself). Not thread-safe: one per event loop."""

    def __init__(self) -> None:
        self._channel: socket.socket | None = None
        self._sequence = 0

    def owner(self, family: socket.AddressFamily, client: Address, server: Address) -> int | None:
        """The uid of the socket client → server (None: no such socket). OSError when
        netlink cannot be used here."""
        sockid = (
            struct.pack("!HH", client[1], server[1])
            + _packed(family, client[0])
            + _packed(family, server[0])
            + _ID_TAIL.pack(0, _NO_COOKIE, _NO_COOKIE)
        )
        body = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
        self._sequence = self._sequence % 0xFFFFFFFF + 1
        header = _HEADER.pack(
            _HEADER.size + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, self._sequence, 0
        )
        try:
            if self._channel is None:
                self._channel = socket.socket(
                    socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG
                )
                self._channel.settimeout(1.0)
            self._channel.sendall(header + body)
            while True:  # an answer left over from a lookup that timed out is skipped
                answer = self._channel.recv(8192)
                if len(answer) < _HEADER.size:
                    raise OSError("a short answer from sock_diag")
                if _HEADER.unpack_from(answer)[3] == self._sequence:
                    return _uid_in(answer)
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        """Close the channel (the next lookup opens a new one)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None


def _uid_in(answer: bytes) -> int | None:
    kind = _HEADER.unpack_from(answer)[1]
    if kind == _SOCK_DIAG_BY_FAMILY and len(answer) >= _UID_AT + 4:
        return int(struct.unpack_from("=I", answer, _UID_AT)[0])
    if kind == _NLMSG_ERROR and len(answer) >= _HEADER.size + 4:
        error = -struct.unpack_from("=i", answer, _HEADER.size)[0]
        if error in (2, 22):  # ENOENT: no such socket; EINVAL: not one the kernel can find
            return None
        raise OSError(error, "sock_diag refused the lookup")
    raise OSError("an unexpected answer from sock_diag")


def _proc_address(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    """(family, the address as /proc/net/tcp* writes it: each 32-bit word in host order)."""
    packed = ipaddress.ip_address(host).packed
    # The kernel prints each 32-bit word of the address as it sits in memory, read as a
    # native integer: 127.0.0.1 is 0100007F on a little-endian machine.
    words = struct.unpack(f"={len(packed) // 4}I", packed)
    text = "".join(f"{word:08X}" for word in words)
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    return family, f"{text}:{port:04X}"


def _table_owner(client: Address, server: Address) -> int | None:
    """The same answer read from /proc/net/tcp* (slow: see the module's docstring)."""
    try:
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


def owner_of(client: Address, server: Address, diag: SockDiag | None = None) -> int | None:
    """The uid owning the client end of the loopback connection client → server, or None
    when it cannot be told (not Linux, not found, not loopback). `diag`: a channel to reuse."""
    try:
        address = ipaddress.ip_address(client[0])
        if not address.is_loopback:
            return None
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        if diag is not None:
            return diag.owner(family, client, server)
        once = SockDiag()
        try:
            return once.owner(family, client, server)
        finally:
            once.close()
    except ValueError:
        return None
    except OSError:
        return _table_owner(client, server)


_UNKNOWN = -1
"""Not looked up yet (a connection's account is looked up only when a request needs it)."""


class Peers:
    """The account behind each open connection: connections are registered as they open and
    forgotten as they close (by the server's protocol); the account is looked up the first
    time the guard asks (a connection that never sends a request costs no lookup: reading the
    kernel's table for each of a flood of connections would itself be the attack)."""

    def __init__(self) -> None:
        self._open: dict[Address, tuple[Address, int | None]] = {}
        self._diag = SockDiag()

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
            uid = owner_of(key, server, self._diag)
            self._open[key] = (server, uid)
        return uid
