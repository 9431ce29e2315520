"""Display primitives shared by the CLI and the TUI: status icons (single-width, readable
without colour) and durations."""

from __future__ import annotations

from .states import BatchStatus, ItemStatus

ICONS: dict[str, str] = {
    BatchStatus.DRAFT: "✎",
    BatchStatus.LOCKED: "■",
    BatchStatus.PROCESSING: "▶",
    BatchStatus.COMPLETE: "✔",
    BatchStatus.PARTIAL: "◐",
    BatchStatus.FAILED: "✖",
    ItemStatus.PENDING: "·",
    ItemStatus.RUNNING: "▶",
    ItemStatus.SUCCEEDED: "✔",
    ItemStatus.FAILED: "✖",
    ItemStatus.CANCELLED: "⊘",
    ItemStatus.INTERRUPTED: "↯",
    ItemStatus.SKIPPED: "»",
}
WAITING_ICON = "◔"
"""A PENDING item whose turn has come but which waits for a host slot."""
RETRY_ICON = "↻"
"""A PENDING item waiting out its backoff before it is tried again."""


def seconds(value: float | None) -> str:
    """A duration as 1h02m, 3m05s or 4.2s ('—' when unknown)."""
    if value is None:
        return "—"
    if value >= 3600:
        return f"{int(value // 3600)}h{int(value % 3600 // 60):02d}m"
    if value >= 60:
        return f"{int(value // 60)}m{int(value % 60):02d}s"
    return f"{value:.1f}s"
