"""This process as a child subreaper (Linux): the parent of its descendants' orphans.

A process that runs items here (`batchtui start` in the foreground, a detached runner) is made
a subreaper by its entry point, so that what an item leaves behind when it ends (a grandchild
that called `setsid()`: a daemonising tool, a double fork) becomes its child, to be found and
stopped (`engine/strays.py`). Process-wide, like every prctl: library code never sets it, it
only asks `installed()`. A process that runs no items (the TUI, `serve`, `web`, a Dask worker,
which is the cluster's) stays as it is: orphans it adopted would wait for it as zombies.

The truth lives in the kernel (`PR_GET_CHILD_SUBREAPER`), not in a flag here, so installing
twice, or in a test process that already did, changes nothing.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, for prctl (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only where there is a subreaper to ask about

    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def install() -> bool:
    """Make this process a child subreaper (idempotent); whether it is one now."""
    libc = _libc()
    if libc is None:
        return False
    try:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except AttributeError:  # a libc without prctl
        return False
    return installed()


def installed() -> bool:
    """Whether this process is a child subreaper (False where there is no such thing)."""
    libc = _libc()
    if libc is None:
        return False
    import ctypes

    flag = ctypes.c_int(0)
    try:
        if libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) != 0:
            return False
    except AttributeError:
        return False
    return flag.value != 0
