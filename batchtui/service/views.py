"""Batches, items and list entries as JSON documents: one shape for every client (the CLI's
`--json`, the HTTP API), so a script can move between them without translating."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.review import review_state

if TYPE_CHECKING:
    from ..core.models import Batch, BatchItem
    from ..core.summary import BatchSummary


def batch_json(batch: Batch) -> dict[str, Any]:
    """A batch as JSON, with its derived progress (and each item's every attempt)."""
    data = batch.model_dump(mode="json")
    stages = getattr(getattr(batch, "config", None), "stages", None)  # (a malformed batch
    if stages:  # has no config) each stage as a stages file says it: `validate`, not the field
        data["config"]["stages"] = [
            stage.model_dump(mode="json", by_alias=True) for stage in stages
        ]
    # The pause it is under, its own or (while it runs) the host's: what every view shows.
    data["paused"] = batch.pause
    for item, dumped in zip(batch.items, data["items"], strict=True):
        _with_history(item, dumped)
        dumped["label"] = item.label
        dumped["review_state"] = review_state(item)
    data["progress"] = batch.progress().model_dump(mode="json")
    data["shown_status"] = batch.shown_status  # QUEUED (after 'A'), SCHEDULED (02:00), …
    return data


def item_json(item: BatchItem) -> dict[str, Any]:
    """One item as JSON, `history` holding every attempt (the latest too), and `label`: how a
    person names it (`3`, or `3.v2` for a variant)."""
    extra = {"label": item.label, "review_state": review_state(item)}
    return _with_history(item, item.model_dump(mode="json") | extra)


def _with_history(item: BatchItem, dumped: dict[str, Any]) -> dict[str, Any]:
    if item.attempts:
        dumped["history"] = [record.model_dump(mode="json") for record in item.attempt_history()]
    return dumped


def summary_json(summary: BatchSummary) -> dict[str, Any]:
    """A batch as a list gives it: what the index knows (no items)."""
    return {
        "id": summary.id,
        "name": summary.name,
        "status": summary.status.value,
        "shown_status": summary.shown_status,
        "platform": summary.platform,
        "created_at": summary.created_at.isoformat(),
        "updated_at": summary.updated_at.isoformat() if summary.updated_at else None,
        "paused": summary.paused,
        **({"deferred": summary.deferred} if summary.deferred else {}),
        "progress": {
            "total": summary.total,
            "succeeded": summary.succeeded,
            "percent": summary.percent,
        },
        **(
            {
                "review": dict(
                    zip(("approved", "rejected", "to_review"), summary.review, strict=True)
                )
            }
            if summary.review
            else {}
        ),
    }
