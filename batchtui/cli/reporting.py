"""How a command ends for a person: a refusal, ctrl+c or a closed pipe becomes one line on
stderr and its exit code (light: the UI's start-up uses it before anything else loads)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..core.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED, BatchtuiError
from ..core.textsafe import one_line


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
    and its exit code."""
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
