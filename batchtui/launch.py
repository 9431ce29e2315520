"""The `batchtui` command's front door, and the one place for process-wide tricks.

`batchtui` alone, or `batchtui tui`, with or without `--db PATH`, starts the UI, which draws its
first frame from summaries alone (no models: pydantic and the engine load right after). Every
other command line goes to `batchtui.cli`. The collector tuning of the UI and the quick
`os._exit` after a command were measured here and stay here, out of library code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, NoReturn

from .core.errors import EXIT_OK

if TYPE_CHECKING:
    from .service import BatchService
    from .tui.app import BatchtuiApp


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


def ui_app(service: BatchService) -> BatchtuiApp:
    """The terminal UI on `service`, with this process's collector tuned for it.

    Process-wide tuning, measured on the UI (bench/tui_start.py, bench/responsiveness.py),
    belongs to the entry point, not to the app's code: no cycle collection until the first
    frame is on screen (reading a large database allocates enough to trigger a full one,
    ~15 ms of 0.27 s), then what exists by then (Textual, the app, its first screen: ~80,000
    objects that live as long as the app) is frozen out of every later full collection (those
    took 60-115 ms each in a large run, long enough to be felt as a missed key; frozen,
    15-70 ms).
    """
    service.check_readable()  # refuse an unreadable database here, in one line
    import gc

    from .tui import graphics
    from .tui.app import BatchtuiApp  # Textual only loads for the UI

    graphics.choose()  # the terminal is asked before Textual reads the keyboard

    collect = gc.isenabled()
    gc.disable()

    def after_first_frame() -> None:
        gc.freeze()
        if collect:
            gc.enable()

    return BatchtuiApp(service, on_first_frame=after_first_frame)


def open_tui(service: BatchService) -> int:
    """Run the terminal UI on `service` until the user quits; then say which runs go on.

    A crash (a bug) ends the UI with Textual's traceback on the restored terminal; then a
    crash log is written and its path said, and the status is non-zero."""
    from .cli.reporting import say_crashed

    app = ui_app(service)
    app.run()
    say_runs_go_on(service, stopping=app.stopping)
    if app.crash is not None or app.return_code:
        return say_crashed(app.crash or f"the UI ended with status {app.return_code}\n")
    return EXIT_OK


def say_runs_go_on(service: BatchService, stopping: Collection[str] = ()) -> None:
    """After the UI: the runs still going (they belong to runner processes, not to the UI)
    and how to follow them, on stderr (stdout stays for what a command prints). `stopping`:
    the batches the user chose to stop on quitting (cancelled, they are ending, not going on)."""
    from .core.errors import BatchtuiError
    from .core.states import BatchStatus
    from .core.textsafe import one_line

    try:
        summaries = service.summaries()
    except BatchtuiError:
        return
    lines = []
    for summary in (s for s in summaries if s.id in stopping):
        going = summary.status is BatchStatus.PROCESSING
        lines.append(
            f"batchtui: {'stopping' if going else 'stopped'} '{one_line(summary.name, 40)}' "
            "as you asked (batchtui retry resumes it)"
        )
    running = [s for s in summaries if s.status is BatchStatus.PROCESSING and s.id not in stopping]
    if running:
        count = "1 run goes" if len(running) == 1 else f"{len(running)} runs go"
        lines.append(f"batchtui: {count} on in the background (closing the UI never stops a run):")
        for summary in running[:5]:
            name = one_line(summary.name, 40)
            lines.append(
                f"  {name} ({summary.succeeded}/{summary.total}): batchtui attach {summary.id}"
            )
        if len(running) > 5:
            lines.append(f"  … and {len(running) - 5} more: batchtui list")
    if lines:
        sys.stderr.write("\n".join(lines) + "\n")


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


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The `batchtui` command: the UI, or one command line; then a quick exit."""
    argv = sys.argv[1:] if argv is None else list(argv)
    wants_tui, db = tui_database(argv)
    if wants_tui:  # the CLI (argparse, every verb) is not even imported
        from .cli.reporting import reported
        from .service import BatchService

        leave(reported(lambda: open_tui(BatchService(db))))
    from .cli.main import main

    try:
        code = main(argv, open_ui=open_tui)
    except SystemExit as exc:  # argparse: usage errors and --help
        code = exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else 1
        if not isinstance(exc.code, int | None):
            sys.stderr.write(f"{exc.code}\n")
    leave(code)
