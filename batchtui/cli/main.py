"""`batchtui` on the command line: every batch operation as a verb, `--json` on every read.

Exit codes: 0 success (a run ended COMPLETE), 1 a run ended PARTIAL or FAILED, 2 usage or
validation error (one line on stderr, nothing changed), 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..core.errors import ValidationError
from ..service import BatchService, open_service
from .edit_verbs import EditVerbs
from .parser import build_parser
from .read_verbs import ReadVerbs
from .reporting import reported
from .run_verbs import RunVerbs
from .serve_verb import ServeVerb
from .template_verbs import TemplateVerbs
from .web_verb import WebVerb


class Cli(EditVerbs, ReadVerbs, RunVerbs, ServeVerb, TemplateVerbs, WebVerb):
    """One invocation of `batchtui VERB`: each verb is a `do_<verb>` method."""


def main(
    argv: Sequence[str] | None = None,
    open_ui: Callable[[BatchService], int] | None = None,
) -> int:
    """Run one command line; its exit code. `open_ui` opens the terminal UI (for `batchtui`
    alone or `batchtui tui`): the entry point passes it, so the UI's process-wide set-up
    stays there."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def execute() -> int:
        service = open_service(args.db)
        if args.verb in (None, "tui"):
            if open_ui is None:
                raise ValidationError("the terminal UI opens with: batchtui (or batchtui tui)")
            return open_ui(service)
        if args.verb != "_runner":  # the runner is handed a batch recorded as its own
            service.recover_orphans()
        handler = getattr(Cli(args, service), f"do_{args.verb.replace('-', '_')}")
        return handler()

    return reported(execute)
