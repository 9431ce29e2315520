"""The outbox: one JSON file per delivery (an event to one target), beside the database.

A delivery is written before anyone tries to send it (atomically: a temporary file renamed),
so a runner killed a moment later loses nothing: the next command finds it and starts a
courier. It leaves the outbox when it is delivered, or moves to `failed/` when its tries are
spent. One courier at a time holds `.courier.lock` (an flock, released by the kernel when the
courier dies, however it dies).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

OUTBOX = "outbox"
FAILED = "failed"
COURIER_LOCK = ".courier.lock"

Kind = Literal["webhook", "notify", "hook"]


@dataclass
class Delivery:
    """One event for one target, and how its tries went."""

    id: str
    """The event's id (`webhook-id`): the same for every target and every try, so a receiver
    drops a duplicate."""
    event: str
    batch_id: str
    kind: Kind
    target: str
    """The webhook's or Apprise's address, or the hook's command template."""
    body: dict[str, Any]
    created: float
    secret: str | None = None
    """The name of the secret that signs a webhook (never the secret)."""
    timeout: float | None = None
    """A hook's time limit."""
    cwd: str | None = None
    """Where a hook runs (the batch's working folder)."""
    log_path: str | None = None
    """Where each try is logged (the run's log; None: `runs/<batch>-notify.log`)."""
    attempts: int = 8
    backoff: float = 2.0
    tries: int = 0
    next_at: float = 0.0
    last_error: str | None = None
    history: list[str] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        digest = hashlib.sha256(f"{self.kind}\0{self.target}".encode()).hexdigest()[:12]
        return f"{self.id}.{self.kind}.{digest}.json"


def outbox_folder(db_path: Path) -> Path:
    """The outbox of the database at `db_path`: `outbox/` beside it (user-private)."""
    return db_path.parent / OUTBOX


def put(folder: Path, delivery: Delivery, *, replace: bool = False) -> bool:
    """Store `delivery` (made private); False when one for the same event and target is
    there already and `replace` is not asked (an event is announced once)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / delivery.file_name
    if path.exists() and not replace:
        return False
    save(path, delivery)
    return True


def save(path: Path, delivery: Delivery) -> None:
    """Write `delivery` at `path` whole or not at all."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = json.dumps(asdict(delivery), ensure_ascii=False, separators=(",", ":")).encode()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def load(path: Path) -> Delivery | None:
    """The delivery at `path`; None when it is gone or unreadable (set aside, never retried
    blindly)."""
    try:
        data = json.loads(path.read_bytes())
        return Delivery(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        with contextlib.suppress(OSError):
            failed = path.parent / FAILED
            failed.mkdir(mode=0o700, exist_ok=True)
            os.replace(path, failed / path.name)
        return None


def pending(folder: Path) -> list[Path]:
    """The deliveries waiting in `folder`, oldest first."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    paths = [folder / name for name in names if name.endswith(".json") and name[0] != "."]

    def created(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(paths, key=created)


def failed(folder: Path) -> list[Path]:
    """The deliveries whose tries are spent."""
    return pending(folder / FAILED)


def give_up(path: Path, delivery: Delivery) -> None:
    """Move a delivery whose tries are spent to `failed/` (kept, to be seen and resent)."""
    target = path.parent / FAILED
    target.mkdir(mode=0o700, exist_ok=True)
    save(target / path.name, delivery)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def done(path: Path) -> None:
    """A delivered delivery leaves the outbox."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def courier_lock(folder: Path) -> Iterator[bool]:
    """Hold the courier's lock while the block runs; yields False (and holds nothing) when
    another courier holds it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / COURIER_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def courier_running(folder: Path) -> bool:
    """Whether a courier holds the outbox now."""
    if not (folder / COURIER_LOCK).exists():
        return False
    with courier_lock(folder) as free:
        return not free
