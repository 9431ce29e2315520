"""A host-wide limit on items running at once, across every batch, runner and user, served in
the order items asked (higher priority first), each slot a numbered identity.

N slots are N lock files; holding slot `i` is holding an exclusive `flock` on `slot-i.lock`.
The kernel drops a lock when its descriptor closes, so a runner that dies (SIGKILL, OOM,
reboot) frees its slots with it: there is no counter to repair. Descriptors are close-on-exec,
so a child (or a grandchild that left its group) never keeps a slot its item gave back.

**Fair.** An item that finds no free slot, or finds others already waiting, takes a ticket: a
file in `queue/` named so that names sort in serving order (priority, then when it asked),
which its owner keeps locked while it waits. Only the first live ticket may take a free slot,
so a holder that frees a slot cannot take it straight back while others wait (it queues behind
them), and two batches interleave in the order their items asked. A ticket whose lock can be
taken belongs to a process that died: it is removed by whoever sees it first.

**No busy polling.** A waiter sleeps on inotify (through `asyncinotify`) until something that
can change its turn happens: a slot given back (its holder rings `doorbell`), a ticket removed
or renamed (a priority change), a process that had the slots open ending (its descriptors
close). A second's timeout covers what inotify cannot see (a network file system); without
inotify it looks every 50 ms, still in ticket order.

Several users can share one folder: `flock` takes an exclusive lock on a descriptor opened
read-only, so a lock file is only ever opened for reading, and one this process creates is
made readable by everyone (it holds nothing). Creating the ones missing needs write access to
the folder: a shared folder is made once, writable by every user who shares it (mode 1777, or
a group's 2775); its `queue/` is made with the same mode. Whether the folder can be used is
checked before a run changes anything (`check`): a start is refused in one line instead of
failing its batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import re
import stat
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from ..core.errors import ValidationError
from ..core.limits import MAX_PRIORITY
from ..core.settings import load_host_settings

POLL_SECONDS = 0.05
"""How often a waiter looks where inotify cannot tell it."""
WATCH_TIMEOUT = 1.0
"""The longest a waiter sleeps on inotify before it looks anyway."""
LOCK_FILE_MODE = 0o644
"""A slot's lock file: readable by every user who shares the folder (it is empty)."""
FOLDER_MODE = 0o755
"""A slot folder batchtui makes: every user can open the lock files in it."""
QUEUE_FOLDER = "queue"

POOLS_FOLDER = "pools"
"""Where a named pool's slots live (`[slots] gpu = 2`: `<slots_dir>/pools/gpu`), taken by the
pipeline stages that name it."""
DOORBELL = "doorbell"
TICKET_SUFFIX = ".ticket"

_sequence = itertools.count()


def ticket_name(priority: int, asked_ns: int, owner: str) -> str:
    """A ticket's file name: names sort in serving order (higher priority first, then the
    earlier ask). `owner` (no '-' needed, any text without '/') says whose it is."""
    return f"{MAX_PRIORITY - priority:04d}-{asked_ns:020d}-{owner}{TICKET_SUFFIX}"


_TICKET = re.compile(r"\d{4}-\d{20}-[A-Za-z0-9_.]+" + re.escape(TICKET_SUFFIX))


def is_ticket(name: str) -> bool:
    """Whether `name` is a ticket's file name as batchtui writes them (anything else in the
    queue folder is not in line)."""
    return _TICKET.fullmatch(name) is not None


def ticket_owner(name: str) -> str:
    """The owner part of a ticket's name."""
    return name[: -len(TICKET_SUFFIX)].split("-", 2)[2]


def ticket_priority(name: str) -> int:
    """The priority a ticket's name carries."""
    return MAX_PRIORITY - int(name.split("-", 1)[0])


