"""The `batchtui` command's front door: the terminal UI opens without loading the CLI.

`batchtui` alone, or `batchtui tui`, with or without `--db PATH`, starts the UI, which draws its
first frame from the repository alone (no models, no service: pydantic and the engine load
right after). Every other command line goes to `batchtui.cli`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from .errors import BatchtuiError
from .textsafe import one_line

if TYPE_CHECKING:
    from .store import Repository

EXIT_OK = 0
EXIT_INTERRUPTED = 130


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


def open_tui(repo: Repository) -> int:
    """Run the terminal UI on `repo` until the user quits."""
    repo.check_readable()  # refuse an unreadable database here, in one line
    from .tui.app import BatchtuiApp  # Textual only loads for the UI

    BatchtuiApp(repo=repo).run()
    return EXIT_OK


def _tui(db: str | None) -> int:
    from .store import Repository

    try:
        return open_tui(Repository(db) if db else Repository())
    except BatchtuiError as exc:
        sys.stderr.write(f"batchtui: error: {one_line(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("batchtui: interrupted\n")
        return EXIT_INTERRUPTED


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The `batchtui` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    wants_tui, db = tui_database(argv)
    if not wants_tui:
        from .cli import run as run_cli

        run_cli(argv)
    code = _tui(db)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)  # as `cli.run` does: everything is written and closed by now
