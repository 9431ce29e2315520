"""`FdWatch`: one epoll set for the descriptors of a run's children (their pipes, their
pidfds), registered with the event loop once.

asyncio's `add_reader`/`remove_reader` cost a selector key, a handle and several Python calls
each; a child needs three of each (two pipes and its pidfd), which with thousands of tiny
commands was a tenth of the runner's work. Here a descriptor costs one `epoll_ctl` each way,
and the loop wakes on the one epoll descriptor and hands each ready descriptor to its callback.
Level-triggered, like the loop's own readers: a callback that leaves data unread is called
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
from collections.abc import Callable, Iterator


class FdWatch:
    """Readable-descriptor callbacks on the running loop, through one epoll descriptor.

    A descriptor must be `remove`d before it is closed (so a number the kernel hands out again
    never meets a stale event); `close` ends the watch.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._callbacks: dict[int, Callable[[], object]] = {}
        loop.add_reader(self._epoll.fileno(), self._ready)

    def add(self, fd: int, callback: Callable[[], object]) -> None:
        """Call `callback()` on this loop whenever `fd` is readable (or at its end)."""
        self._epoll.register(fd, select.EPOLLIN)
        self._callbacks[fd] = callback

    def remove(self, fd: int) -> None:
        """Stop watching `fd` (before it is closed)."""
        if self._callbacks.pop(fd, None) is not None:
            with contextlib.suppress(OSError):  # already closed: the kernel dropped it
                self._epoll.unregister(fd)

    def _ready(self) -> None:
        callbacks = self._callbacks
        for fd, _ in self._epoll.poll(0):
            callback = callbacks.get(fd)
            if callback is not None:  # (removed by an earlier callback of this round)
                callback()

    def close(self) -> None:
        """End the watch: no callback is called after this."""
        self._loop.remove_reader(self._epoll.fileno())
        self._callbacks.clear()
        self._epoll.close()


@contextlib.contextmanager
def fd_watch() -> Iterator[FdWatch | None]:
    """An `FdWatch` on the running loop for the `with` block (None where epoll does not
    exist: then each descriptor is the loop's own reader)."""
    if not hasattr(select, "epoll"):
        yield None
        return
    watch = FdWatch(asyncio.get_running_loop())
    try:
        yield watch
    finally:
        watch.close()
