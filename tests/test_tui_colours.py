"""Colour never hides state: under NO_COLOR every status keeps full contrast (shape and weight
carry the meaning), and in 16 colours FAILED reads worse than PARTIAL.

Snapshots at 80x24 of the progress screen with every item status and of the list with every
batch status, in NO_COLOR and in 16 colours (the screen as a 16-colour terminal gets it: the
app's output through a console limited to the 16 standard colours), and checks of the styles
the app really draws.
"""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from rich.color import Color, ColorSystem
from rich.console import Console
from rich.segment import Segment, Segments
from rich.style import Style
from rich.terminal_theme import TerminalTheme

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.tui import palette
from batchtui.tui.app import BatchtuiApp

from .terminal import Terminal
from .tui_support import (
    NOW,
    SLOT_WAIT,
    batch,
    every_status,
    item,
    make_app,
    make_service,
    opening,
    ran,
    store,
)

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def utc():
    """Times on screen are local times: make 'local' UTC for these tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR set before the app starts, as a person's shell would."""
    monkeypatch.setenv("NO_COLOR", "1")


def every_item_status():
    """Space Facts mid-run with an item in each status, a retry and a slot wait."""
    return batch(
        1,
        "Space Facts",
        BatchStatus.PROCESSING,
        [
            ran(1, "Why is space dark?", ItemStatus.SUCCEEDED, slug="why-is-space-dark"),
            ran(2, "What are black holes?", ItemStatus.FAILED, error="exit code 1"),
            ran(3, "How stars die", ItemStatus.RUNNING, started=20, progress=0.62),
            ran(4, "Is the Moon drifting away?", ItemStatus.CANCELLED, error="cancelled"),
            ran(
                5,
                "What is a light year?",
                ItemStatus.INTERRUPTED,
                error="its runner stopped (killed, crashed or rebooted)",
            ),
            item(6, "Why do planets spin?", ItemStatus.SKIPPED, error="skipped: too many failed"),
            item(
                7,
                "Where does the Sun go?",
                attempts=1,
                error="exit code 1",
                waiting="retry 2 of 3 in 30s",
                retry_at=NOW + timedelta(seconds=30),
                retries_used=1,
            ),
            item(8, "Can we see the Big Bang?", waiting=SLOT_WAIT),
            item(9, "Why is Mars red?"),
        ],
        max_items=12,
    )


def app_for(db_path, *batches) -> BatchtuiApp:
    store(db_path, *batches)
    return make_app(make_service(db_path))


XTERM = TerminalTheme(
    (0, 0, 0),
    (229, 229, 229),
    [
        *((0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0)),
        *((0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229)),
    ],
    [
        *((127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0)),
        *((92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)),
    ],
)
"""xterm's own 16 colours: how the 16-colour snapshots show the standard colours."""


def in_16_colours(style: Style | None) -> Style | None:
    """`style` with its colours as a 16-colour terminal shows them: the nearest of the
    standard 16, as Rich picks them for Textual's output when TERM=xterm."""
    if style is None:
        return None
    fg, bg = style.color, style.bgcolor
    return style + Style.from_color(
        fg.downgrade(ColorSystem.STANDARD) if fg is not None else None,
        bg.downgrade(ColorSystem.STANDARD) if bg is not None else None,
    )


def sixteen_colours(app: BatchtuiApp) -> BatchtuiApp:
    """`app` whose screenshots show what a 16-colour terminal (TERM=xterm) gets: every colour
    it draws, the nearest of the 16 standard ones, shown in xterm's colours."""

    def export_screenshot(*, title: str | None = None, simplify: bool = False) -> str:
        width, height = app.size
        console = Console(
            width=width,
            height=height,
            file=io.StringIO(),
            force_terminal=True,
            color_system="truecolor",
            record=True,
            legacy_windows=False,
            safe_box=False,
        )
        segments: list[Segment] = []
        for strip in app.screen._compositor.render_strips():
            segments.extend(Segment(text, in_16_colours(style)) for text, style, _ in strip)
            segments.append(Segment.line())
        console.print(Segments(segments[:-1]), end="")
        return console.export_svg(title=title or app.title, theme=XTERM)

    app.export_screenshot = export_screenshot  # type: ignore[method-assign]
    return app


