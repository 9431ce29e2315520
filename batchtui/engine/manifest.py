"""The batch folder's manifest: one JSON line per finished output, appended as items succeed.

`<batch folder>/manifest.jsonl` says how each output there was made (item, content, attempt,
timings, log, config hash). A run writes one `run` line (generator, config, its hash) before
its first output line, then one `output` line per output it put in place; a later run (a
retry) appends its own. It is written after the output is complete and in place, so an output
line that names an item and a config hash vouches for a whole file: that is how a retry
adopts outputs its crashed predecessor finished but never recorded.

One file per batch rather than one sidecar per output, as GNU parallel's `--joblog`: creating a
second file per item doubled the inodes a run makes, and on a busy ext4 disk that cost ~0.4 ms
of kernel time per item, more than batchtui's own bookkeeping (measured with
bench/dispatch.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.jsonl"

_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def manifest_path(folder: Path) -> Path:
    """Where the manifest of the batch folder `folder` lives."""
    return folder / MANIFEST_NAME


class Manifest:
    """The appending end of one batch folder's manifest, opened at the first record.

    Each record is a single `write` to a file opened with O_APPEND, so lines never interleave
    and a crash can tear at most the last one (readers skip it). If the file is deleted while
    open (the output folder was removed mid-run), the next record goes to a new file.
    """

    def __init__(self, folder: Path, run: dict[str, Any]) -> None:
        self.path = manifest_path(folder)
        self.run = run
        """This run's `run` record, written with its first output record."""
        self._run_written = False
        self._fd = -1

    def append(self, record: dict[str, Any]) -> None:
        """Write one output record (after this run's `run` record, the first time); OSError
        if the file cannot be written."""
        if self._fd >= 0 and os.fstat(self._fd).st_nlink == 0:
            self.close()  # the folder was deleted: this run's record starts the new file
            self._run_written = False
        line = _ENCODER.encode(record) + "\n"
        if not self._run_written:
            line = _ENCODER.encode(self.run) + "\n" + line
        data = line.encode()
        if self._fd < 0:
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
            self._fd = os.open(self.path, flags, 0o644)
            size = os.fstat(self._fd).st_size
            if size and os.pread(self._fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line torn by a crash ends here, not in ours
        view = memoryview(data)
        while view:  # a regular file takes it all at once; a full disk raises
            view = view[os.write(self._fd, view) :]
        self._run_written = True

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """The latest `output` record of each output file name in `folder`'s manifest ({} if there
    is none; lines that are not whole JSON objects, like one torn by a crash, are skipped)."""
    try:
        text = manifest_path(folder).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    records: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("kind") == "output":
            name = record.get("output")
            if isinstance(name, str):
                records[name] = record
    return records
