"""Where a batch's files live: its folder, output and `.part` names, logs, scratch folders and
the manifest. The one module that knows the layout on disk.

```
<output_dir>/<name-slug>-<id6>/
    NN-<content-slug>.<ext>          finished, verified outputs
    .NN-<content-slug>.partA.<ext>   attempt A while it runs (removed unless it succeeds)
    logs/NN-<content-slug>.log       an item's log (all its attempts)
    .work/<item id>/                 an item's scratch folder, while it runs
    manifest.jsonl                   one line per run, one per output put in place
```

The manifest says how each output was made (item, content, attempt, timings, log, config hash).
A run writes one `run` line (generator, config, its hash) before its first output line, then one
`output` line per output it put in place; a later run (a retry) appends its own. It is written
after the output is complete and in place, so an output line that names an item and a config
hash vouches for a whole file: that is how a retry adopts outputs its crashed predecessor
finished but never recorded. One file per batch rather than one sidecar per output, as GNU
parallel's `--joblog`: a second file per item doubled the inodes a run makes, and on a busy ext4
disk that cost ~0.4 ms of kernel time per item (measured with bench/dispatch.py).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.slug import slug
from ..core.states import ItemStatus
from ..generators.base import Job

if TYPE_CHECKING:
    from ..core.models import Batch, BatchConfig

MANIFEST_NAME = "manifest.jsonl"
WORK_FOLDER = ".work"
LOGS_FOLDER = "logs"

_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def batch_folder(config: BatchConfig, batch_id: str, batch_name: str) -> Path:
    """`<output>/<name-slug>-<id>`: no two batches ever share a folder (the whole id: with
    six hex digits of it, two same-name batches of 5,000 shared one about half the time, and
    one run overwrote the other's outputs).

    A batch whose folder an earlier release named (six hex digits; ASCII only, `cafe-…` for
    "Café") keeps it — but only when that folder's manifest says it is this batch's: a
    same-name batch whose id merely starts alike never takes it over."""
    output = Path(config.output_dir)
    folder = output / f"{slug(batch_name) or 'batch'}-{batch_id}"
    if folder.exists():
        return folder
    for name in (slug(batch_name) or "batch", _ascii_slug(batch_name)):
        earlier = output / f"{name}-{batch_id[:6]}"
        if earlier.is_dir() and not earlier.is_symlink() and _made_for(earlier, batch_id):
            return earlier
    return folder


def _made_for(folder: Path, batch_id: str) -> bool:
    """Whether `folder`'s manifest says its runs were this batch's (and no other's)."""
    owners: set[object] = set()
    try:
        with manifest_path(folder).open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("kind") == "run":
                    owners.add(record.get("batch_id"))
    except OSError:
        return False
    return owners == {batch_id}


def _ascii_slug(text: str) -> str:
    # How releases before Unicode slugs named a batch folder (accents stripped, any other
    # non-ASCII character left out): found again so an existing batch keeps its folder.
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].rstrip("-") or "batch"


def output_name(
    position: int, content: str, max_items: int, ext: str, variant: int | None = None
) -> str:
    """`NN-<content-slug>.<ext>` with NN zero-padded to the batch's capacity; `NN.<ext>` when
    the content has no letter or digit to name it by (emoji only, say); a variant's has
    `.vK` before the extension (`03-topic.v2.mp4`). `content` is the item's key when it has
    one (keys are already file names)."""
    width = max(2, len(str(max_items)))
    words = slug(content)
    stem = f"{position:0{width}d}-{words}" if words else f"{position:0{width}d}"
    return f"{stem}.v{variant}.{ext}" if variant is not None else f"{stem}.{ext}"


def part_name(final_name: str, attempt: int) -> str:
    """The name attempt `attempt` writes to before its output is verified: `.NN-x.partA.ext`."""
    stem, suffix = os.path.splitext(final_name)
    return f".{stem}.part{attempt}{suffix}"


def jobs_for(batch: Batch, ext: str) -> list[Job]:
    """The jobs a run of `batch` has to do: its PENDING items, in order, with their paths."""
    config = batch.config
    # One join onto an already parsed folder per path (a join parses only the new part):
    # this runs for every item before the first one can start.
    folder = batch_folder(config, batch.id, batch.name)
    work, logs = folder / WORK_FOLDER, folder / LOGS_FOLDER
    jobs = []
    total = sum(1 for item in batch.items if (item.variant or 1) == 1)  # series items
    for item in batch.items:
        if item.status is not ItemStatus.PENDING:
            continue
        number = item.series_number
        named_by = item.key if item.key is not None else item.content
        name = output_name(number, named_by, config.max_items, ext, item.variant)
        stem = name.rsplit(".", 1)[0]
        attempt = item.attempts + 1
        jobs.append(
            Job(
                batch_id=batch.id,
                batch_name=batch.name,
                item_id=item.id,
                index=number,
                total=total,
                content=item.content,
                attempt=attempt,
                config=config,
                output=folder / part_name(name, attempt),
                final_output=folder / name,
                scratch=work / item.id,
                log_path=logs / f"{stem}.log",
                retries_used=(item.retries_used or 0) if item.retry_at else 0,
                not_before=item.retry_at,
                rerender=bool(item.rerender),
                vars=item.vars or {},
                key=item.key,
                variant=item.variant,
                take=item.take or 1,
            )
        )
    return jobs


def remove_partials(jobs: list[Job]) -> None:
    """Delete half-written outputs that earlier, interrupted attempts of these jobs left
    behind (one listing of the folder, not one per item)."""
    if not jobs:
        return
    folder = jobs[0].final_output.parent
    stems = {f".{job.final_output.stem}.part" for job in jobs}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.startswith(".") and ".part" in name and name[: name.index(".part") + 5] in stems:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def remove_empty_work(batch: Batch) -> None:
    """Remove the batch's scratch parent folder once no item uses it."""
    with contextlib.suppress(OSError):
        (batch_folder(batch.config, batch.id, batch.name) / WORK_FOLDER).rmdir()


# ------------------------------------------------------------------- the manifest


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
            self._fd = open_in_batch_folder(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
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


def open_in_batch_folder(path: Path, flags: int, mode: int = 0o644) -> int:
    """Open a file batchtui writes in a batch folder (the manifest, an item's log) without
    following a symbolic link, neither the file nor its folder: a link planted there would
    have the writes land outside the output folder. OSError naming the link if one is."""
    try:
        folder_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and path.parent.is_symlink():
            raise OSError(exc.errno, f"{path.parent} is a symbolic link (not followed)") from None
        raise
    try:
        return os.open(path.name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=folder_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, f"{path} is a symbolic link (not followed)") from None
        raise
    finally:
        os.close(folder_fd)


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


def remove_output_folder(folder: Path) -> str | None:
    """Remove a batch's output folder and everything in it, never following a link out of
    it; what could not be removed and why (None: all gone, or nothing was there)."""
    if folder.is_symlink():
        return f"{folder} is a symbolic link (not followed; remove it yourself)"
    if not folder.exists():
        return None
    failures: list[str] = []

    def failed(_function: object, path: str, exc: BaseException) -> None:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        failures.append(f"{path}: {reason}")

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=failed)
    else:  # `onerror` gets (type, value, traceback)
        shutil.rmtree(folder, onerror=lambda f, p, info: failed(f, p, info[1]))
    if not failures:
        return None
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    return failures[0] + more
