"""What a command is: the arguments it owns, and its handler."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..context import Context
    from ..options import Argument


class BaseCommand:
    """One verb of `batchtui`: a subclass lists its arguments (in the order `--help` shows
    them) and handles the verb; `commands.VERBS` names it and gives its one line of help."""

    arguments: ClassVar[Sequence[Argument]] = ()
    recovers_orphans: ClassVar[bool] = True
    """Whether runs whose runner died are ended before the command runs (it looks at them)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add this verb's arguments to its parser."""
        for argument in self.arguments:
            argument.add_to_parser(parser)

    def handle(self, args: argparse.Namespace, ctx: Context) -> int:
        """Carry out the verb; its exit code (refusals are raised as `BatchtuiError`)."""
        raise NotImplementedError
