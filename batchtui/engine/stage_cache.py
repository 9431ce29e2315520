"""The stage cache: pipeline stage outputs kept by the hash of what made them.

`<output_dir>/.cache/stages/<key[:2]>/<key>.<ext>`, beside the batch folders and outside
every one of them, so deleting a batch never deletes what other batches share.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..generators.base import POSTER, sidecar

CACHE_FOLDER = ".cache"
STAGES_FOLDER = "stages"

_ENTRY = re.compile(r"^([0-9a-f]{64})\.([A-Za-z0-9]{1,8})$")
"""An entry's name: its key and extension (nothing else in the folder is ever touched)."""


@dataclass(frozen=True)
class Entry:
    """One kept stage output."""

    path: Path
    key: str
    ext: str
    size: int
    used: float
    """When it was last made or taken (its modification time, touched at each use)."""


@dataclass
class PruneResult:
    """What a prune removed."""

    removed: list[Entry] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return sum(entry.size for entry in self.removed)


def cache_root(output_dir: str) -> Path:
    """The stage cache of the batches writing into `output_dir`."""
    return Path(output_dir) / CACHE_FOLDER / STAGES_FOLDER


class StageCache:
    """One stage cache folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str, ext: str) -> Path:
        """Where the entry `key` with extension `ext` lives (whether or not it does)."""
        return self.root / key[:2] / f"{key}.{ext}"

    def lookup(self, key: str, ext: str) -> Path | None:
        """The entry, when there is one (a regular file); its use time is touched, so pruning
        removes the least recently used first."""
        path = self.path(key, ext)
        try:
            info = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return path

    def store(self, source: Path, key: str, ext: str) -> Path:
        """Move a verified output into the cache (atomically: whole or absent), with its
        poster when it has one; an entry that is there already is kept and `source`
        removed. OSError if it cannot be kept."""
        target = self.path(key, ext)
        target.parent.mkdir(parents=True, exist_ok=True)
        poster = sidecar(source, POSTER)
        if os.path.exists(poster):  # (before the entry: an entry found has its poster)
            with contextlib.suppress(OSError):
                os.replace(poster, sidecar(target, POSTER))
        if self.lookup(key, ext) is not None:
            with contextlib.suppress(OSError):
                source.unlink()
            return target
        try:
            os.replace(source, target)
        except OSError:  # another file system: a copy beside the entry, then renamed
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            shutil.copyfile(source, temporary)
            os.replace(temporary, target)
            with contextlib.suppress(OSError):
                source.unlink()
        return target

    def link(self, final: Path, key: str, ext: str) -> Path | None:
        """A hard link to a finished output as the entry `key` (no copy); None when the file
        system will not link."""
        target = self.path(key, ext)
        if self.lookup(key, ext) is not None:
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            poster = sidecar(final, POSTER)
            if os.path.exists(poster):
                with contextlib.suppress(OSError):
                    _link_over(poster, sidecar(target, POSTER))
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            os.link(final, temporary)
            os.replace(temporary, target)
        except OSError:
            return None
        return target

    def entries(self) -> list[Entry]:
        """Every entry, least recently used first (regular files named as entries only: a
        link, a folder or a stray file is neither listed nor ever removed)."""
        found: list[Entry] = []
        try:
            shards = [d for d in os.scandir(self.root) if _is_shard(d)]
        except OSError:
            return []
        for shard in shards:
            try:
                names = list(os.scandir(shard.path))
            except OSError:
                continue
            for entry in names:
                match = _ENTRY.match(entry.name)
                if match is None or not match.group(1).startswith(shard.name):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    found.append(
                        Entry(Path(entry.path), match.group(1), match.group(2), info.st_size,
                              info.st_mtime)
                    )  # fmt: skip
        found.sort(key=lambda entry: entry.used)
        return found

    def prune(self, *, older_than: float | None = None, max_size: int | None = None) -> PruneResult:
        """Remove the entries not used for `older_than` seconds, then the least recently used
        until what is left is at most `max_size` bytes."""
        result = PruneResult()
        entries = self.entries()
        now = time.time()
        kept: list[Entry] = []
        for entry in entries:
            stale = older_than is not None and now - entry.used > older_than
            if stale and _remove(entry):
                result.removed.append(entry)
                continue
            kept.append(entry)
        if max_size is not None:
            total = sum(entry.size for entry in kept)
            for entry in kept:  # least recently used first
                if total <= max_size:
                    break
                if _remove(entry):
                    result.removed.append(entry)
                    total -= entry.size
        for shard in {entry.path.parent for entry in result.removed}:
            with contextlib.suppress(OSError):
                shard.rmdir()  # (only when empty)
        return result


def _is_shard(entry: os.DirEntry[str]) -> bool:
    return (
        len(entry.name) == 2
        and all(c in "0123456789abcdef" for c in entry.name)
        and entry.is_dir(follow_symlinks=False)
    )


def _remove(entry: Entry) -> bool:
    """Remove one entry (and its poster) unless it changed since it was listed (used again
    meanwhile)."""
    try:
        info = os.lstat(entry.path)
        if not stat.S_ISREG(info.st_mode) or info.st_mtime != entry.used:
            return False
        entry.path.unlink()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        sidecar(entry.path, POSTER).unlink()
    return True


def _link_over(source: Path, target: Path) -> None:
    """`target` as a hard link to `source`, replacing what was there."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.link(source, temporary)
    os.replace(temporary, target)
