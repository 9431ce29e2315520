"""Pictures where people look: the item detail's poster and the contact sheet, in half-cell
blocks at 80x24 (fixed posters: stable snapshots), the way the terminal is asked what it can
draw (Kitty's protocol or sixels when it says so), and a batch's pictures found (poster, a frame
of a video, an image output) off the event loop."""

from __future__ import annotations

import os
import pty
import subprocess
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.generators.media import ffmpeg_exe
from batchtui.service import BatchService
from batchtui.service.pictures import THUMBS, picture_of
from batchtui.store import Repository
from batchtui.tui import graphics
from batchtui.tui.screens.contact_sheet import ContactSheetScreen
from batchtui.tui.screens.item_detail import ItemDetailScreen
from batchtui.tui.widgets.picture import Picture

from .helpers import wait_until
from .tui_support import batch, item, make_app, make_service, store

SIZE = (80, 24)
COLOURS = ["#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085"]


def poster(path: Path, number: int) -> None:
    """A fixed 9:16 poster: a colour of its own, a white band where a headline would be."""
    picture = Image.new("RGB", (270, 480), COLOURS[number % len(COLOURS)])
    draw = ImageDraw.Draw(picture)
    draw.rectangle((30, 180 + 20 * number, 240, 240 + 20 * number), fill="white")
    draw.ellipse((110, 60, 160, 110), fill="black")
    picture.save(path)


@pytest.fixture
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_path: Path):
    """Six succeeded items with posters, under a relative folder (paths on screen are the
    same in every run)."""
    monkeypatch.chdir(tmp_path)
    out = Path("out")
    out.mkdir()
    items = []
    for n, topic in enumerate(["Honey", "Octopus", "Tardigrades", "Mantis", "Eels", "Crows"]):
        stem = f"{n + 1:02d}-{topic.lower()}"
        (out / f"{stem}.mp4").write_bytes(b"not decoded: the poster stands for it")
        poster(out / f"{stem}.poster.png", n)
        items.append(
            item(
                n + 1,
                f"{topic} facts",
                ItemStatus.SUCCEEDED,
                output_path=f"out/{stem}.mp4",
                progress=1.0,
            )
        )
    done = batch(1, "Nature", BatchStatus.COMPLETE, items)
    store(db_path, done)
    return done


async def _settled_sheet(pilot) -> None:
    screen = pilot.app.screen
    await wait_until(lambda: isinstance(screen, ContactSheetScreen) and screen.loaded == 6)
    await pilot.pause()


