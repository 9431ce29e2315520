"""Files the API hands out (an item's log, its output), opened so that a link planted where a
recorded file should be is never followed: whoever can write in a batch folder must not be
able to make the server read out any other file its account can read.

The file is opened once, without following a link in its last component, and must be a
regular file with one name (a hard link to another file is refused too); the answer is
streamed from that open descriptor, so swapping the path afterwards changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from fastapi.responses import StreamingResponse

from ..service.recorded import open_recorded

CHUNK = 256 * 1024


async def _chunks(fd: int) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(os.read, fd, CHUNK):
            yield chunk
    finally:
        os.close(fd)


def file_response(path: str, what: str, *, media_type: str, download: bool) -> StreamingResponse:
    """The recorded file as an answer (see the module's docstring)."""
    fd, size = open_recorded(path, what)
    headers = {"Content-Length": str(size)}
    if download:
        name = Path(path).name.replace('"', "")
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return StreamingResponse(_chunks(fd), media_type=media_type, headers=headers)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
