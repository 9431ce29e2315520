"""A render farm's front door: the Dask scheduler's address, and the checks made before a run
is sent there (reachable, has workers, same versions everywhere).

`distributed` is an optional dependency (`pip install 'batchtui[cluster]'`): it is imported only
when a cluster is used, and its absence is said in one line.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import ClusterError, ValidationError
from ..core.limits import CLUSTER_HOST_PATTERN
from ..core.textsafe import one_line

if TYPE_CHECKING:
    from distributed import Client

CLUSTER_ENV = "BATCHTUI_CLUSTER"
DEFAULT_PORT = 8786
CONNECT_TIMEOUT = 5.0
LOCAL_WORDS = frozenset({"", "local", "none", "here"})
RESOURCE = "render"
"""The worker resource an item takes one of, when the workers declare it
(`dask worker ... --resources render=2`); otherwise each worker thread is a slot."""
MATCHED = ("batchtui", "distributed", "dask", "cloudpickle", "msgpack")
"""Packages that must be the same on this host and every worker (and Python's minor version)."""

_ADDRESS = re.compile(rf"^(tcp|tls)://({CLUSTER_HOST_PATTERN})(?::(\d{{1,5}}))?$")


def cluster_address(value: str | None) -> str | None:
    """The scheduler address a run goes to: `value`, else `BATCHTUI_CLUSTER`; None (or 'local')
    runs on this host. 'HOST:PORT' means tcp://HOST:PORT; the port defaults to 8786."""
    if value is None:
        value = os.environ.get(CLUSTER_ENV)
    if value is None or value.strip().lower() in LOCAL_WORDS:
        return None
    text = value.strip()
    if "://" not in text:
        text = f"tcp://{text}"
    match = _ADDRESS.match(text)
    port = int(match.group(3)) if match and match.group(3) else DEFAULT_PORT
    if match is None or not 0 < port < 65536:
        raise ValidationError(
            f"'{value}' is not a Dask scheduler address (use tcp://HOST:PORT, as `dask "
            f"scheduler` prints it)"
        )
    return f"{match.group(1)}://{match.group(2)}:{port}"


def need_distributed() -> None:
    """ClusterError unless Dask distributed is installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ClusterError(
            "running on a cluster needs Dask distributed: pip install 'batchtui[cluster]'"
        ) from None


@dataclass(frozen=True)
class ClusterInfo:
    """What the start-time check found."""

    address: str
    workers: int
    slots: int
    resources: dict[str, float] | None
    """What each item asks of a worker (one `render` slot when the workers declare them)."""


def _one_line_connect_error(address: str, exc: BaseException) -> ClusterError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if len(reason) > 160:
        reason = reason[:159] + "…"
    return ClusterError(
        f"cannot reach the Dask scheduler at {address} ({reason}); is `dask scheduler` running "
        f"there and the port open?"
    )


async def check(client: Client, address: str) -> ClusterInfo:
    """The cluster behind `client` is fit for a run: it has workers, and each runs the same
    versions of what a task needs as this host. ClusterError says what is wrong."""
    assert client.scheduler is not None, "a connected client"
    identity = await client.scheduler.identity()
    workers: dict[str, Any] = identity.get("workers") or {}
    if not workers:
        raise ClusterError(
            f"the Dask scheduler at {address} has no workers: start one on each render box "
            f"with: dask worker {address}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mismatches are ours to judge, below
        versions = await client.get_versions(packages=list(MATCHED))  # type: ignore[misc]
    mine = _relevant((versions.get("client") or {}).get("packages") or {})
    for worker_address, info in (versions.get("workers") or {}).items():
        theirs = _relevant((info or {}).get("packages") or {})
        for package, version in mine.items():
            if theirs.get(package) != version:
                name = (workers.get(worker_address) or {}).get("name") or worker_address
                raise ClusterError(
                    f"worker {name} ({worker_address}) has {package} "
                    f"{theirs.get(package) or 'MISSING'}, this host {version}: install the "
                    f"same versions on every render box"
                )
    declares = [w for w in workers.values() if RESOURCE in (w.get("resources") or {})]
    if declares:
        slots = sum(int(w["resources"][RESOURCE]) for w in declares)
        resources: dict[str, float] | None = {RESOURCE: 1}
    else:
        slots = sum(int(w.get("nthreads") or 1) for w in workers.values())
        resources = None
    return ClusterInfo(address, len(workers), slots, resources)


def _relevant(packages: dict[str, Any]) -> dict[str, str | None]:
    found: dict[str, str | None] = {p: _str(packages.get(p)) for p in MATCHED}
    python = _str(packages.get("python"))
    found["python"] = ".".join(python.split(".")[:2]) if python else None
    return found


def _str(value: object) -> str | None:
    return None if value is None else str(value)


async def connect(address: str, *, timeout: float = CONNECT_TIMEOUT) -> Client:
    """An asynchronous client of the scheduler at `address` (ClusterError if unreachable)."""
    need_distributed()
    import anyio
    from distributed import Client

    # The whole handshake has a deadline, not only the TCP connect: a listener that accepts
    # and never speaks (a wrong port, a proxy) kept `start --cluster` waiting forever.
    deadline = timeout * 2
    try:
        with anyio.move_on_after(deadline) as waited:
            return await Client(address, asynchronous=True, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise _one_line_connect_error(address, exc) from None
    except Exception as exc:  # whatever a non-scheduler's answer broke in the client
        if address.startswith("tls://") and "ssl" in str(exc).lower():
            raise ClusterError(
                f"{address} is a TLS address, and Dask's TLS settings (distributed.comm.tls in "
                "its config: certificates and keys) are not set on this host"
            ) from None
        said = one_line(str(exc), 120)
        raise ClusterError(
            f"{address} did not answer as a Dask scheduler does ({type(exc).__name__}"
            f"{': ' + said if said else ''}); is it the scheduler's port (8786), not its "
            "dashboard or another service?"
        ) from None
    assert waited.cancelled_caught
    raise ClusterError(
        f"{address} took the connection but no Dask scheduler answered in {deadline:g} s; is it "
        "the scheduler's port (8786), not its dashboard or another service?"
    )


def preflight(address: str, *, timeout: float = CONNECT_TIMEOUT) -> ClusterInfo:
    """Check, before anything changes, that a run can go to `address` (called from sync code,
    any thread: it runs on an event loop of its own)."""
    import anyio

    async def probe() -> ClusterInfo:
        client = await connect(address, timeout=timeout)
        try:
            with anyio.fail_after(timeout * 2):
                return await check(client, address)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {address} did not answer in time") from None
        finally:
            await client.close()

    # On a thread of its own: the caller may be running an event loop (the TUI's, the API's).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, probe).result()
