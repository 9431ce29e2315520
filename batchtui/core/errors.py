"""The typed errors every layer raises; the CLI maps them to exit codes, the TUI to notices.

Each message is one line a person can act on: what is wrong and what to do instead.
"""

from __future__ import annotations


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

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


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
