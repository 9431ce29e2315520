"""`batchtui` on the command line: every batch operation as a verb, `--json` on every read.

Exit codes: 0 success (a run ended COMPLETE), 1 a run ended PARTIAL or FAILED, 2 usage or
validation error (one line on stderr, nothing changed), 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..service import BatchService, open_service
from .commands import BY_NAME
from .context import Context
from .parser import build_parser
from .reporting import reported


def main(
    argv: Sequence[str] | None = None,
    open_ui: Callable[[BatchService], int] | None = None,
) -> int:
    """Run one command line; its exit code. `open_ui` opens the terminal UI (for `batchtui`
    alone or `batchtui tui`): the entry point passes it, so the UI's process-wide set-up
    stays there."""
    args = build_parser(lazy=True).parse_args(argv)
    command = BY_NAME[args.verb or "tui"].command()

    def execute() -> int:
        service = open_service(args.db)
        if command.recovers_orphans:
            service.recover_orphans()
        ctx = Context(service, json=getattr(args, "json", False), open_ui=open_ui)
        return command.handle(args, ctx)

    return reported(execute)
