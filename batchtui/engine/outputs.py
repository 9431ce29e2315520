"""After a generator returns: is the output real, and where does it go?

"Success" means a valid output, not exit code 0: the file exists, is not empty, and for video
has the locked resolution and duration. Valid outputs are moved into place atomically and get
a JSON sidecar recording how they were made.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from ..generators.base import GeneratorError
from ..media import ProbeError, probe_video
from ..models import BatchConfig


def slugify(text: str, limit: int = 40, fallback: str = "item") -> str:
    """A file-name-safe ASCII slug: never empty, never '.', '..' or a path."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:limit].rstrip("-")
    return slug or fallback


def batch_folder(config: BatchConfig, batch_id: str, batch_name: str) -> Path:
    """`<output>/<name-slug>-<short id>`: two batches of one name never share a folder."""
    return Path(config.output_dir) / f"{slugify(batch_name, fallback='batch')}-{batch_id[:6]}"


def output_name(position: int, content: str, max_items: int, ext: str) -> str:
    """`NN-<content-slug>.<ext>` with NN zero-padded to the batch's capacity."""
    width = max(2, len(str(max_items)))
    return f"{position:0{width}d}-{slugify(content)}.{ext}"


def duration_tolerance(config: BatchConfig) -> float:
    """How far a video's duration may stray from the locked one: two frames, at least 0.1s."""
    return max(2.0 / config.fps, 0.1)


async def verify_output(path: Path, config: BatchConfig) -> None:
    """Raise GeneratorError unless `path` is a valid output for `config`."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise GeneratorError(
                f"the output folder {path.parent} was deleted while the item ran"
            ) from None
        raise GeneratorError("finished without writing its output file") from None
    if config.validate_output == "exists":
        return
    if size == 0:
        raise GeneratorError("wrote an empty output file")
    if not config.expects_video(path.suffix):
        return
    try:
        info = await probe_video(path)
    except ProbeError as exc:
        raise GeneratorError(f"output is not a valid video: {exc}") from None
    if (info.width, info.height) != (config.width, config.height):
        raise GeneratorError(
            f"output is {info.width}x{info.height}, the batch is locked to "
            f"{config.width}x{config.height}"
        )
    if abs(info.duration - config.duration) > duration_tolerance(config):
        raise GeneratorError(
            f"output lasts {info.duration:.2f}s, the batch is locked to {config.duration:g}s"
        )


def sidecar_path(output: Path) -> Path:
    """`NN-slug.info.json` beside `NN-slug.ext` (never the output itself, whatever its ext)."""
    text = str(output)
    stem = os.path.splitext(text)[0] if output.suffix else text  # what `Path.stem` keeps
    return Path(f"{stem}.info.json")


def write_sidecar(output: Path, record: dict[str, Any], shared: str = "") -> Path:
    """Write the sidecar beside the output (after the output is complete and in place).

    Written straight to its name, not through a temp file and a rename: a sidecar torn by a
    crash is not valid JSON, and an invalid sidecar is never adopted, so the temp file would
    buy nothing but an extra inode and a rename per item. `shared` is `json_lines` of the
    fields every item of the run has in common (encoded once per run, not once per item).
    """
    sidecar = sidecar_path(output)
    fd = os.open(sidecar, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        data = memoryview(pretty_json(record, shared).encode())
        while data:  # a regular file takes it all at once; a full disk raises
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)
    return sidecar


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
# With scalar values only, the separators alone put one member per line: one C call for the
# whole record instead of two per member (the per-item sidecar is on every item's path).
_FLAT_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",\n  ", ": "))


def json_lines(record: dict[str, Any]) -> str:
    """The members of a JSON object, one top-level key per line, values compact."""
    if not record:
        return ""
    if not any(isinstance(value, dict | list | tuple) for value in record.values()):
        return "  " + _FLAT_ENCODER.encode(record)[1:-1]
    encode = _ENCODER.encode
    return ",\n".join(f"  {encode(key)}: {encode(value)}" for key, value in record.items())


def pretty_json(record: dict[str, Any], shared: str = "") -> str:
    """A JSON object with one top-level key per line (and the pre-encoded `shared` members):
    as readable as `indent=2` for a flat record, and encoded by json's C encoder (which
    `indent` turns off: 10x slower)."""
    body = json_lines(record)
    if shared:
        body = f"{body},\n{shared}" if body else shared
    return "{\n" + body + "\n}\n"