# -- the palettes ----------------------------------------------------------------------------

STATUSES = [*BatchStatus, *ItemStatus]


def standard(style: str) -> int | None:
    """The 16-colour number a style's colour becomes in a 16-colour terminal."""
    colour = Style.parse(style).color
    return None if colour is None else colour.downgrade(ColorSystem.STANDARD).number


def test_in_16_colours_failed_is_bold_red_and_partial_yellow():
    assert standard(palette.COLOUR[BatchStatus.FAILED]) in (1, 9)
    assert Style.parse(palette.COLOUR[BatchStatus.FAILED]).bold
    assert standard(palette.COLOUR[ItemStatus.FAILED]) in (1, 9)
    assert standard(palette.COLOUR[BatchStatus.PARTIAL]) in (3, 11)
    assert standard(palette.COLOUR[BatchStatus.COMPLETE]) in (2, 10)
    assert standard(palette.COLOUR[palette.ERROR]) in (1, 9)
    # No other state looks like a failure.
    reds = {s for s in [*STATUSES, palette.RETRY, palette.WAITING] if standard(palette.COLOUR[s])}
    assert {s for s in reds if standard(palette.COLOUR[s]) in (1, 9)} == {"FAILED"}


def test_under_no_color_no_status_has_a_colour_and_failed_stands_out(no_color):
    for name in [*STATUSES, palette.RETRY, palette.WAITING, palette.ERROR, palette.NOTE]:
        parsed = Style.parse(palette.STYLES[name])
        assert parsed.color is None and parsed.bgcolor is None, name
        assert not parsed.dim, name
    failed = Style.parse(palette.STYLES[BatchStatus.FAILED])
    assert failed.reverse and failed.bold
    assert Style.parse(palette.STYLES[BatchStatus.PARTIAL]).bold


def test_the_palette_follows_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert palette.STYLES[BatchStatus.FAILED] == palette.COLOUR[BatchStatus.FAILED]
    monkeypatch.setenv("NO_COLOR", "")  # set at all: Textual turns colour off
    assert palette.STYLES[BatchStatus.FAILED] == "bold reverse"


# -- what the app draws -----------------------------------------------------------------------


def contrast(a: Color, b: Color) -> float:
    def luminance(colour: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(v) for v in colour.get_truecolor())
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def drawn_contrast(app: BatchtuiApp, word: str) -> list[float]:
    """The contrast between text and background of every cell showing `word`, as the app
    draws it (its filters, NO_COLOR's among them, applied)."""
    found = []
    for strip in app.screen._compositor.render_strips():
        if word not in strip.text:
            continue
        for segment in strip:
            if word in segment.text and segment.style is not None:
                style = segment.style
                fg, bg = style.color, style.bgcolor
                if style.reverse:
                    fg, bg = bg, fg
                assert fg is not None and bg is not None, segment
                found.append(contrast(fg, bg))
    return found


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("colour_off", [False, True], ids=["colour", "NO_COLOR"])
async def test_failed_reads_at_full_contrast_on_the_progress_screen(
    db_path, monkeypatch, colour_off
):
    if colour_off:
        monkeypatch.setenv("NO_COLOR", "1")
    run = every_item_status()
    app = app_for(db_path, run)
    async with app.run_test(size=SIZE) as pilot:
        app.open_progress(run.id)
        await pilot.pause()
        await pilot.pause()
        failed = drawn_contrast(app, "FAILED")
        succeeded = drawn_contrast(app, "SUCCEEDED")
    assert failed and succeeded
    # Never the least readable word on the screen (WCAG's 4.5:1 for text).
    assert min(failed) >= 4.5, failed
    if colour_off:
        assert min(failed) >= min(succeeded), "FAILED is at least as plain to read as a success"


# -- snapshots --------------------------------------------------------------------------------


@pytest.mark.slow
def test_progress_every_status_no_color(snap_compare, db_path, no_color):
    run = every_item_status()
    app = app_for(db_path, run)
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(run.id, progress=True))


@pytest.mark.slow
def test_progress_every_status_16_colours(snap_compare, db_path):
    run = every_item_status()
    app = sixteen_colours(app_for(db_path, run))
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(run.id, progress=True))


