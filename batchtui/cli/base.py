"""What every verb shares: parsed arguments, the service, and how output is written (JSON for
scripts, plain or rich text for people; never markup, never raw control characters)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import EXIT_OK, ValidationError
from ..core.textsafe import inert
from ..service import BatchService
from .output import batch_json, console, print_json

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.models import Batch


def read_lines(source: str) -> list[str]:
    """Items from a file (or stdin for '-'): one per line, blank lines skipped."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(f"no such file: {source}") from None
    except IsADirectoryError:
        raise ValidationError(f"{source} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{source} is not UTF-8 text") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {source}: {exc.strerror}") from None
    # Only \n ends an item: splitlines() would also split on form feeds and U+2028.
    return [line.removesuffix("\r") for line in text.split("\n") if line.strip()]


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
