"""The runs this process has begun and not yet driven or handed to a runner: process-wide
state (any service in the process may ask), kept here alone.

`recover_orphans` leaves such a run alone (its runner record names this very process, which
is about to run it); any other run recorded as this process's own is one it failed to start,
and is ended like any orphan.
"""

from __future__ import annotations


class BegunRuns:
    """Ids of batches begun by this process and not yet running or handed over."""

    def __init__(self) -> None:
        self._ids: set[str] = set()

    def add(self, batch_id: str) -> None:
        """`batch_id` was begun here: recovery must leave it alone for now."""
        self._ids.add(batch_id)

    def discard(self, batch_id: str) -> None:
        """`batch_id` runs here now, was handed over, or was given up."""
        self._ids.discard(batch_id)

    def __contains__(self, batch_id: object) -> bool:
        return batch_id in self._ids


BEGUN_HERE = BegunRuns()
"""This process's one registry (every `Runs` of the process shares it)."""
