"""The data model: batches, items, their shared config and progress.

Everything here is plain pydantic; no I/O, no Textual. A status only ever changes through the
transition tables in `states.py`: assigning `status` checks the move (an illegal one raises
`TransitionError`), so no code path can skip the rules. What a user may do in which state is
`actions.py`'s one table.
"""

from __future__ import annotations

from ..actions import ACTIONS, require
from ..run import Progress  # re-exported: the clients' name for it
from ..states import (
    BATCH_TRANSITIONS,
    ENDED_BATCH,
    ITEM_TRANSITIONS,
    TERMINAL_ITEM,
    BatchStatus,
    ItemStatus,
    check_batch_transition,
    check_item_transition,
)
from .batch import Batch
from .clock import utcnow
from .config import VIDEO_EXTENSIONS as VIDEO_EXTENSIONS
from .config import BatchConfig
from .config import RetryOn as RetryOn
from .config import ValidateMode as ValidateMode
from .config import default_output_dir as default_output_dir
from .config import default_output_ext as default_output_ext
from .config import generator_change as generator_change
from .item import HISTORY_KEPT as HISTORY_KEPT
from .item import AttemptRecord, BatchItem, StageRecord
from .runner import RunnerInfo

# Also importable from here, as before the split: VIDEO_EXTENSIONS, RetryOn, ValidateMode,
# default_output_dir, HISTORY_KEPT (not in __all__, as before).

__all__ = [
    "ACTIONS",
    "BATCH_TRANSITIONS",
    "ENDED_BATCH",
    "ITEM_TRANSITIONS",
    "TERMINAL_ITEM",
    "AttemptRecord",
    "Batch",
    "BatchConfig",
    "BatchItem",
    "BatchStatus",
    "ItemStatus",
    "Progress",
    "RunnerInfo",
    "StageRecord",
    "check_batch_transition",
    "check_item_transition",
    "require",
    "utcnow",
]
