"""The files an item's run recorded: its output and the poster beside it (a titlecard's
thumbnail). What a client may hand out for an item, and nothing else: the paths come from the
item's record, never from a request."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from ..core.models import BatchItem
from ..generators.base import POSTER, sidecar

KINDS = ("output", "poster", "picture")
"""The files an item can have, by the name a client asks for them (`picture`: what shows it,
`service.pictures.picture_of`: its poster, a frame of its video, or an image output)."""


def item_files(item: BatchItem) -> dict[str, Path]:
    """The item's recorded files that exist now, by kind (`output`, `poster`)."""
    if not item.output_path:
        return {}
    output = Path(item.output_path)
    found = {"output": output, "poster": sidecar(output, POSTER)}
    return {kind: path for kind, path in found.items() if path.is_file()}


def sheet_address(batch_id: str) -> str:
    """Where `batchtui web` serves a batch's contact sheet (its outputs' pictures)."""
    return f"/sheets/{quote(batch_id, safe='')}/"


def item_address(batch_id: str, item_id: str, kind: str = "") -> str:
    """Where `batchtui web` serves an item's page (`kind` empty) or one of its files: a path
    on that server, so a page it serves can open it as is."""
    return f"/items/{quote(batch_id, safe='')}/{quote(item_id, safe='')}/{kind}"
