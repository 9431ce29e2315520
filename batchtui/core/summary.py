"""What a list of batches shows, read straight from stored documents.

The batch list needs a handful of facts per batch (name, status, counts, when it changed);
validating every item of every batch into models to get them cost most of a large database's
start-up (10,000 items: ~60 ms of 0.1 s). A summary reads the raw document instead; a batch
is validated in full only when it is opened or acted on.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from .deferral import shown_parts, shown_status
from .pausing import PauseMode, pause_mode
from .review import stored_review_state
from .states import BatchStatus, ItemStatus

if TYPE_CHECKING:
    from .models import Batch

_SUCCEEDED = ItemStatus.SUCCEEDED.value
_RUNNING = ItemStatus.RUNNING.value


class BatchSummary(NamedTuple):
    """One batch as a list shows it (a named tuple: a list of 5,000 makes them in ~2 ms, a
    frozen dataclass took ~8 ms)."""

    id: str
    name: str
    status: BatchStatus
    platform: str
    total: int
    succeeded: int
    percent: float
    """Successful work, as `Batch.progress()` counts it (`from_document` counts the same way
    from raw items: a test holds the two together)."""
    created_at: datetime
    updated_at: datetime | None
    paused: PauseMode | None = None
    """The pause it is under (`core.pausing`), or None."""
    deferred: dict[str, Any] | None = None
    """A queued or scheduled start, as stored (`Batch.deferred`); None: none."""
    review: tuple[int, int, int] | None = None
    """Its outputs in review: (approved, rejected, to review), once a verdict was given
    (None before: most batches are never reviewed)."""

    @property
    def shown_status(self) -> str:
        """The word the list shows (`core.deferral.shown_status`: QUEUED / SCHEDULED for a
        deferred start, else the status)."""
        return shown_status(self.status, self.deferred)

    @property
    def shown_parts(self) -> tuple[str, str] | None:
        """The shown word and what it waits for, apart (`QUEUED`, `after 'A'`), for a
        deferred start (None otherwise): what a narrow column shows."""
        return shown_parts(self.status, self.deferred)

    @classmethod
    def of(cls, batch: Batch) -> BatchSummary:
        """The summary of a batch already in memory (a live run's, say)."""
        progress = batch.progress()  # the one definition of "succeeded" and "percent"
        return cls(
            id=batch.id,
            name=batch.name,
            status=batch.status,
            platform=batch.config.platform,
            total=progress.total,
            succeeded=progress.succeeded,
            percent=progress.percent,
            created_at=batch.created_at,
            updated_at=batch.updated_at,
            paused=batch.pause,
            deferred=batch.deferred.raw() if batch.deferred else None,
            review=_looked(progress.review),
        )

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> BatchSummary:
        """The summary of a stored document; KeyError, TypeError or ValueError if it is not
        a well-formed batch (then validate it for the real reason)."""
        items = doc["items"]
        succeeded = 0
        work = 0.0
        looked = {"approved": 0, "rejected": 0, "to_review": 0}
        for item in items:
            state = item["status"]
            if state == _SUCCEEDED:
                succeeded += 1
                work += 1.0
                review = stored_review_state(item)
                if review is not None:
                    looked[review] += 1
            elif state == _RUNNING:
                work += float(item.get("progress") or 0.0)
        total = len(items)
        updated = doc.get("updated_at")
        return cls(
            id=doc["id"],
            name=doc["name"],
            status=BatchStatus(doc["status"]),
            platform=doc["config"]["platform"],
            total=total,
            succeeded=succeeded,
            percent=round(100.0 * work / total, 1) if total else 0.0,
            created_at=datetime.fromisoformat(doc["created_at"]),
            updated_at=datetime.fromisoformat(updated) if updated else None,
            paused=pause_mode(doc["status"], doc.get("paused"), doc.get("host_paused")),
            deferred=doc.get("deferred") or None,
            review=_looked(looked),
        )


def _looked(counts: dict[str, int] | None) -> tuple[int, int, int] | None:
    """Review counts as a summary keeps them: once a verdict was given, else None."""
    if not counts or not (counts["approved"] or counts["rejected"]):
        return None
    return (counts["approved"], counts["rejected"], counts["to_review"])
