"""Running items: the scheduler (queue, limit, host slots, timeouts, cancel, events), the
executor seam and the local executor, the on-disk layout, and output verification."""

from .executor import Attempt, AttemptResult, Executor
from .finish import OutputFinisher
from .local import LocalExecutor
from .scheduler import Scheduler

__all__ = ["Attempt", "AttemptResult", "Executor", "LocalExecutor", "OutputFinisher", "Scheduler"]
