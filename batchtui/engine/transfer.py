"""Outputs pulled back from a farm worker in chunks, with a bound on memory.

With no shared folder, an output waits on its worker (in its attempt's private folder, held by
the attempt's keeper) and the coordinator pulls it: one `Client.run` on that worker per chunk
of `CHUNK` bytes, each written to the item's `.part` file before the next is asked for. The
runner, the scheduler (which relays `Client.run`) and the worker each hold about one chunk at a
time, whatever the size of the output: a task result holding the whole output cost about twice
its size in the runner and once more in each of the scheduler and the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import anyio

from ..generators.base import SIDECARS, sidecar
from .executor import AttemptResult

CHUNK = 8 * 1024 * 1024
"""Bytes per pull: a few MiB keeps round trips few and memory small."""
CHUNK_WAIT = 60.0
"""How long one chunk may take before its worker counts as lost."""


class PullError(Exception):
    """An output could not be pulled back (its worker was lost, or the file changed)."""


def _read(path: str, offset: int, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


async def read_chunk(path: str, offset: int, size: int) -> bytes:
    """Up to `size` bytes of the file at `path` from `offset` (runs on the worker, off its
    event loop: `Client.run` awaits a coroutine function there)."""
    return await asyncio.to_thread(_read, path, offset, size)


async def pull(client: Any, worker: str, source: str, size: int, target: Path) -> None:
    """Copy the `size`-byte file `source` on `worker` to `target` here, chunk by chunk.

    Raises PullError when the worker does not answer or the file is not what it was said to
    be, OSError when `target` cannot be written (the caller removes a partial `target`).
    """
    with open(target, "wb") as handle:
        offset = 0
        while offset < size:
            want = min(CHUNK, size - offset)
            try:
                with anyio.fail_after(CHUNK_WAIT):
                    answers = await client.run(
                        read_chunk, source, offset, want, workers=[worker], on_error="return"
                    )
            except TimeoutError:
                raise PullError(f"worker {worker} did not answer for {CHUNK_WAIT:.0f}s") from None
            except Exception as exc:  # the worker left the cluster, the scheduler is gone
                raise PullError(f"{type(exc).__name__}: {exc}") from None
            data = answers.get(worker)
            if isinstance(data, BaseException):
                raise PullError(f"{type(data).__name__}: {data}")
            if not isinstance(data, bytes) or len(data) != want:
                raise PullError(f"worker {worker} no longer has the output")
            await anyio.to_thread.run_sync(handle.write, data)
            offset += want
            del data, answers  # one chunk at a time


LET_GO_WAIT = 10.0
"""How long telling the worker to let go of a pulled output may take."""


async def fetch_output(client: Any, where: dict[str, Any], output: Path) -> AttemptResult:
    """Pull an attempt's output (and what it wrote beside it) to `output` from the worker
    that holds it (`where`: the task's "pull"), then let that worker remove its copy."""
    from .dask_task import let_go

    worker = str(where["worker"])
    try:
        source, size = where["output"]
        await pull(client, worker, str(source), int(size), output)
        for suffix, (path, length) in (where.get("sidecars") or {}).items():
            if suffix in SIDECARS:
                await pull(client, worker, str(path), int(length), sidecar(output, suffix))
    except PullError as exc:
        return AttemptResult.host_lost(f"its output could not be pulled back: {exc}")
    except OSError as exc:
        return AttemptResult.failed(
            f"could not write the output that came back from the worker: {exc.strerror or exc}"
        )
    finally:
        with (
            anyio.CancelScope(shield=True),
            anyio.move_on_after(LET_GO_WAIT),
            contextlib.suppress(Exception),
        ):
            await client.run(let_go, str(where["folder"]), workers=[worker])
    return AttemptResult.ok()
