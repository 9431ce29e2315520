"""Open a file in the user's pager (`$PAGER`, else `less`), the app suspended meanwhile.

The pager is run from an argument list, never through a shell: `$PAGER` is split as a shell
would split words (so `less -R` works) and the file is one more argument."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

DEFAULT_PAGER = "less"


def pager_argv(path: str, environ: dict[str, str] | None = None) -> list[str] | str:
    """The command that pages `path`, or why there is none (a one-line message)."""
    environ = dict(os.environ) if environ is None else environ
    wanted = environ.get("PAGER", "").strip() or DEFAULT_PAGER
    try:
        words = shlex.split(wanted)
    except ValueError:
        return f"$PAGER cannot be read as a command: {wanted!r}"
    if not words:
        return "$PAGER is empty"
    if shutil.which(words[0]) is None:
        said = f"$PAGER '{words[0]}'" if environ.get("PAGER", "").strip() else "'less'"
        return f"no pager: {said} is not installed (set PAGER, e.g. PAGER=more)"
    return [*words, path]


def open_in_pager(app: App[object], path: str | None) -> None:
    """Page the file at `path` with the app suspended; a note when it cannot be done."""
    if not path or not os.path.isfile(path):
        app.notify("this item has no log file yet", severity="warning")
        return
    argv = pager_argv(path)
    if isinstance(argv, str):
        app.notify(argv, severity="warning")
        return
    from textual.app import SuspendNotSupported

    try:
        with app.suspend():
            subprocess.run(argv, check=False)
    except SuspendNotSupported:  # in a browser (textual-serve) there is no terminal to lend
        app.notify(
            "a pager needs a terminal: here, read the log with / to search", severity="warning"
        )
    except OSError as exc:
        app.notify(f"the pager did not start: {exc.strerror or exc}", severity="error")
