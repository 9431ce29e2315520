"""Who is on the other end of a loopback connection: the kernel's exact one-socket answer
(sock_diag) agrees with its connection table (/proc/net/tcp*), for the server's own account and
for another one, and a connection that is gone has no owner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from batchtui.api import peers

NOBODY = 65534


def _listener(family: socket.AddressFamily, host: str) -> socket.socket:
    server = socket.socket(family)
    server.bind((host, 0))
    server.listen()
    return server


@pytest.mark.parametrize(
    ("family", "host"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
)
def test_both_ways_name_this_account(family: socket.AddressFamily, host: str) -> None:
    with _listener(family, host) as server:
        client = socket.create_connection(server.getsockname()[:2])
        accepted, _ = server.accept()
        with client, accepted:
            mine, theirs = client.getsockname()[:2], server.getsockname()[:2]
            assert peers.SockDiag().owner(family, mine, theirs) == os.getuid()
            assert peers._table_owner(mine, theirs) == os.getuid()
            assert peers.owner_of(mine, theirs) == os.getuid()
            # the server's end of it is this account's socket too, found as the client's
            assert peers.owner_of(theirs, mine) == os.getuid()


def test_a_closed_connection_has_no_owner() -> None:
    with _listener(socket.AF_INET, "127.0.0.1") as server:
        client = socket.create_connection(server.getsockname())
        mine = client.getsockname()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # reset
        client.close()
        assert peers.owner_of(mine, server.getsockname()) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another account needs root")
def test_another_account_is_named_as_itself() -> None:
    with _listener(socket.AF_INET, "127.0.0.1") as server:
        port = server.getsockname()[1]
        code = (
            "import socket, sys\n"
            f"c = socket.create_connection(('127.0.0.1', {port}))\n"
            "print(c.getsockname()[1], flush=True)\n"
            "sys.stdin.read()\n"
        )
        other = subprocess.Popen(
            ["/usr/bin/python3", "-c", code], user=NOBODY, group=NOBODY, extra_groups=[],
            cwd="/", stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert other.stdout is not None
            their_port = int(other.stdout.readline())
            accepted, _ = server.accept()
            with accepted:
                theirs = ("127.0.0.1", their_port)
                diag = peers.SockDiag()
                assert diag.owner(socket.AF_INET, theirs, server.getsockname()) == NOBODY
                assert diag.owner(socket.AF_INET, theirs, server.getsockname()) == NOBODY
                assert peers._table_owner(theirs, server.getsockname()) == NOBODY
        finally:
            other.kill()
            other.wait()


def test_where_netlink_is_refused_the_table_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object) -> int:
        raise PermissionError(13, "netlink is not allowed here")

    monkeypatch.setattr(peers.SockDiag, "owner", refused)
    with _listener(socket.AF_INET, "127.0.0.1") as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            assert peers.owner_of(client.getsockname(), server.getsockname()) == os.getuid()


def test_addresses_that_are_not_loopback_have_no_owner() -> None:
    assert peers.owner_of(("10.0.0.1", 5000), ("10.0.0.2", 80)) is None
    assert peers.owner_of(("not an address", 5000), ("127.0.0.1", 80)) is None
    assert sys.platform.startswith("linux")
