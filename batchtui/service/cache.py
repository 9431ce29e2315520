"""The stage caches this database's batches write into: how big each is, and trimming them.

A cache lives in an output folder (`<output>/.cache/stages`), shared by every batch writing
there, so the caches are those of the default output folder and of every output folder a
batch of this database names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.errors import StoreError
from ..core.models import default_output_dir
from ..engine.stage_cache import PruneResult, StageCache, cache_root
from .context import ServiceContext


@dataclass(frozen=True)
class CacheSummary:
    """One stage cache: where, how many entries, how many bytes, when last used."""

    folder: Path
    entries: int
    size: int
    oldest: datetime | None
    newest: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "entries": self.entries,
            "bytes": self.size,
            "oldest_use": self.oldest.isoformat() if self.oldest else None,
            "newest_use": self.newest.isoformat() if self.newest else None,
        }


@dataclass(frozen=True)
class Pruned:
    """What a prune removed from one cache."""

    folder: Path
    removed: int
    freed: int
    left: int
    """Entries left."""

    def as_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "removed": self.removed,
            "freed_bytes": self.freed,
            "left": self.left,
        }


class CacheUses:
    """The use cases of the stage caches."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _caches(self) -> list[StageCache]:
        folders = {default_output_dir()}
        for summary in self.ctx.repo.summaries():
            try:  # the raw document: a maintenance command need not validate 5,000 batches
                doc = self.ctx.repo.get_raw(summary.id)
            except StoreError:
                continue
            folder = (doc or {}).get("config", {}).get("output_dir")
            if isinstance(folder, str) and folder:
                folders.add(folder)
        roots = sorted({cache_root(folder) for folder in folders})
        return [StageCache(root) for root in roots if root.is_dir()]

    def caches(self) -> list[CacheSummary]:
        """Each stage cache there is (none when no pipeline ever ran)."""
        found = []
        for cache in self._caches():
            entries = cache.entries()
            found.append(
                CacheSummary(
                    cache.root,
                    len(entries),
                    sum(entry.size for entry in entries),
                    _when(entries[0].used) if entries else None,
                    _when(entries[-1].used) if entries else None,
                )
            )
        return found

    def prune_caches(self, *, older_than: float | None, max_size: int | None) -> list[Pruned]:
        """Trim every stage cache: entries not used for `older_than` seconds, then the least
        recently used until each is at most `max_size` bytes."""
        results = []
        for cache in self._caches():
            result: PruneResult = cache.prune(older_than=older_than, max_size=max_size)
            results.append(
                Pruned(cache.root, len(result.removed), result.freed, len(cache.entries()))
            )
        return results


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