@dataclass(frozen=True)
class Ticket:
    """A waiting item's place in line, as its ticket's name says it."""

    name: str
    priority: int
    asked_ns: int
    batch_id: str
    item_id: str
    pid: int

    @classmethod
    def parse(cls, name: str) -> Ticket | None:
        """The ticket a file name is, or None for a name no batchtui wrote."""
        try:
            owner = ticket_owner(name)
            batch_id, item_id, pid, _ = owner.split(".")
            return cls(
                name, ticket_priority(name), int(name.split("-", 2)[1]), batch_id, item_id,
                int(pid),
            )  # fmt: skip
        except (ValueError, IndexError):
            return None


def waiting_in(folder: Path) -> list[Ticket]:
    """The live tickets in the slot folder `folder`, in serving order, changing nothing
    (a view of the line: a stale ticket is left for a waiter to sweep)."""
    tickets = (Ticket.parse(n) for n in _line(Path(folder) / QUEUE_FOLDER, sweep=False))
    return [ticket for ticket in tickets if ticket is not None]


def _line(queue: Path, *, sweep: bool) -> list[str]:
    """The names of the live tickets in `queue`, in serving order; with `sweep`, a ticket
    nobody holds (its waiter died) is removed as it is found."""
    try:
        names = sorted(n for n in os.listdir(queue) if is_ticket(n))
    except OSError:
        return []
    live = []
    for name in names:
        path = os.fspath(queue / name)
        held = _held(path)  # (None: another user's, unreadable: its owner removes it)
        if held is False:
            if sweep:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            continue
        live.append(name)
    return live


