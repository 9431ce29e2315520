"""Variants: each item rendered N times (`config.variants`), to pick the best of N.

A batch is authored with one row per series item. Locking with `variants` N > 1 makes each item
N rows, its variants 1..N (the item itself is variant 1; the others are copies with their own
ids): from there on a variant is an item like any other, so a run, its progress, its logs, a
failure and `retry` (only what did not succeed) work per variant with no second mechanism.
Unlocking (which only a batch with nothing succeeded may do) folds them back.

A variant is named `3.v2` (or `intro.v2` by key); its output is `03-topic.v2.mp4`, beside its
siblings. `{variant}` is its number and `{seed}` a seed of its own: the item's `seed` variable
when it sets one (or the config's default), else one derived from its key (or its number and
content) and the variant, so a series re-made from its manifest gets the same seeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Batch, BatchItem

SEED_RANGE = 2**31
"""Derived seeds are in [0, 2**31): what every renderer's seed option takes."""


def expand(batch: Batch, new_id: Callable[[], str]) -> None:
    """Give each item of `batch` its variants (`config.variants` of them) as rows after it; a
    no-op for one variant, or when they are made already."""
    count = batch.config.variants
    if count <= 1 or any(item.variant is not None for item in batch.items):
        return
    rows: list[BatchItem] = []
    for number, item in enumerate(batch.items, start=1):
        item.variant, item.number = 1, number
        rows.append(item)
        for variant in range(2, count + 1):
            copy = type(item)(
                id=new_id(),
                position=len(rows) + 1,
                content=item.content,
                vars=dict(item.vars) if item.vars else None,
                key=item.key,
                variant=variant,
                number=number,
            )
            rows.append(copy)
    batch.items = rows
    renumber(batch)


def fold(batch: Batch) -> None:
    """Back to one row per series item (each its first variant, which keeps its id)."""
    if not any(item.variant is not None for item in batch.items):
        return
    batch.items = [item for item in batch.items if (item.variant or 1) == 1]
    for item in batch.items:
        item.variant = None
        item.number = None
    renumber(batch)


def renumber(batch: Batch) -> None:
    """Positions 1..n in list order; and, for variants, their series item's number."""
    number = 0
    for position, item in enumerate(batch.items, start=1):
        item.position = position
        if item.variant is None:
            item.number = None
            continue
        if item.variant == 1 or number == 0:
            number += 1
        item.number = number


def series_items(batch: Batch) -> list[BatchItem]:
    """One item per series entry: the batch's items, or each one's first variant."""
    return [item for item in batch.items if (item.variant or 1) == 1]


def derived_seed(key: str | None, number: int, content: str, variant: int) -> int:
    """The `{seed}` of a variant whose item sets none: stable across re-makes of the series
    (from the item's key, or its number and content; never from ids, which a re-make changes)."""
    basis = key if key is not None else f"{number}\x00{content}"
    digest = hashlib.sha256(f"{basis}\x00{variant}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_RANGE