@pytest.mark.slow
def test_contact_sheet_in_half_cells(snap_compare, db_path, series):
    app = make_app(make_service(db_path))

    async def run_before(pilot) -> None:
        pilot.app.push_screen(ContactSheetScreen(series))
        await _settled_sheet(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.slow
def test_item_detail_with_its_poster(snap_compare, db_path, series):
    app = make_app(make_service(db_path))

    async def run_before(pilot) -> None:
        pilot.app.push_screen(ItemDetailScreen(series, series.items[1]))
        await pilot.pause()
        shown = pilot.app.screen.query_one(Picture)
        await wait_until(lambda: shown.query_one(".picture-image").display)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.anyio
async def test_the_sheet_is_moved_and_reviewed_by_keys(db_path, series):
    service = BatchService(Repository(db_path))
    app = make_app(service)
    async with app.run_test(size=SIZE) as pilot:
        app.open_progress(series.id)
        await pilot.pause()
        await pilot.press("v")
        await _settled_sheet(pilot)
        sheet = app.screen
        assert isinstance(sheet, ContactSheetScreen)
        await pilot.press("right", "down", "enter")  # four to a row: item 6
        await pilot.pause()
        assert isinstance(app.screen, ItemDetailScreen) and app.screen.item.position == 6
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("home", "a")  # in one go: item 1
        await pilot.pause()
        assert service.get(series.id).items[0].review.verdict == "approved"
        await pilot.press("right", "space", "space", "x")  # items 2 and 3, marked
        await pilot.pause()
        for key in "no hjkl here":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await pilot.pause()
        looked = service.get(series.id).items
        assert [i.review.note if i.review else None for i in looked[1:4]] == [
            "no hjkl here",
            "no hjkl here",
            None,
        ]
        assert "1 approved · 2 rejected · 3 to review" in str(
            sheet.query_one("#sheet-head").render()
        )
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ProgressScreen"


@pytest.mark.anyio
async def test_a_tile_without_a_picture_still_says_whose_it_is(db_path, series):
    """Outputs with nothing to draw (text files): each tile says its number, its review, its
    content and that there is no picture, wrapped over the tile (one line cut the content)."""
    for found in Path("out").glob("*.poster.png"):
        found.unlink()
    for found in Path("out").glob("*.mp4"):
        found.write_text("a text output")
        found.rename(found.with_suffix(".txt"))
    texts = [
        i.model_copy(update={"output_path": i.output_path.replace(".mp4", ".txt")})
        for i in series.items
    ]
    store(db_path, series.model_copy(update={"items": texts}))
    service = BatchService(Repository(db_path))
    BatchService(Repository(db_path)).review(series.id, ["3"], "rejected", "too long")
    app = make_app(service)
    async with app.run_test(size=SIZE) as pilot:
        app.open_progress(series.id)
        await pilot.pause()
        await pilot.press("v")
        await _settled_sheet(pilot)
        labels = [str(tile.query_one(".tile-label").render()) for tile in app.screen.query("Tile")]
        rendered = [" ".join(label.split()) for label in labels]
        assert rendered[2] == "3 ✘ rejected Tardigrades facts (no picture)"
        assert rendered[0] == "1 Honey facts (no picture)"
        heights = {tile.query_one(".tile-label").size.height for tile in app.screen.query("Tile")}
        assert min(heights) > 1  # the label has the tile: its words wrap


# ------------------------------------------------------------ the terminal's answer


@pytest.mark.parametrize(
    ("answer", "chosen"),
    [
        (b"\x1b_Gi=31;OK\x1b\\\x1b[?62;4;22c", "kitty"),
        (b"\x1b[?62;4;6;22c", "sixel"),  # a 4 among the attributes: sixels
        (b"\x1b[?62;6;22c", "halfcell"),
        (b"\x1b[?1;2c", "halfcell"),
        (b"", "halfcell"),
    ],
)
def test_the_answer_says_what_the_terminal_draws(answer, chosen):
    assert graphics.from_answer(answer) == chosen


@pytest.mark.parametrize(
    ("reply", "chosen"),
    [
        (b"\x1b_Gi=31;OK\x1b\\\x1b[?62;22c", "kitty"),
        (b"\x1b[?62;4;22c", "sixel"),
        (b"\x1b[?62;22c", "halfcell"),
        (None, "halfcell"),  # a terminal that says nothing: the wait ends, half cells
    ],
)
def test_a_terminal_is_asked_once_in_one_round_trip(reply, chosen):
    """A pseudo-terminal plays the terminal: it reads the question and answers like Kitty, a
    sixel terminal, a plain one, or not at all."""
    leader, follower = pty.openpty()
    heard = bytearray()

    def terminal() -> None:
        while b"\x1b[c" not in heard:
            heard.extend(os.read(leader, 1024))
        if reply is not None:
            os.write(leader, reply)

    playing = threading.Thread(target=terminal, daemon=True)
    playing.start()
    try:
        assert graphics.ask_terminal(follower, follower, wait=0.3) == chosen
    finally:
        playing.join(2)
        os.close(leader)
        os.close(follower)
    assert heard.startswith(b"\x1b_G") and heard.endswith(b"\x1b[c")  # both at once


def test_keys_typed_before_the_question_are_never_read(tmp_path):
    """A key already typed means no question: the key stays for the app."""
    leader, follower = pty.openpty()
    try:
        os.write(leader, b"e")
        assert graphics.ask_terminal(follower, follower, wait=0.3) == "halfcell"
        assert os.read(follower, 16) == b"e"  # still there, unread
        os.set_blocking(leader, False)
        try:
            asked = os.read(leader, 64)
        except BlockingIOError:
            asked = b""
        assert b"\x1b[c" not in asked  # nothing was asked
    finally:
        os.close(leader)
        os.close(follower)


def test_keys_typed_with_the_answer_are_given_back(monkeypatch):
    """Bytes that came with the answer and are not part of it are keys: they are handed back
    (TIOCSTI, which a kernel may refuse: then only those few milliseconds' keys are lost)."""
    given: list[bytes] = []
    monkeypatch.setattr(graphics, "_give_back", lambda fd, typed: given.append(typed))
    leader, follower = pty.openpty()

    def terminal() -> None:
        heard = b""
        while b"\x1b[c" not in heard:
            heard += os.read(leader, 1024)
        os.write(leader, b"x\x1b_Gi=31;OK\x1b\\\x1b[?62;4;22cy")  # keys around both answers

    playing = threading.Thread(target=terminal, daemon=True)
    playing.start()
    try:
        assert graphics.ask_terminal(follower, follower, wait=0.3) == "kitty"
    finally:
        playing.join(2)
        os.close(leader)
        os.close(follower)
    assert given in ([b"xy"], [b"x"])  # (y may come in a read of its own, after the answer)


def test_the_variable_chooses_before_any_question(monkeypatch):
    monkeypatch.setattr(graphics, "_chosen", None)
    monkeypatch.setenv(graphics.ENV, "sixel")
    assert graphics.choose() == "sixel"
    from textual_image import widget

    assert graphics.picture_class() is widget.SixelImage
    monkeypatch.setattr(graphics, "_chosen", None)
    monkeypatch.setenv(graphics.ENV, "kitty")
    assert graphics.picture_class() is widget.TGPImage
    monkeypatch.setattr(graphics, "_chosen", None)
    monkeypatch.delenv(graphics.ENV)
    assert graphics.picture_class() is widget.HalfcellImage  # no terminal here: half cells


# ------------------------------------------------------------ which picture


def test_a_poster_is_the_picture_and_a_video_without_one_gives_a_frame(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    video = out / "01-clip.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc2=size=180x320:rate=10:duration=2", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    clip = item(1, "clip", ItemStatus.SUCCEEDED, output_path=str(video))
    frame = picture_of(clip)
    assert frame is not None and frame.parent == out / THUMBS
    assert Image.open(frame).size[0] == 360  # scaled to the kept width
    assert picture_of(clip) == frame  # taken once
    poster(out / "01-clip.poster.png", 0)
    assert picture_of(clip) == out / "01-clip.poster.png"  # a poster wins
    still = out / "02-still.png"
    poster(still, 1)
    assert picture_of(item(2, "still", ItemStatus.SUCCEEDED, output_path=str(still))) == still
    text = out / "03-text.txt"
    text.write_text("words")
    assert picture_of(item(3, "t", ItemStatus.SUCCEEDED, output_path=str(text))) is None
    broken = out / "04-broken.mp4"
    broken.write_bytes(b"not a video")
    assert picture_of(item(4, "b", ItemStatus.SUCCEEDED, output_path=str(broken))) is None
    assert not [p for p in (out / THUMBS).iterdir() if p.name.startswith(".")]  # no partials
