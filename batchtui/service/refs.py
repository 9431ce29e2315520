"""How a person names a batch or an item: an id, a unique id prefix, a name, a position."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import AmbiguousError, NotFoundError

if TYPE_CHECKING:
    from ..core.models import Batch, BatchItem


def resolve_batch(ref: str, index: list[tuple[str, str]]) -> str:
    """The id of the one batch `ref` names among (id, name) pairs."""
    ref = ref.strip()
    if not ref:
        raise NotFoundError("no batch given; pass an id, an id prefix or a name")
    folded = ref.casefold()
    candidates: list[tuple[str, str]] = []
    # Most specific first: exact id, exact name, id prefix, name in any case, name start.
    for match in (
        lambda batch_id, name: batch_id == ref,
        lambda batch_id, name: name == ref,
        lambda batch_id, name: batch_id.startswith(ref.lower()),
        lambda batch_id, name: name.casefold() == folded,
        lambda batch_id, name: name.casefold().startswith(folded),
    ):
        candidates = [pair for pair in index if match(*pair)]
        if candidates:
            break
    if len(candidates) == 1:
        return candidates[0][0]
    if not candidates:
        raise NotFoundError(f"no batch matches '{ref}' (see: batchtui list)")
    listed = ", ".join(f"{batch_id} ({name})" for batch_id, name in candidates[:5])
    raise AmbiguousError(
        f"'{ref}' matches {len(candidates)} batches: {listed}; give more of the id"
    )


def resolve_item(batch: Batch, ref: str | int) -> BatchItem:
    """The item `ref` names in `batch`: an exact id, a 1-based position, or an id prefix."""
    text = str(ref).strip()
    for item in batch.items:  # an exact id always wins
        if item.id == text:
            return item
    if text.isascii() and text.isdigit():  # a number is a position (1-based), not a prefix
        position = int(text)
        if 1 <= position <= len(batch.items):
            return batch.items[position - 1]
        raise NotFoundError(
            f"batch '{batch.name}' has no item '{text}' (it has {len(batch.items)} items)"
        )
    matches = [item for item in batch.items if item.id.startswith(text.lower())] if text else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(
            f"batch '{batch.name}' has no item '{text}' (it has {len(batch.items)}; "
            "give a position or an item id prefix)"
        )
    raise AmbiguousError(f"'{text}' matches {len(matches)} items; give more of the id")
