"""How a person names a batch or an item: an id, a unique id prefix, a name, a position."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core import limits
from ..core.errors import AmbiguousError, NotFoundError

if TYPE_CHECKING:
    from ..core.models import Batch, BatchItem


def resolve_batch(ref: str, index: list[tuple[str, str]]) -> str:
    """The id of the one batch `ref` names among (id, name) pairs."""
    ref = ref.strip()
    if not ref:
        raise NotFoundError("no batch given; pass an id, an id prefix or a name")
    folded = ref.casefold()
    exact = [pair for pair in index if pair[0] == ref]
    if exact:
        return exact[0][0]
    by_name = [pair for pair in index if pair[1] == ref] or [
        pair for pair in index if pair[1].casefold() == folded
    ]
    by_prefix = [pair for pair in index if pair[0].startswith(ref.lower())]
    if by_name and by_prefix and {b for b, _ in by_name} != {b for b, _ in by_prefix}:
        # "3f9c" names one batch and starts another's id: guessing could delete the wrong one.
        named = ", ".join(f"{b} ({n})" for b, n in by_name[:3])
        prefixed = ", ".join(f"{b} ({n})" for b, n in by_prefix[:3])
        raise AmbiguousError(
            f"'{ref}' is the name of {named} and the start of the id of {prefixed}; "
            "give the full id"
        )
    candidates = (
        by_name or by_prefix or [pair for pair in index if pair[1].casefold().startswith(folded)]
    )
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
    if text.isascii() and text.isdigit() and not _could_be_id_prefix(text):
        # A number is a position (1-based): "3" in a batch of 2 is "no item 3", never the item
        # whose id happens to start with 3.
        if 1 <= int(text) <= len(batch.items):
            return batch.items[int(text) - 1]
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


def _could_be_id_prefix(digits: str) -> bool:
    """Whether a run of digits is read as an id prefix: ids are hex, so about one 8-character
    prefix in forty is all digits ("02516421"). One with a leading zero, or longer than any
    position can be, is never a position."""
    return digits.startswith("0") or len(digits) > len(str(limits.LARGEST_MAX_ITEMS))
