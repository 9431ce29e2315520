"""An item's picture on screen: found and decoded off the event loop, scaled down once and
kept, drawn by textual-image the way this terminal can (`tui.graphics`).

The screen never waits for a picture: a placeholder line says what is coming, and the image
replaces it when its thread is done. Scaled copies are kept in a small cache shared by every
screen, so a contact sheet opened again (or an item detail over it) decodes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import Static

from ..graphics import choose, picture_class

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

    from ...core.models import BatchItem

LARGEST = (540, 960)
"""The biggest a kept copy is (a 9:16 poster at 540x960: sharp enough for any tile)."""
KEPT = 160
"""How many scaled pictures are kept in memory (each at most LARGEST: ~1.5 MB; in half cells
HALF_CELLS: ~55 KB)."""


HALF_CELLS = (96, 192)
"""Enough for half-cell blocks (two pixels a cell: a 20x12-cell picture is 20x24 pixels)."""


def _box() -> tuple[int, int]:
    """How big a kept copy need be for the way this terminal draws."""
    return HALF_CELLS if choose() == "halfcell" else LARGEST


@functools.lru_cache(maxsize=KEPT)
def _scaled(path: str, mtime_ns: int, size: int, box: tuple[int, int]) -> PILImage:
    """`path` decoded and scaled down into `box` (kept per version of the file)."""
    from PIL import Image

    with Image.open(path) as opened:
        opened.draft("RGB", box)  # a JPEG decodes at a fraction of its size: faster
        picture = opened.convert("RGB")
    picture.thumbnail(box)
    return picture


def load_picture(path: Path) -> PILImage | None:
    """The kept, scaled copy of the image at `path` (None: unreadable). Blocking."""
    try:
        stat = path.stat()
        return _scaled(str(path), stat.st_mtime_ns, stat.st_size, _box())
    except (OSError, ValueError, SyntaxError):  # not an image Pillow can read
        return None


class Picture(Container):
    """The picture of one item (`show`), or a line saying why there is none."""

    DEFAULT_CSS = """
    Picture { width: 1fr; height: 1fr; align: center middle; }
    Picture > .picture-image { width: auto; height: 1fr; }
    Picture > .picture-note { width: 1fr; height: auto; color: $text-muted; text-align: center; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._showing: str | None = None

    def compose(self) -> ComposeResult:
        image = picture_class()(classes="picture-image")
        image.display = False
        yield image
        yield Static(Text(""), classes="picture-note")

    def show(self, item: BatchItem, find: Callable[[BatchItem], Path | None]) -> None:
        """Show the picture of `item` (found by `find`, the service's `picture`) once it is
        loaded, in a thread."""
        if not item.output_path:
            self._say("no output yet")
            return
        key = f"{item.id}\0{item.output_path}"
        if key == self._showing:
            return
        self._showing = key
        if not Path(item.output_path).exists():  # a stat: said at once, no thread
            self.query_one(".picture-image").display = False
            self._say("its output is not there (moved or deleted)")
            return
        self._say("loading the picture …")
        self.run_worker(
            lambda: self._load(item, find, key), thread=True, exclusive=True, group="picture"
        )

    def _load(self, item: BatchItem, find: Callable[[BatchItem], Path | None], key: str) -> None:
        path = find(item)
        picture = load_picture(path) if path is not None else None
        self.app.call_from_thread(self._loaded, key, picture)

    def _loaded(self, key: str, picture: Any) -> None:
        if key != self._showing or not self.is_mounted:
            return  # another item is wanted by now
        self.put(picture)

    def put(self, picture: Any, missing: str = "no picture of this output") -> None:
        """Show `picture` (a scaled PIL image, `load_picture`'s), or say `missing`."""
        image = self.query_one(".picture-image")
        if picture is None:
            image.display = False
            self._say(missing)
            return
        image.image = picture  # type: ignore[attr-defined]
        image.display = True
        self._say("")

    def _say(self, words: str) -> None:
        note = self.query_one(".picture-note", Static)
        note.update(Text(words))
        note.display = bool(words)
