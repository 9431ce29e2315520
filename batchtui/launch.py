"""The `batchtui` command's front door: the terminal UI opens without loading the CLI.

`batchtui` alone, or `batchtui tui`, with or without `--db PATH`, starts the UI, which draws its
first frame from the repository alone (no models, no service: pydantic and the engine load
right after). Every other command line goes to `batchtui.cli.main`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from .core.errors import EXIT_INTERRUPTED, EXIT_OK, BatchtuiError
from .core.textsafe import one_line

if TYPE_CHECKING:
    from .service import BatchService


def tui_database(argv: Sequence[str]) -> tuple[bool, str | None]:
    """Whether `argv` only asks for the UI, and the `--db` it names (None: the default)."""
    db: str | None = None
    rest: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--db" and args and db is None:
            db = args.pop(0)
        elif arg.startswith("--db=") and db is None:
            db = arg.removeprefix("--db=")
        else:
            rest.append(arg)
    return rest in ([], ["tui"]), db


def open_tui(service: BatchService) -> int:
    """Run the terminal UI on `service` until the user quits."""
    service.check_readable()  # refuse an unreadable database here, in one line
    import gc

    from .tui.app import BatchtuiApp  # Textual only loads for the UI

    # Process-wide collector tuning, measured on the UI (bench/tui_start.py,
    # bench/responsiveness.py), belongs to this entry point, not to the app's code: no
    # cycle collection until the first frame is on screen (reading a large database
    # allocates enough to trigger a full one, ~15 ms of 0.27 s), then what exists by then
    # (Textual, the app, its first screen: ~80,000 objects that live as long as the app) is
    # frozen out of every later full collection (those took 60-115 ms each in a large run,
    # long enough to be felt as a missed key; frozen, 15-70 ms).
    collect = gc.isenabled()
    gc.disable()

    def after_first_frame() -> None:
        gc.freeze()
        if collect:
            gc.enable()

    try:
        BatchtuiApp(service, on_first_frame=after_first_frame).run()
    finally:
        if collect:
            gc.enable()
    return EXIT_OK


def reported(operation: Callable[[], int]) -> int:
    """Run a command; a refusal or ctrl+c becomes one line on stderr and its exit code."""
    try:
        return operation()
    except BatchtuiError as exc:
        sys.stderr.write(f"batchtui: error: {one_line(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("batchtui: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away: nothing left to say
        return EXIT_OK


def leave(code: int) -> NoReturn:
    """Exit at once with `code`, the standard streams flushed.

    By the time a command returns, the database is written, every file closed and every
    child reaped; tearing the interpreter down object by object would add ~50 ms to each
    command (measured after a 1,000-item run).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # reader gone, stream closed
            stream.flush()
    os._exit(code)


def _tui(db: str | None) -> int:
    from .service import BatchService

    return open_tui(BatchService(db))


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The `batchtui` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    wants_tui, db = tui_database(argv)
    if not wants_tui:
        from .cli.main import run as run_cli

        run_cli(argv)
    leave(reported(lambda: _tui(db)))
