"""What every verb shares: parsed arguments, the service, and how output is written (JSON for
scripts, plain or rich text for people; never markup, never raw control characters)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.errors import EXIT_OK
from ..core.textsafe import inert
from ..service import BatchService
from .output import batch_json, console, print_json

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.models import Batch


class CliBase:
    """One invocation: parsed arguments, the service, and where output goes."""

    def __init__(self, args: argparse.Namespace, service: BatchService) -> None:
        self.args = args
        self.service = service

    @functools.cached_property
    def out(self) -> Console:
        """Rich output for tables and styled text (rich loads only when needed)."""
        return console()

    def emit(self, data: Any, human: Callable[[], None]) -> int:
        if getattr(self.args, "json", False):
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
        return self.emit(batch_json(batch), lambda: self.say(message))

    # verbs -------------------------------------------------------------