@pytest.mark.slow
def test_list_every_status_no_color(snap_compare, db_path, no_color):
    assert snap_compare(app_for(db_path, *every_status()), terminal_size=SIZE)


@pytest.mark.slow
def test_list_every_status_16_colours(snap_compare, db_path):
    app = sixteen_colours(app_for(db_path, *every_status()))
    assert snap_compare(app, terminal_size=SIZE)


# -- in a real terminal -------------------------------------------------------------------------

_NAMES = ["black", "red", "green", "brown", "blue", "magenta", "cyan", "white"]
PYTE_RGB = {
    **{name: XTERM.ansi_colors[n] for n, name in enumerate(_NAMES)},
    **{f"bright{name}": XTERM.ansi_colors[8 + n] for n, name in enumerate(_NAMES)},
}


def shown(term: Terminal, word: str) -> tuple[str, str, bool]:
    """The colours (pyte's names) a person sees `word` in on the pty, and whether it is bold."""
    for y, line in enumerate(term.screen.display):
        x = line.find(word)
        if x >= 0:
            char = term.screen.buffer[y][x]
            # The terminal's default colours: xterm's light grey text on black.
            fg = "white" if char.fg == "default" else char.fg
            bg = "black" if char.bg == "default" else char.bg
            if char.reverse:
                fg, bg = bg, fg
            return fg, bg, char.bold
    raise AssertionError(f"{word!r} is not on the screen:\n{term.text()}")


def rgb(name: str) -> Color:
    """A pyte colour: a name of the 16 (in xterm's colours) or a true colour's hex digits."""
    return Color.from_triplet(PYTE_RGB[name]) if name in PYTE_RGB else Color.parse(f"#{name}")


def rgb_contrast(fg: str, bg: str) -> float:
    return contrast(rgb(fg), rgb(bg))


@pytest.mark.slow
def test_a_16_colour_terminal_shows_failed_bold_red_and_partial_yellow(db_path):
    store(db_path, *every_status())
    with Terminal.batchtui(db_path, env={"TERM": "xterm"}) as term:
        term.wait_for("History in 60s", settle=0.5)
        failed, partial = shown(term, "FAILED"), shown(term, "PARTIAL")
        term.send(b"q")
        term.wait_exit()
    assert failed[0] in ("red", "brightred") and failed[2], failed
    assert partial[0] in ("brown", "brightbrown"), partial


@pytest.mark.slow
@pytest.mark.parametrize(
    "term",
    [{"TERM": "xterm"}, {"TERM": "xterm-256color", "COLORTERM": "truecolor"}],
    ids=["16-colours", "truecolor"],
)
def test_under_no_color_a_real_terminal_shows_failed_at_full_contrast(db_path, term):
    store(db_path, *every_status())
    with Terminal.batchtui(db_path, env={**term, "NO_COLOR": "1"}) as terminal:
        terminal.wait_for("History in 60s", settle=0.5)
        words = {w: shown(terminal, w) for w in ("FAILED", "PARTIAL", "DRAFT", "LOCKED")}
        terminal.send(b"q")
        terminal.wait_exit()
    for word, (fg, bg, _bold) in words.items():
        assert rgb_contrast(fg, bg) >= 4.5, (word, fg, bg)
    assert words["FAILED"][2], "FAILED is bold"


@pytest.mark.slow
@pytest.mark.anyio
async def test_under_no_color_the_editors_problems_read_at_full_contrast(
    db_path, monkeypatch, no_color
):
    # Locking validates: keep it from needing /render or ffmpeg here.
    monkeypatch.setattr("batchtui.service.validation.folder_problem", lambda folder: None)
    monkeypatch.setattr("batchtui.service.validation.workdir_problem", lambda workdir: None)
    monkeypatch.setattr("batchtui.generators.titlecard.executable_problem", lambda *a: None)
    too_long = batch(
        1, "Space Facts", BatchStatus.DRAFT, [item(1, "Why is space dark?")], duration=90
    )
    app = app_for(db_path, too_long)
    async with app.run_test(size=SIZE) as pilot:
        app.open_batch(too_long.id)
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        problems = app.screen.query_one("#problems")
        assert problems.display and "duration" in str(problems.render())
        drawn = drawn_contrast(app, "duration")
    assert drawn and min(drawn) >= 4.5, drawn
