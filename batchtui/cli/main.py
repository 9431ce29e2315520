"""`batchtui` on the command line: every batch operation as a verb, `--json` on every read.

Exit codes: 0 success (a run ended COMPLETE), 1 a run ended PARTIAL or FAILED, 2 usage or
validation error (one line on stderr, nothing changed), 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

from ..core.errors import EXIT_OK
from ..launch import leave, open_tui, reported
from ..service import open_service
from .edit_verbs import EditVerbs
from .parser import build_parser
from .read_verbs import ReadVerbs
from .run_verbs import RunVerbs


class Cli(EditVerbs, ReadVerbs, RunVerbs):
    """One invocation of `batchtui VERB`: each verb is a `do_<verb>` method."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `batchtui` command."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def execute() -> int:
        service = open_service(args.db)
        if args.verb in (None, "tui"):
            return open_tui(service)
        service.recover_orphans()
        handler = getattr(Cli(args, service), f"do_{args.verb.replace('-', '_')}")
        return handler()

    return reported(execute)


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The `batchtui` command: `main`, then a quick exit (see `launch.leave`)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage errors and --help
        code = exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else 1
        if not isinstance(exc.code, int | None):
            sys.stderr.write(f"{exc.code}\n")
    leave(code)


if __name__ == "__main__":
    run()
