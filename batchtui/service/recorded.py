"""Files a batch records (an item's log, its output), opened so that a link planted where a
recorded file should be is never followed: whoever can write in a batch folder must not be
able to make batchtui read out any other file its account can read (over the API, or into a
terminal). The file is opened once, without following a link in its last component, and must
be a regular file with one name (a hard link to another file is refused too); the caller reads
from that open descriptor, so swapping the path afterwards changes nothing.
"""

from __future__ import annotations

import os
import stat

from ..core.errors import NotFoundError


def open_recorded(path: str, what: str) -> tuple[int, int]:
    """An open descriptor on the recorded file `path` and its size; NotFoundError (naming
    `what`) when it is missing, a link, or not a plain file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # missing, or a link in its place (ELOOP)
        raise NotFoundError(f"{what} is not on disk (moved, deleted or replaced)") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise NotFoundError(f"{what} is not a plain file any more (replaced?)")
    return fd, info.st_size
