"""What deleting a batch leaves on disk, in words: its output files (those that are there
now), said only when there are some."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Batch


def output_files(batch: Batch) -> int:
    """How many of the batch's items have an output file on disk now (a draft has none; an
    item whose file was moved or deleted is not counted)."""
    paths = {item.output_path for item in batch.items if item.output_path}
    return sum(1 for path in paths if os.path.isfile(path))


def kept_note(batch: Batch) -> str:
    """'3 output files on disk are kept' (or '' when there are none to keep)."""
    count = output_files(batch)
    if count == 0:
        return ""
    if count == 1:
        return "1 output file on disk is kept"
    return f"{count} output files on disk are kept"
