"""How a command ends for a person: a refusal, ctrl+c or a closed pipe becomes one line on
stderr and its exit code; a crash (a bug) writes a crash log, says where, and exits non-zero
(light: the UI's start-up uses it before anything else loads)."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..core.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED, BatchtuiError
from ..core.textsafe import one_line

EXIT_CRASH = 70
"""The exit status after a crash: an internal error, a bug (sysexits' EX_SOFTWARE)."""


def crash_folder() -> Path:
    """Where crash logs go: `crashes` in the user state folder ($XDG_STATE_HOME/batchtui)."""
    from ..core.settings import state_dir

    return state_dir() / "crashes"


def write_crash_log(report: str) -> Path | None:
    """Write `report` (a traceback, what was running) to a new crash log; its path (None: the
    state folder cannot be written, and then the traceback on stderr is all there is)."""
    now = datetime.now().astimezone()
    name = f"crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}.log"
    header = f"batchtui crashed at {now.isoformat(timespec='seconds')}\nargv: {sys.argv}\n\n"
    try:
        folder = crash_folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / name
        # Only this account may read it: a traceback shows what was typed and where.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        # A traceback may quote text that is not UTF-8 (an argument's bytes): escaped, not lost.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as log:
            log.write(header + report)
    except OSError:
        return None
    return path


def say_crashed(report: str) -> int:
    """Write the crash log and say where, last on stderr (after any traceback); the status."""
    path = write_crash_log(report)
    where = f"the crash log is {path}" if path else "no crash log could be written"
    sys.stderr.write(f"batchtui: crashed (a bug, please report it): {where}\n")
    return EXIT_CRASH


def _leaf(group: BaseExceptionGroup) -> BaseException:
    """The error worth telling from an exception group (a run's task group wraps what failed
    in it): a refusal first, then ctrl+c, then the first anything."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    for kind in (BatchtuiError, KeyboardInterrupt, OSError):
        for leaf in leaves:
            if isinstance(leaf, kind):
                return leaf
    return leaves[0] if leaves else group


def _os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def reported(operation: Callable[[], int]) -> int:
    """Run a command; a refusal, ctrl+c or a failing file system becomes one line on stderr
    and its exit code; anything else is a crash: its traceback, a crash log, `EXIT_CRASH`."""
    try:
        try:
            return operation()
        except BaseExceptionGroup as group:
            raise _leaf(group) from None
    except BatchtuiError as exc:
        sys.stderr.write(f"batchtui: error: {one_line(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("batchtui: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away: nothing left to say
        return EXIT_OK
    except OSError as exc:  # a disk full, a read-only mount: said, not a traceback
        sys.stderr.write(f"batchtui: error: {one_line(_os_error(exc))}\n")
        return EXIT_RUN_FAILED
    except Exception:  # a bug: the traceback as Python would print it, and kept in a log
        report = traceback.format_exc()
        sys.stderr.write(report)
        return say_crashed(report)