def _held(path: str) -> bool | None:
    """Whether the ticket at `path` is held by its waiter (None: cannot tell, another user's
    unreadable ticket; False: nobody holds it, or it is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def reprioritise_in(folder: Path, batch_id: str, priority: int) -> int:
    """Give the waiting tickets of `batch_id` in the slot folder `folder` `priority` (each
    keeps when it asked); how many were moved. A ticket this user may not rename (another
    user's, in a shared folder) is left to its runner, which moves it at its next flush."""
    queue = Path(folder) / QUEUE_FOLDER
    try:
        names = [n for n in os.listdir(queue) if is_ticket(n)]
    except OSError:
        return 0
    moved = 0
    for name in names:
        owner = ticket_owner(name)
        if owner.split(".", 1)[0] != batch_id or ticket_priority(name) == priority:
            continue
        asked = int(name.split("-", 2)[1])
        with contextlib.suppress(OSError):
            os.rename(queue / name, queue / ticket_name(priority, asked, owner))
            moved += 1
    return moved


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st…"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class HostSlots:
    """`count` slots in `folder`, shared with every process that uses the same folder.

    One object serves a whole run: it keeps a descriptor of each lock file open (a lock taken
    and given back costs no open or close) and knows which slots this process holds.
    """

    def __init__(self, count: int, folder: Path, pool: str | None = None) -> None:
        self.count = count
        self.pool = pool
        """The named pool these slots are (`[slots] gpu = 2`), or None: the host's own."""
        self.folder = Path(os.path.abspath(folder))
        self.queue = self.folder / QUEUE_FOLDER
        self._paths = [os.fspath(self.folder / f"slot-{n}.lock") for n in range(count)]
        self._fds: list[int] | None = None
        self._held: set[int] = set()
        self._make_folder()

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        except FileExistsError:
            raise ValidationError(f"slot folder {self.folder} is not a folder") from None
        except OSError as exc:
            raise ValidationError(
                f"slot folder {self.folder} cannot be created: {exc.strerror}"
            ) from None

    def _make_queue(self) -> None:
        """`queue/`, as open to other users as the slot folder itself is."""
        try:
            self.queue.mkdir()
        except FileExistsError:
            if not self.queue.is_dir() or self.queue.is_symlink():
                raise ValidationError(f"slot queue {self.queue} is not a folder") from None
            return
        except OSError as exc:
            raise ValidationError(
                f"slot folder {self.folder} cannot be used: {QUEUE_FOLDER}/ cannot be made "
                f"({exc.strerror}); make the folder writable by every user who shares it "
                "(chmod 1777, or a group's 2775)"
            ) from None
        with contextlib.suppress(OSError):  # the umask must not keep other users out
            os.chmod(self.queue, stat.S_IMODE(os.stat(self.folder).st_mode))

    @property
    def limit_text(self) -> str:
        """'this host runs 2 at once', or for a named pool 'pool gpu runs 1 at once'."""
        who = f"pool {self.pool}" if self.pool else "this host"
        return f"{who} runs {self.count} at once"

    def check(self) -> None:
        """Make every slot's lock file that is missing and the queue folder, and open each
        once; ValidationError (one line: which path, why, what to do) if the folder cannot be
        used."""
        for path in self._paths:
            os.close(self._open(path))
        self._make_queue()

    def _open(self, path: str) -> int:
        """A read-only descriptor of a slot's lock file (made if missing)."""
        try:
            try:
                return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except FileNotFoundError:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, LOCK_FILE_MODE)
                with contextlib.suppress(OSError):  # another user's file, made meanwhile
                    os.fchmod(fd, LOCK_FILE_MODE)  # the umask must not keep others out
                return fd
        except PermissionError:
            if os.path.lexists(path):  # made private by an older batchtui, or by hand
                raise ValidationError(
                    f"slot folder {self.folder} cannot be used: {path} cannot be opened "
                    f"(permission denied); its owner can share it: chmod 644 {path}"
                ) from None
            raise ValidationError(
                f"slot folder {self.folder} cannot be used: {os.path.basename(path)} cannot "
                "be made (permission denied); make the folder writable by every user who "
                "shares it (chmod 1777, or a group's 2775)"
            ) from None
        except OSError as exc:
            raise ValidationError(
                f"slot folder {self.folder} cannot be used: {os.path.basename(path)}: "
                f"{exc.strerror}"
            ) from None

    def _descriptors(self) -> list[int]:
        if self._fds is None:
            fds: list[int] = []
            try:
                for path in self._paths:
                    fds.append(self._open(path))
            except BaseException:
                for fd in fds:
                    os.close(fd)
                raise
            self._fds = fds
        return self._fds

    def close(self) -> None:
        """Give back every slot this object holds and close its descriptors."""
        fds, self._fds = self._fds, None
        self._held.clear()
        for fd in fds or ():
            os.close(fd)

    # ------------------------------------------------------------------ slots

    def try_acquire(self) -> int | None:
        """Take the lowest free slot now, ignoring anyone waiting: its number (0..count-1),
        or None when every slot is taken. `hold` is the fair way in."""
        fds = self._descriptors()
        for n, fd in enumerate(fds):
            if n in self._held:  # our own lock: flock would grant it to us again
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            self._held.add(n)
            return n
        return None

    def release(self, slot: int) -> None:
        """Give slot `slot` back and wake whoever waits."""
        if slot not in self._held or self._fds is None:
            return
        self._held.discard(slot)
        fcntl.flock(self._fds[slot], fcntl.LOCK_UN)
        self._ring()

    def _ring(self) -> None:
        """Wake the waiters of every process (a closed write is what they watch for)."""
        path = os.fspath(self.folder / DOORBELL)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
        except OSError:  # another user's bell we may not ring: they look within a second
            return
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666)  # every user who shares the folder rings it
        os.close(fd)

    # ------------------------------------------------------------------ the line

    def waiting(self) -> list[str]:
        """The live tickets in serving order (stale ones, whose owner died, are removed)."""
        return _line(self.queue, sweep=True)

    def _take_ticket(self, priority: int, owner: str) -> int:
        self._make_queue()
        name = ticket_name(priority, time.time_ns(), owner)
        path = os.fspath(self.queue / name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)  # ours, new: never blocks
        return fd

    def _drop_ticket(self, owner: str, fd: int) -> None:
        for name in self._named(owner):
            with contextlib.suppress(OSError):
                os.unlink(self.queue / name)
        os.close(fd)

    def _named(self, owner: str) -> list[str]:
        """The ticket of `owner` (renamed, perhaps, by a priority change)."""
        with contextlib.suppress(FileNotFoundError):
            return [
                n for n in os.listdir(self.queue)
                if is_ticket(n) and ticket_owner(n) == owner
            ]  # fmt: skip
        return []

    def reprioritise(self, batch_id: str, priority: int) -> int:
        """Give the waiting tickets of `batch_id` (of any process) `priority`, keeping when
        each asked; how many there were."""
        return reprioritise_in(self.folder, batch_id, priority)

    @contextlib.asynccontextmanager
    async def hold(
        self,
        on_wait: Callable[[int], None],
        *,
        priority: int = 0,
        batch_id: str = "batch",
        item_id: str = "item",
    ) -> AsyncIterator[int]:
        """Hold one slot for the block, yielding its number (0..count-1).

        Served in ticket order: with nobody waiting and a slot free it is taken at once; else
        a ticket waits its turn. `on_wait(position)` is called when it starts waiting and
        whenever its place in line changes (1: next).
        """
        slot = None
        if not self._someone_waits():
            slot = self.try_acquire()
        if slot is None:
            slot = await self._wait_in_line(on_wait, priority, f"{batch_id}.{item_id}")
        try:
            yield slot
        finally:
            self.release(slot)

    def _someone_waits(self) -> bool:
        try:
            return any(is_ticket(n) for n in os.listdir(self.queue))
        except FileNotFoundError:
            return False

    async def _wait_in_line(self, on_wait: Callable[[int], None], priority: int, who: str) -> int:
        owner = f"{who}.{os.getpid()}.{next(_sequence)}"
        fd = self._take_ticket(priority, owner)
        try:
            with _Watch(self.folder, self.queue) as watch:
                shown = 0
                while True:
                    line = self.waiting()
                    mine = [n for n, ticket in enumerate(line) if ticket_owner(ticket) == owner]
                    if not mine:
                        named = self._named(owner)
                        if named:  # renamed (a priority change) while the line was read
                            priority = ticket_priority(named[0])
                            continue
                        # Removed by hand: a new ticket, at the end of the line.
                        os.close(fd)
                        fd = self._take_ticket(priority, owner)
                        continue
                    ahead = mine[0]
                    priority = ticket_priority(line[ahead])
                    if ahead == 0:
                        slot = self.try_acquire()
                        if slot is not None:
                            return slot
                    if ahead + 1 != shown:
                        shown = ahead + 1
                        on_wait(shown)
                    await watch.wait()
        finally:
            self._drop_ticket(owner, fd)


