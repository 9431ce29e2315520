"""How a person names a batch or an item: an id, a unique id prefix, a name, a position."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..core import limits
from ..core.errors import AmbiguousError, NotFoundError
from ..core.variants import series_items

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
    """The one item `ref` names in `batch`: an exact id, its key (`intro`), a 1-based position
    (`3`), a variant (`3.v2`, `intro.v2`), or an id prefix. In a batch with variants, a number
    or key names a series item: one of its variants must be named (`AmbiguousError` lists them).
    """
    found = resolve_items(batch, [ref])
    if len(found) == 1:
        return found[0]
    labels = ", ".join(item.label for item in found[:5]) + (" …" if len(found) > 5 else "")
    raise AmbiguousError(
        f"item '{str(ref).strip()}' has {len(found)} variants ({labels}); name one"
    )


def resolve_items(batch: Batch, refs: Iterable[str | int]) -> list[BatchItem]:
    """Every item `refs` name (each once, in list order): as `resolve_item`, but a series item
    of a batch with variants stands for all its variants (`retry --item 3`: each of item 3's)."""
    chosen: set[int] = set()
    for ref in refs:
        chosen.update(id(item) for item in _named(batch, str(ref).strip()))
    return [item for item in batch.items if id(item) in chosen]


def _named(batch: Batch, text: str) -> list[BatchItem]:
    for item in batch.items:  # an exact id always wins
        if item.id == text:
            return [item]
    base, variant = _variant_suffix(text)
    series = _series(batch, base)
    if variant is None:
        return series
    picked = [item for item in series if (item.variant or 1) == variant]
    if not picked:
        most = max((item.variant or 1) for item in series)
        raise NotFoundError(f"item '{base}' has no variant {variant} (it has {most})")
    return picked


def _series(batch: Batch, text: str) -> list[BatchItem]:
    """The rows of the one series item `text` names (one row unless it has variants)."""
    keyed = [item for item in batch.items if item.key is not None and item.key == text]
    if keyed:
        return keyed
    if text.isascii() and text.isdigit() and not _could_be_id_prefix(text):
        # A number is a position (1-based): "3" in a batch of 2 is "no item 3", never the item
        # whose id happens to start with 3. With variants it counts series items (`3.v2`).
        number = int(text)
        rows = [item for item in batch.items if item.series_number == number]
        if rows:
            return rows
        count = len(series_items(batch))
        raise NotFoundError(
            f"batch '{batch.name}' has no item '{text}' (it has {count} item{'s' * (count != 1)})"
        )
    matches = [item for item in batch.items if item.id.startswith(text.lower())] if text else []
    if len(matches) == 1:
        return matches
    if not matches:
        count = len(series_items(batch))
        raise NotFoundError(
            f"batch '{batch.name}' has no item '{text}' (it has {count} item{'s' * (count != 1)}; "
            "give a position, a key or an item id prefix)"
        )
    raise AmbiguousError(f"'{text}' matches {len(matches)} items; give more of the id")


def _variant_suffix(text: str) -> tuple[str, int | None]:
    """`3.v2` as ("3", 2); anything else as (text, None)."""
    base, dot, tail = text.rpartition(".v")
    if dot and base and tail.isascii() and tail.isdigit() and len(tail) <= 3:
        return base, int(tail)
    return text, None


def _could_be_id_prefix(digits: str) -> bool:
    """Whether a run of digits is read as an id prefix: ids are hex, so about one 8-character
    prefix in forty is all digits ("02516421"). One longer than any position can be, or of
    four digits or more with a leading zero, is never a position; a short one ("0", "07") is
    a position, so "0" is refused as one rather than matching an id that starts with 0."""
    longest = len(str(limits.LARGEST_MAX_ITEMS))
    return len(digits) > longest or (digits.startswith("0") and len(digits) >= 4)
