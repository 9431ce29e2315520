"""The courier: the one process that delivers the outbox, then exits.

It holds the outbox's lock while it works (a second courier started meanwhile leaves at
once), tries what is due, a few at a time, waits out each delivery's backoff, and stops when
the outbox is empty. Before it goes it lets the lock go and looks once more: news queued in
that instant by a runner that saw the lock held is then delivered by this courier or by the
one that runner started, never by nobody.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import os
import random
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from ...core.backoff import retry_delay
from ...core.errors import BatchtuiError
from ...core.notify_settings import load_notify_settings
from ...core.textsafe import one_line
from ..detached import runs_folder
from . import hook, people, webhook
from .outbox import COURIER_LOCK, Delivery, done, give_up, load, outbox_folder, pending, save
from .outcome import Outcome

AT_ONCE = 8
"""Deliveries tried at the same time (a slow receiver does not hold up the others)."""
LONGEST_WAIT = 3600.0
"""The longest wait between two tries of one delivery."""
LOOK_EVERY = 0.5
"""Seconds between looks at the outbox while deliveries wait (news may arrive meanwhile)."""
LOCK_PATIENCE = 2.0
"""How long a starting courier tries for the lock (a command checking it holds it briefly)."""


def run_courier(db_path: Path) -> int:
    """Deliver the outbox of `db_path` until it is empty; how many deliveries ended (sent or
    given up)."""
    folder = outbox_folder(db_path)
    ended = 0
    while True:
        with _lock(folder) as held:
            if not held:
                return ended  # another courier has the outbox
            ended += _deliver_all(db_path, folder)
        if not pending(folder):
            return ended


@contextlib.contextmanager
def _lock(folder: Path) -> Iterator[bool]:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / COURIER_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + LOCK_PATIENCE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        yield True
    finally:
        os.close(fd)


def _deliver_all(db_path: Path, folder: Path) -> int:
    ended = 0
    inflight: dict[Path, concurrent.futures.Future[bool]] = {}
    with concurrent.futures.ThreadPoolExecutor(AT_ONCE, thread_name_prefix="courier") as pool:
        while True:
            now = time.time()
            wait = LOOK_EVERY
            paths = pending(folder)
            if not paths and not inflight:
                return ended
            for path in paths:
                if path in inflight or len(inflight) >= AT_ONCE:
                    continue
                delivery = load(path)
                if delivery is None:
                    continue
                if delivery.next_at > now:
                    wait = min(wait, delivery.next_at - now)
                    continue
                inflight[path] = pool.submit(_try, db_path, path, delivery)
            if inflight:
                finished, _ = concurrent.futures.wait(
                    list(inflight.values()),
                    timeout=max(0.01, wait),
                    return_when=concurrent.futures.FIRST_COMPLETED,
                )
                for path, future in list(inflight.items()):
                    if future in finished:
                        del inflight[path]
                        ended += future.result()
            else:
                time.sleep(max(0.01, wait))


def _try(db_path: Path, path: Path, delivery: Delivery) -> bool:
    """One try of `delivery`; True when it ended (sent, or given up)."""
    output = ""
    try:
        if delivery.kind == "webhook":
            secret = load_notify_settings().secret(delivery.secret or "default")
            outcome = webhook.send(delivery, secret)
        elif delivery.kind == "notify":
            outcome = people.send(delivery)
        else:
            outcome, output = hook.run(delivery)
    except BatchtuiError as exc:  # the settings cannot be read, or the secret is not there
        outcome = Outcome(False, str(exc))
    except Exception as exc:  # a library's surprise: logged, tried again, never a dead courier
        outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
    delivery.tries += 1
    delivery.last_error = None if outcome.ok else one_line(outcome.detail, 300)
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    delivery.history.append(f"{stamp} try {delivery.tries}: {one_line(outcome.detail, 200)}")
    ended = outcome.ok or outcome.final or delivery.tries >= delivery.attempts
    if outcome.ok:
        done(path)
        then = ""
    elif ended:
        give_up(path, delivery)
        then = "; given up (batchtui notify pending shows it)"
    else:
        delay = retry_delay(delivery.backoff, LONGEST_WAIT, delivery.tries, random.random())
        if outcome.wait is not None:  # the receiver said when (429, 503): not before that
            delay = max(delay, outcome.wait)
        delivery.next_at = time.time() + delay
        save(path, delivery)
        then = f"; again in {delay:.1f} s"
    _log(
        db_path,
        delivery,
        f"try {delivery.tries} of {delivery.attempts}: {outcome.detail}{then}",
        output,
    )
    return ended


def shown_target(delivery: Delivery) -> str:
    """The target as a log or a list shows it: an address without what may be a token (its
    path and query, for a notification; its query, for a webhook), a hook's command whole."""
    if delivery.kind == "hook":
        return one_line(delivery.target, 120)
    try:
        parts = urlsplit(delivery.target)
    except ValueError:
        return "(an address that cannot be read)"
    if delivery.kind == "notify":
        return f"{parts.scheme}://{parts.hostname or ''}…"
    return one_line(f"{parts.scheme}://{parts.netloc}{parts.path}", 120)


def _log(db_path: Path, delivery: Delivery, said: str, output: str) -> None:
    """One line per try in the run's log (or the batch's notify log when the run had none)."""
    path = Path(delivery.log_path) if delivery.log_path else None
    if path is None or not path.parent.is_dir():
        path = runs_folder(db_path) / f"{delivery.batch_id}-notify.log"
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    line = (
        f"[{stamp}] {delivery.kind} {shown_target(delivery)} {delivery.body.get('type')}: {said}\n"
    )
    if output:
        line += "".join(f"  | {text}\n" for text in output.splitlines())
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)
