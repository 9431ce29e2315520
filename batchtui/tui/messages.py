"""App-wide messages (runs are followed from the store: see the screens' polling)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from ..core.models import Batch


@dataclass
class RunEnded(Message, bubble=False):
    """A batch's run was ended or the batch went away (recovered after its runner died,
    deleted): screens showing it reload."""

    batch: Batch
