"""The typed errors every layer raises; the CLI maps them to exit codes, the TUI to notices.

Each message is one line a person can act on: what is wrong and what to do instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .textsafe import one_line


class BatchtuiError(Exception):
    """Base of every error batchtui reports to a user (never a crash, always one line)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(BatchtuiError):
    """Input or configuration that cannot be accepted (bad value, blank content, too many items)."""

    def __init__(self, message: str, problems: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [message])


class TransitionError(BatchtuiError):
    """An operation the batch's current state does not allow; the message says what is allowed."""


class NotFoundError(BatchtuiError):
    """No batch or item matches the reference given."""


class AmbiguousError(BatchtuiError):
    """A reference (ID prefix or name) matches more than one batch or item."""


class StoreError(BatchtuiError):
    """The database cannot be read or written; it is left exactly as it was."""


class BusyError(StoreError):
    """Another process holds the database or the batch (a runner owns it)."""


class MalformedBatchError(StoreError):
    """A stored batch that does not validate (edited by hand, written by a broken tool): it
    is reported, everything else keeps working, and it can be deleted."""

    def __init__(self, message: str, batch_id: str, name: str) -> None:
        super().__init__(message)
        self.batch_id = batch_id
        self.name = name


class ClusterError(BatchtuiError):
    """A render farm (Dask cluster) that cannot take the run: unreachable, no workers, other
    versions, or Dask not installed. Nothing was changed."""

    exit_code = 1


class OutputsKeptError(StoreError):
    """A batch was deleted but its output files could not all be removed (the message says
    which and why)."""

    exit_code = 1


EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
"""The command's exit codes: success, a run ended PARTIAL or FAILED, a usage or validation
error, interrupted."""


class _ModelErrors(Protocol):
    """A pydantic `ValidationError`, or FastAPI's `RequestValidationError` (not imported
    here: reading a batch list must not load pydantic)."""

    def errors(self) -> Sequence[Any]: ...


PROBLEMS_SHOWN = 3
"""How many of a model's problems one line names (a batch of 10,000 broken items stays one
readable line)."""


def model_error_line(exc: _ModelErrors, where: str = "value") -> str:
    """A model's validation problems as one line: 'field.sub: what is wrong (got 'x')',
    the first few joined with '; ', then how many more. `where` names a problem that has no
    field (the whole value, body or document)."""
    problems = list(exc.errors())
    shown = "; ".join(_problem(error, where) for error in problems[:PROBLEMS_SHOWN])
    more = len(problems) - PROBLEMS_SHOWN
    return f"{shown} (and {more} more)" if more > 0 else shown or f"{where}: invalid"


def _problem(error: Mapping[str, Any], where: str) -> str:
    # A field's name may be the caller's (an extra key): shown inertly, on the one line.
    place = one_line(".".join(str(part) for part in error.get("loc", ())), 60) or where
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    given = error.get("input")
    # Our own validators name the value in their message; pydantic's own checks do not.
    if error.get("type") != "value_error" and isinstance(given, str | int | float):
        message += f" (got {repr(given)[:40]})"
    return f"{place}: {' '.join(message.split())}"