class _Watch:
    """Wakes a waiter when the line or the slots may have changed (inotify), or after a while."""

    def __init__(self, folder: Path, queue: Path) -> None:
        self._inotify = None
        self._timeout = POLL_SECONDS
        try:
            from asyncinotify import Inotify, Mask

            inotify = Inotify()
        except (ImportError, OSError, AttributeError):  # not Linux, or out of watches
            return
        try:
            inotify.add_watch(folder, Mask.CLOSE_WRITE | Mask.CLOSE_NOWRITE)
            inotify.add_watch(
                queue, Mask.DELETE | Mask.MOVED_FROM | Mask.MOVED_TO | Mask.CLOSE_WRITE
            )
        except OSError:
            inotify.close()
            return
        # Read here, not through the library's own reader: one wake takes every event that
        # came meanwhile (one look covers them all).
        flags = fcntl.fcntl(inotify.fd, fcntl.F_GETFL)
        fcntl.fcntl(inotify.fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self._inotify = inotify
        self._timeout = WATCH_TIMEOUT

    def __enter__(self) -> _Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._inotify is not None:
            self._inotify.close()

    async def wait(self) -> None:
        if self._inotify is None:
            await anyio.sleep(self._timeout)
            return
        fd = self._inotify.fd
        with anyio.move_on_after(self._timeout):
            await anyio.wait_readable(fd)
        with contextlib.suppress(OSError):  # BlockingIOError: all taken
            while os.read(fd, 65536):
                pass


def check_host_slots() -> None:
    """Refuse (ValidationError, one line) a run on this host whose slot folder, as the host
    settings say now, cannot be used; nothing to check without a slot limit."""
    host = load_host_settings()
    if host.slots:
        HostSlots(host.slots, host.slots_dir).check()
