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
"""The worker resource an item takes one of on a worker that declares it
(`dask worker ... --resources render=2`: two at once, whatever its threads); on a worker that
declares none, each of its threads is a slot."""
MATCHED = ("batchtui", "distributed", "dask", "cloudpickle", "msgpack")
"""Packages that must be the same on this host and every worker (and Python's minor version)."""
SCHEDULER_MATCHED = ("distributed", "dask", "cloudpickle", "msgpack")
"""What the scheduler must have the same of (and Python's minor version): it speaks Dask's
protocol and unpickles the task graphs, but never imports batchtui."""

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
    versions of what a task needs as this host. ClusterError says what is wrong (an answer
    that makes no sense too: a scheduler of another kind or version)."""
    assert client.scheduler is not None, "a connected client"
    try:
        identity = await client.scheduler.identity()
        workers: dict[str, Any] = identity.get("workers") or {}
        if not workers:
            raise ClusterError(
                f"the Dask scheduler at {address} has no workers: start one on each render "
                f"box with: dask worker {address}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mismatches are ours to judge, below
            versions = await client.get_versions(packages=list(MATCHED))  # type: ignore[misc]
        mine = relevant_versions((versions.get("client") or {}).get("packages") or {})
        for worker_address, info in (versions.get("workers") or {}).items():
            problem = worker_mismatch(mine, info)
            if problem:
                name = (workers.get(worker_address) or {}).get("name") or worker_address
                raise ClusterError(
                    f"worker {name} ({worker_address}) has {problem}: install the same "
                    f"versions on every render box"
                )
        return _plan(address, workers)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise _not_a_scheduler(address, exc) from None


def worker_mismatch(mine: dict[str, str | None], info: Any) -> str | None:
    """What a worker (its Dask `versions` answer, `info`) runs differently from this host
    (`mine`, from `relevant_versions`), as 'PACKAGE THEIRS, this host MINE'; None if nothing."""
    theirs = relevant_versions((info or {}).get("packages") or {})
    for package, version in mine.items():
        if theirs.get(package) != version:
            return f"{package} {theirs.get(package) or 'MISSING'}, this host {version}"
    return None


def _plan(address: str, workers: dict[str, Any]) -> ClusterInfo:
    """The farm's slots: each worker's `render` when it declares one, else its threads (every
    worker is used; see `DaskExecutor` for how an attempt picks one kind)."""
    slots = 0
    declared = False
    for worker in workers.values():
        resources = worker.get("resources") or {}
        if RESOURCE in resources:
            declared = True
            slots += int(resources[RESOURCE])
        else:
            slots += int(worker.get("nthreads") or 1)
    return ClusterInfo(address, len(workers), slots, {RESOURCE: 1} if declared else None)


def relevant_versions(packages: dict[str, Any]) -> dict[str, str | None]:
    """The versions that must match across the farm, from a Dask `packages` answer (Python
    as its minor version)."""
    found: dict[str, str | None] = {p: _str(packages.get(p)) for p in MATCHED}
    python = _str(packages.get("python"))
    found["python"] = ".".join(python.split(".")[:2]) if python else None
    return found


def _str(value: object) -> str | None:
    return None if value is None else str(value)


async def connect(address: str, *, timeout: float = CONNECT_TIMEOUT) -> Client:
    """An asynchronous client of the scheduler at `address`. Every way the handshake can go
    wrong (unreachable, not a scheduler, a scheduler of another Dask version, an answer that
    makes no sense) is one ClusterError line."""
    need_distributed()
    import anyio
    from distributed import Client

    # The whole handshake has a deadline, not only the TCP connect: a listener that accepts
    # and never speaks (a wrong port, a proxy) kept `start --cluster` waiting forever.
    deadline = timeout * 2
    try:
        with anyio.move_on_after(deadline) as waited:
            # First the one call every Dask version answers alike: a scheduler of another
            # version is named as such, before the client's own handshake trips over it (an
            # older scheduler broke it with an 80-line TypeError).
            answer = await _scheduler_versions(address, timeout)
            same_versions(address, "the Dask scheduler", answer)
            return await Client(address, asynchronous=True, timeout=timeout, set_as_default=False)
    except ClusterError:
        raise
    except (OSError, TimeoutError) as exc:
        raise _one_line_connect_error(address, exc) from None
    except Exception as exc:  # whatever a non-scheduler's answer broke in the client
        if address.startswith("tls://") and "ssl" in str(exc).lower():
            raise ClusterError(
                f"{address} is a TLS address, and Dask's TLS settings (distributed.comm.tls in "
                "its config: certificates and keys) are not set on this host"
            ) from None
        raise _not_a_scheduler(address, exc) from None
    assert waited.cancelled_caught
    raise ClusterError(
        f"{address} took the connection but no Dask scheduler answered in {deadline:g} s; is it "
        "the scheduler's port (8786), not its dashboard or another service?"
    )


def _not_a_scheduler(address: str, exc: BaseException | None = None) -> ClusterError:
    said = f"{type(exc).__name__}: {exc}" if exc is not None else "an answer it did not expect"
    return ClusterError(
        f"{address} did not answer as a Dask scheduler does ({one_line(said, 120)}); is it the "
        "scheduler's port (8786), not its dashboard or another service?"
    )


async def _scheduler_versions(address: str, timeout: float) -> Any:
    """What the scheduler at `address` says of its own versions (its `versions` call, the
    same in every Dask version); raises what the connection raises."""
    from distributed.core import rpc
    from distributed.security import Security

    args = Security().get_connection_args("client")
    remote = rpc(address, timeout=timeout, connection_args=args)
    try:
        return await remote.versions(packages=list(MATCHED))
    finally:
        await remote.close_rpc()


def same_versions(address: str, who: str, answer: Any) -> None:
    """ClusterError unless `answer` (a Dask `versions` answer from `who` at `address`) has
    the versions this host has of what the farm's protocol depends on."""
    if not isinstance(answer, dict) or not isinstance(answer.get("packages"), dict):
        raise _not_a_scheduler(address)
    from distributed.versions import get_versions

    mine = relevant_versions(get_versions(packages=list(MATCHED))["packages"])
    theirs = relevant_versions(answer["packages"])
    for package in ("python", *SCHEDULER_MATCHED):
        here, there = mine.get(package), theirs.get(package) or "MISSING"
        if there == here:
            continue
        if package == "python":
            raise ClusterError(
                f"{who} at {address} runs Python {there}, this host {here}: the farm needs the "
                "same Python version everywhere"
            )
        raise ClusterError(
            f"{who} at {address} runs {package} {there}, this host {here}: install the same "
            f"version there (pip install '{package}=={here}')"
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
        try:
            return pool.submit(anyio.run, probe).result()
        except ClusterError:
            raise
        except Exception as exc:  # never a traceback (nor a crashed TUI) for a farm's answer
            raise _not_a_scheduler(address, exc) from None
