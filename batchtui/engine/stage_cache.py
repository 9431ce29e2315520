"""The stage cache: pipeline stage outputs kept by the hash of what made them.

`<output_dir>/.cache/stages/<key[:2]>/<key>.<ext>`, beside the batch folders and outside
every one of them, so deleting a batch never deletes what other batches share.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

CACHE_FOLDER = ".cache"
STAGES_FOLDER = "stages"


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
        """Move a verified output into the cache (atomically: whole or absent); an entry that
        is there already is kept and `source` removed. OSError if it cannot be kept."""
        target = self.path(key, ext)
        target.parent.mkdir(parents=True, exist_ok=True)
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
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            os.link(final, temporary)
            os.replace(temporary, target)
        except OSError:
            return None
        return target
