"""What every command's handler is given besides its arguments: the service, and how output
is written (JSON for scripts, plain or rich text for people; never markup, never raw control
characters)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.errors import EXIT_OK
from ..core.textsafe import inert
from .output import batch_json, console, print_json

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.models import Batch
    from ..service import BatchService


class Context:
    """One invocation: the service on the chosen database, and where output goes."""

    def __init__(
        self,
        service: BatchService,
        *,
        json: bool = False,
        open_ui: Callable[[BatchService], int] | None = None,
    ) -> None:
        self.service = service
        self.json = json
        """Whether the command prints JSON (`--json`) instead of text for people."""
        self.open_ui = open_ui
        """How the terminal UI opens (given by the entry point, which owns its set-up)."""

    @functools.cached_property
    def out(self) -> Console:
        """Rich output for tables and styled text (rich loads only when needed)."""
        return console()

    def emit(self, data: Any, human: Callable[[], None]) -> int:
        """Print `data` as JSON with `--json`, else call `human` to show it; exit code 0."""
        if self.json:
            print_json(data)
        else:
            human()
        return EXIT_OK

    def say(self, message: str) -> None:
        """Print a plain message: never markup, never raw control characters."""
        text = inert(message, keep_newlines=True)
        if not sys.stdout.isatty():
            sys.stdout.write(text + "\n")  # what rich would write here, without loading it
            return
        from rich.text import Text

        self.out.print(Text(text))

    def batch_result(self, batch: Batch, message: str) -> int:
        """A verb's outcome: the batch as JSON, or `message` for people."""
        return self.emit(batch_json(batch), lambda: self.say(message))
