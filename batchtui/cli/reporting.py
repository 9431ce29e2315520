"""How a command ends for a person: a refusal, ctrl+c or a closed pipe becomes one line on
stderr and its exit code (light: the UI's start-up uses it before anything else loads)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..core.errors import EXIT_INTERRUPTED, EXIT_OK, BatchtuiError
from ..core.textsafe import one_line


def reported(operation: Callable[[], int]) -> int:
    """Run a command; a refusal or ctrl+c becomes one line on stderr and its exit code."""
    try:
        return operation()
    except BatchtuiError as exc:
        sys.stderr.write(f"batchtui: error: {one_line(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("batchtui: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away: nothing left to say
        return EXIT_OK
