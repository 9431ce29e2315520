"""The contact sheet: every output of a batch as a picture in a grid, to look the series over.

Arrows (and hjkl) move, enter opens the item, `a` approves and `x` rejects (with a note), space
marks for a review of several at once. The grid is on screen at once with each tile's label;
the pictures come in behind it from one thread, in order, so the first row shows first however
large the batch, and the screen never waits for a file (`widgets.picture`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from ...core.review import review_counts, review_state
from ...core.states import BatchStatus
from ...core.textsafe import one_line
from ..flows import review
from ..graphics import picture_class
from ..key_order import after_keys_in_flight
from ..messages import BatchChanged
from ..palette import ERROR, STYLES
from ..widgets.app_header import app_header
from ..widgets.picture import load_picture
from .base import AppScreen

if TYPE_CHECKING:
    from ...core.models import Batch, BatchItem

TILE_WIDTH = 19
"""Columns per tile (its border included): four side by side at 80 columns."""
FIRST_TILES = 4
"""Tiles mounted with the screen: the first row (measured: with it the sheet's first frame is
as quick as the item list's; bench/contact_sheet.py); the rest come in the next refresh."""
MORE_TILES = 24
"""Tiles mounted at a time after the first frame."""


class Tile(Vertical, can_focus=True):
    """One output: its picture and a label (its number, its review). Two widgets only: a
    hundred tiles mount fast."""

    DEFAULT_CSS = """
    Tile { width: 19; height: 13; border: round $panel; padding: 0; align-horizontal: center; }
    Tile:focus { border: heavy $accent; }
    Tile.-marked { border: round $warning; }
    Tile:focus.-marked { border: heavy $warning; }
    Tile > .tile-image { width: auto; height: 1fr; }
    Tile > .tile-label { height: 1; width: 1fr; }
    """

    def __init__(self, item: BatchItem) -> None:
        super().__init__(id=f"tile-{item.id}")
        self.item = item
        self.note = "…"
        """What stands in for the picture: '…' while it loads, or why there is none."""

    def compose(self) -> ComposeResult:
        image = picture_class()(classes="tile-image")
        image.display = False
        yield image
        yield Static(self._label(), classes="tile-label")

    def on_mount(self) -> None:
        waiting = getattr(self.screen, "waiting", {})
        if self.item.id in waiting:  # its picture came before it was mounted
            self.put(waiting.pop(self.item.id))

    def put(self, picture: Any) -> None:
        """Show `picture` (a scaled PIL image), or say there is none."""
        image = self.query_one(".tile-image")
        label = self.query_one(".tile-label", Static)
        if picture is None:
            self.note = "no picture"
            label.styles.height = "1fr"  # the tile is the label's: its words wrap, all seen
        else:
            image.image = picture  # type: ignore[attr-defined]
            image.display = True
            self.note = ""
        label.update(self._label())

    def _label(self) -> Text:
        item = self.item
        state = review_state(item)
        mark = {
            "approved": ("✔", STYLES[BatchStatus.COMPLETE]),
            "rejected": ("✘", STYLES[ERROR]),
        }
        text = Text(f"{item.label} ", style="bold")
        if state in mark:
            glyph, style = mark[state]
            text.append(f"{glyph} {state} ", style=style)
        text.append(one_line(item.content, 40))
        if self.note:
            text.append(f" ({self.note})", style="dim")
        return text

    def refresh_item(self, item: BatchItem) -> None:
        """The item as stored now (its review may have changed)."""
        self.item = item
        self.query_one(".tile-label", Static).update(self._label())


class ContactSheetScreen(AppScreen):
    """A batch's outputs as pictures, to look over and review."""

    HELP_TITLE = "contact sheet"
    DEFAULT_CSS = """
    ContactSheetScreen #sheet { layout: grid; grid-size: 4; grid-gutter: 0 0; height: 1fr; }
    ContactSheetScreen #sheet-head { height: 1; padding: 0 1; }
    ContactSheetScreen #sheet-empty { padding: 1 2; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="The item: its facts, its log, its picture"),
        Binding(
            "a", "approve", "Review", tooltip="a approves the output, x rejects it with a note"
        ),
        Binding("x", "reject", "Review", show=False, tooltip="Reject the output, with a note"),
        Binding("space", "toggle_mark", "Mark", tooltip="Mark for a review of several at once"),
        Binding(
            "o",
            "in_browser",
            "Browser",
            tooltip="Under batchtui web: the sheet in a browser tab, real images, videos play",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the progress (marks: cleared first)"),
        Binding("left,h", "move(-1, 0)", "Move", show=False, priority=True),
        Binding("right,l", "move(1, 0)", "Move", show=False, priority=True),
        Binding("up,k", "move(0, -1)", "Move", show=False, priority=True),
        Binding("down,j", "move(0, 1)", "Move", show=False, priority=True),
        Binding("home,g", "move_to(0)", "Move", show=False, priority=True),
        Binding("end,G", "move_to(-1)", "Move", show=False, priority=True),
    ]

    def __init__(self, batch: Batch) -> None:
        super().__init__()
        self.batch_id = batch.id
        self.current = batch
        self.items = [item for item in batch.items if item.output_path]
        self.marked: set[str] = set()
        self.loaded = 0
        """How many tiles have their picture (or their reason for none) by now."""
        self.waiting: dict[str, Any] = {}
        """Pictures loaded for tiles not mounted yet, by item id."""
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static(id="sheet-head")
        with VerticalScroll(id="sheet"):
            for item in self.items[:FIRST_TILES]:  # the first screenful: the rest come after
                yield Tile(item)
        if not self.items:
            yield Static(
                Text("No outputs yet: the pictures come as items succeed."), id="sheet-empty"
            )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = one_line(self.current.name, 40)
        self._say_counts()
        tiles = list(self.query(Tile))
        if tiles:
            tiles[0].focus()
        self.bt.watcher.follow_batch(self, self.batch_id)
        self.run_worker(self._load_all, thread=True, group="sheet")
        if len(self.items) > FIRST_TILES:
            self.call_after_refresh(self._mount_rest, FIRST_TILES)

    def _mount_rest(self, start: int) -> None:
        """The tiles below the first screenful, a screenful or two at a time: the first frame
        never waits for a hundred tiles, and keys are handled between the chunks."""
        if not self.is_mounted:
            return
        chunk = self.items[start : start + MORE_TILES]
        self.query_one("#sheet").mount_all(Tile(item) for item in chunk)
        if start + MORE_TILES < len(self.items):
            self.call_after_refresh(self._mount_rest, start + MORE_TILES)

    def on_unmount(self) -> None:
        self._stop.set()
        self.bt.watcher.forget(self)

    def _load_all(self) -> None:
        """Every tile's picture, in order, from this one thread (small copies, made once)."""
        find = self.bt.service.thumbnail
        for item in self.items:
            if self._stop.is_set():
                return
            path = find(item)
            picture = load_picture(path) if path is not None else None
            self.app.call_from_thread(self._put, item.id, picture)

    def _put(self, item_id: str, picture: Any) -> None:
        if not self.is_mounted:
            return
        self.loaded += 1
        tiles = self.query(f"#tile-{item_id}")
        if not tiles or not tiles.first(Tile).query(".tile-image"):
            # Not mounted yet, or added with its parts not made yet (a put then found no
            # picture widget to fill): it takes its picture as it mounts, after its parts.
            self.waiting[item_id] = picture
            return
        tiles.first(Tile).put(picture)

    @on(BatchChanged)
    def _changed(self, message: BatchChanged) -> None:
        if message.batch_id != self.batch_id or message.snapshot.deleted:
            return
        if message.snapshot.batch is not None:
            self._show_batch(message.snapshot.batch)

    def _show_batch(self, batch: Batch) -> None:
        """The batch as stored now: each tile's label (its review) and the counts."""
        self.current = batch
        for item in batch.items:
            tiles = self.query(f"#tile-{item.id}")
            if tiles:
                tiles.first(Tile).refresh_item(item)
        self._say_counts()

    def _say_counts(self) -> None:
        counts = review_counts(self.current.items).words() or "nothing to review yet"
        marked = f" · {len(self.marked)} marked" if self.marked else ""
        shown = f"{len(self.items)} outputs · {counts}{marked}"
        self.query_one("#sheet-head", Static).update(Text(shown))

    # ----------------------------------------------------------------- moving

    def _tiles(self) -> list[Tile]:
        return list(self.query(Tile))

    def _focused_index(self) -> int:
        tiles = self._tiles()
        return tiles.index(self.focused) if self.focused in tiles else 0

    def _columns(self) -> int:
        return max(1, self.query_one("#sheet").size.width // TILE_WIDTH)

    def action_move(self, dx: int, dy: int) -> None:
        tiles = self._tiles()
        if not tiles:
            return
        index = self._focused_index() + dx + dy * self._columns()
        self._focus(min(max(index, 0), len(tiles) - 1))

    def action_move_to(self, index: int) -> None:
        tiles = self._tiles()
        if tiles:
            self._focus(index % len(tiles))

    def _focus(self, index: int) -> None:
        tile = self._tiles()[index]
        tile.focus()
        tile.scroll_visible(animate=False)

    # ----------------------------------------------------------------- acting

    def _chosen(self) -> list[str]:
        if self.marked:
            return [item.id for item in self.items if item.id in self.marked]
        tiles = self._tiles()
        return [tiles[self._focused_index()].item.id] if tiles else []

    def action_open(self) -> None:
        after_keys_in_flight(self.focused or self, self._open)

    def _open(self) -> None:
        from .item_detail import ItemDetailScreen

        tiles = self._tiles()
        if tiles:
            item = tiles[self._focused_index()].item
            self.app.push_screen(ItemDetailScreen(self.current, item))

    def action_approve(self) -> None:
        after_keys_in_flight(self.focused or self, lambda: self._review("approve"))

    def action_reject(self) -> None:
        after_keys_in_flight(self.focused or self, lambda: self._review("reject"))

    def _review(self, verdict: str) -> None:
        chosen = self._chosen()
        if not chosen:
            return
        flow = review.approve if verdict == "approve" else review.reject
        flow(self.bt, self.batch_id, chosen, then=self._reviewed)

    def _reviewed(self) -> None:
        stored = self.bt.batch(self.batch_id)
        for tile in self._tiles():
            tile.remove_class("-marked")
        self.marked = set()
        if stored is not None:
            self._show_batch(stored)
        else:
            self._say_counts()

    def action_toggle_mark(self) -> None:
        tiles = self._tiles()
        if not tiles:
            return
        tile = tiles[self._focused_index()]
        self.marked ^= {tile.item.id}
        tile.set_class(tile.item.id in self.marked, "-marked")
        self._say_counts()
        self.action_move(1, 0)

    def action_in_browser(self) -> None:
        from ...service.item_files import sheet_address

        if not self.app.is_web:
            self.notify(
                "real images in a browser: open this batch under batchtui web", markup=False
            )
            return
        self.app.open_url(sheet_address(self.batch_id), new_tab=True)

    def action_back(self) -> None:
        if self.marked:
            for tile in self._tiles():
                tile.remove_class("-marked")
            self.marked = set()
            self._say_counts()
            return
        self.dismiss()
