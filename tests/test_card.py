"""The title card as drawn: real Pillow drawings of `generators/card`, checked by pixel."""

from __future__ import annotations

import os

import pytest
from PIL import Image, ImageChops, ImageStat

from batchtui.core.platforms import PLATFORMS, Platform, SafeArea
from batchtui.core.styles import DEFAULT_STYLE, STYLES
from batchtui.generators import card
from batchtui.generators.card import (
    Card,
    CardSpec,
    Fonts,
    MissingGlyphs,
    clean_text,
    draw_card,
)
from batchtui.generators.card.fonts import RAQM
from batchtui.generators.card.wrapping import greedy

SHORTS = PLATFORMS["youtube_shorts"]
LANDSCAPE = PLATFORMS["youtube"]
ROCKETS = "🚀 Why rockets need stages 🌍"
GIANT = ("Pneumonoultramicroscopicsilicovolcanoconiosis" + "Floccinaucinihilipilification")[:60]
PARAGRAPH = (
    "Light from the Sun is a mix of every colour. When it enters the atmosphere, the short "
    "blue wavelengths scatter off nitrogen and oxygen molecules far more than the red ones "
    "do, so blue light reaches your eyes from every direction of the sky."
)
FORTY_WORDS = " ".join(PARAGRAPH.split()[:40])


def spec(content: str, platform: Platform = SHORTS, **overrides: object) -> CardSpec:
    fields: dict[str, object] = {
        "content": content,
        "batch_name": "Space Facts",
        "index": 3,
        "total": 10,
        "width": platform.width,
        "height": platform.height,
        "style": STYLES[DEFAULT_STYLE],
        "safe": platform.safe_area,
    }
    fields.update(overrides)
    return CardSpec(**fields)  # type: ignore[arg-type]


def alpha(drawn: Card) -> Image.Image:
    return drawn.headline.getchannel("A")


def background_ink(background: Image.Image) -> Image.Image:
    """Where the header, rule and counter drew: the background minus its plain gradient (the
    gradient is vertical, so the frame's first column, outside the safe area, is pure)."""
    width, height = background.size
    gradient = background.crop((0, 0, 1, height)).resize((width, height))
    return ImageChops.difference(background, gradient).convert("L").point(lambda v: 255 * (v > 8))


def header_and_counter(background: Image.Image) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ink = background_ink(background)
    width, height = ink.size
    top = ink.crop((0, 0, width, height // 2)).getbbox()
    bottom = ink.crop((0, height // 2, width, height)).getbbox()
    assert top is not None and bottom is not None
    half = height // 2
    return top, (bottom[0], bottom[1] + half, bottom[2], bottom[3] + half)


def line_bands(mask: Image.Image) -> list[tuple[int, int, int, int]]:
    """The headline's lines as ink boxes (left, top, right, bottom), top to bottom: rows with
    ink, split at empty rows, a short band (the dots of i and j) joined to the line under it."""
    width, height = mask.size
    inked = [mask.crop((0, y, width, y + 1)).getbbox() is not None for y in range(height)]
    spans: list[list[int]] = []
    start = None
    for y, has_ink in enumerate([*inked, False]):
        if has_ink and start is None:
            start = y
        elif not has_ink and start is not None:
            spans.append([start, y])
            start = None
    tallest = max(bottom - top for top, bottom in spans)
    merged: list[list[int]] = []
    for top, bottom in spans:
        if merged and merged[-1][1] - merged[-1][0] < 0.4 * tallest:
            merged[-1][1] = bottom
        else:
            merged.append([top, bottom])
    boxes = []
    for top, bottom in merged:
        box = mask.crop((0, top, width, bottom)).getbbox()
        assert box is not None
        boxes.append((box[0], top, box[2], bottom))
    return boxes


def right_end_height(mask: Image.Image, band: tuple[int, int, int, int]) -> float:
    """How tall the ink at the right end of a line is, as a fraction of the line's height (a
    '-' or a '…' is short, a letter is not)."""
    _left, top, right, bottom = band
    strip = mask.crop((right - max(2, (bottom - top) // 10), top, right, bottom)).getbbox()
    assert strip is not None
    return (strip[3] - strip[1]) / (bottom - top)


def inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return box[0] >= outer[0] and box[1] >= outer[1] and box[2] <= outer[2] and box[3] <= outer[3]


def dejavu_only() -> Fonts:
    """Fonts with DejaVu Sans Bold alone: no colour emoji, no CJK font, no fontconfig help."""
    path = next((p for p in card.text_font_paths(False) if p.endswith("DejaVuSans-Bold.ttf")), None)
    if path is None:
        pytest.skip("DejaVu Sans Bold is not installed")
    return Fonts(sans=[path], serif=[path], emoji=None, fallback=False)


# -- clean_text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[1;38;5;208mbold orange\x1b[m", "bold orange"),
        ("\x1b]0;window title\x07Hello", "Hello"),
        ("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b32mC1 CSI\x9b0m", "C1 CSI"),
        ("\x1b7saved\x1b8 \x1b(Bcharset", "saved charset"),
        ("nul\x00 bell\x07 back\x08space\x7f", "nul bell backspace"),
        ("c1\x85next\x90dcs\x9cend", "c1\nnextend"),
        (
            "zero\u200bwidth \u202egpj.exe\u202c \ufeffbom \u2066iso\u2069",
            "zerowidth gpj.exe bom iso",
        ),
        ("tabs\tand   runs  of    spaces", "tabs and runs of spaces"),
        ("  first line  \r\n\r\n\r\n\n second\rthird  ", "first line\n\nsecond\nthird"),
        ("emoji 👩\u200d💻 and ✈\ufe0f stay", "emoji 👩\u200d💻 and ✈\ufe0f stay"),
        ("\x1b", ""),
    ],
)
def test_clean_text_removes_escapes_and_controls(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_an_escaped_item_draws_as_its_plain_text() -> None:
    escaped = draw_card(spec("\x1b[31mred\x1b[0m alert\x07"))
    plain = draw_card(spec("red alert"))
    assert escaped.headline.tobytes() == plain.headline.tobytes()


# -- one look for the whole series ---------------------------------------------------------


def test_header_and_counter_match_whatever_the_item_says() -> None:
    short = draw_card(spec("Black holes"))
    long = draw_card(spec(FORTY_WORDS))
    # The item's text changes the headline only ...
    assert alpha(short).getbbox() != alpha(long).getbbox()
    assert short.background.tobytes() == long.background.tobytes()
    # ... and the header and counter are drawn at one size: the same glyph heights.
    (short_header, short_counter) = header_and_counter(short.background)
    (long_header, long_counter) = header_and_counter(long.background)
    assert short_header[3] - short_header[1] == long_header[3] - long_header[1]
    assert short_counter[3] - short_counter[1] == long_counter[3] - long_counter[1]


def test_a_long_batch_name_is_cut_with_an_ellipsis_at_the_series_size() -> None:
    name = "A really quite extraordinarily long batch name about the cosmos " * 4
    plain = draw_card(spec("Stars", batch_name="Space Facts"))
    long = draw_card(spec("Stars", batch_name=name))
    header, _ = header_and_counter(long.background)
    reference, _ = header_and_counter(plain.background)
    assert header[3] - header[1] == reference[3] - reference[1]  # same letters' height: size
    left, top, right, _bottom = SHORTS.safe_area.box(SHORTS.width, SHORTS.height)
    assert left <= header[0] and header[2] <= right and header[1] >= top
    mask = background_ink(long.background).crop((0, 0, SHORTS.width, header[3] + 1))
    band = (header[0], header[1], header[2], header[3] + 1)
    assert right_end_height(mask, band) < 0.3  # it ends in '…', not in a letter


# -- the headline stays clear of the platform's UI ------------------------------------------


@pytest.mark.parametrize("platform", [SHORTS, PLATFORMS["tiktok"], LANDSCAPE], ids=lambda p: p.key)
@pytest.mark.parametrize(
    "content",
    ["Why the sky is blue", PARAGRAPH * 4, GIANT, ROCKETS, "x"],
    ids=["short", "very-long", "giant-word", "emoji", "one-letter"],
)
def test_the_headline_sits_inside_the_safe_area_centred(platform: Platform, content: str) -> None:
    drawn = draw_card(spec(content, platform))
    box = alpha(drawn).getbbox()
    assert box is not None
    safe = platform.safe_area.box(platform.width, platform.height)
    assert inside(box, safe), (box, safe)
    # Centred between the safe area's sides (to a few pixels: lines centre by advance).
    assert abs((box[0] + box[2]) / 2 - (safe[0] + safe[2]) / 2) < platform.width * 0.02
    # And clear of the header above and the counter below.
    header, counter = header_and_counter(drawn.background)
    assert header[3] < box[1] and box[3] < counter[1]


def test_a_short_headline_is_drawn_large_and_a_long_one_smaller() -> None:
    short = line_bands(alpha(draw_card(spec("Why the sky is blue"))))
    long = line_bands(alpha(draw_card(spec(PARAGRAPH))))
    assert len(long) > len(short)
    short_height = max(bottom - top for _, top, _, bottom in short)
    long_height = max(bottom - top for _, top, _, bottom in long)
    assert short_height > 1.5 * long_height


# -- balanced lines, hyphens, ellipsis ------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "platform"),
    [
        ("Sharks are older than trees", SHORTS),
        ("Ten facts about the moon you never heard of", LANDSCAPE),
    ],
)
def test_lines_are_balanced_where_a_greedy_wrap_leaves_a_word_alone(
    content: str, platform: Platform
) -> None:
    balanced = [
        right - left for left, _, right, _ in line_bands(alpha(draw_card(spec(content, platform))))
    ]
    # The plain greedy wrap, for contrast.
    greedy_drawn = draw_card(spec(content, platform), wrap=greedy)
    wrapped = [right - left for left, _, right, _ in line_bands(alpha(greedy_drawn))]
    assert len(balanced) == len(wrapped) >= 2
    assert wrapped[-1] < 0.55 * max(wrapped)  # the case: greedy leaves one short word last
    assert balanced[-1] > 0.6 * max(balanced)
    assert max(balanced) - min(balanced) < 0.4 * max(balanced)


def test_a_word_too_long_for_a_line_is_hyphenated() -> None:
    mask = alpha(draw_card(spec(GIANT)))
    bands = line_bands(mask)
    assert len(bands) >= 2
    for band in bands[:-1]:
        assert right_end_height(mask, band) < 0.25  # ends in '-'
    assert right_end_height(mask, bands[-1]) > 0.35  # the word's own last letter
    # The parts are of similar width (no long line and a stub).
    widths = [right - left for left, _, right, _ in bands]
    assert min(widths) > 0.6 * max(widths)


def test_text_too_long_for_the_card_ends_in_an_ellipsis() -> None:
    mask = alpha(draw_card(spec(PARAGRAPH * 6)))
    bands = line_bands(mask)
    assert right_end_height(mask, bands[-1]) < 0.25  # '…' sits on the baseline
    assert right_end_height(mask, bands[0]) > 0.35


# -- any text: emoji, right-to-left scripts, CJK, no boxes ----------------------------------


def pixels(image: Image.Image) -> list:
    flat = getattr(image, "get_flattened_data", None)  # Pillow 12.1+; getdata before
    return list(flat() if flat is not None else image.getdata())


def saturated_pixels(image: Image.Image) -> int:
    # Opaque pixels with strong colour: the styles' text colours are all near grey.
    count = 0
    for red, green, blue, opacity in pixels(image):
        if opacity > 200 and max(red, green, blue) - min(red, green, blue) > 80:
            count += 1
    return count


def test_emoji_draw_in_colour_when_the_colour_font_is_installed() -> None:
    if card.emoji_font_path() is None:
        pytest.skip("no colour emoji font (apt-get install fonts-noto-color-emoji)")
    with_emoji = draw_card(spec(ROCKETS)).headline
    without = draw_card(spec("Why rockets need stages")).headline
    assert saturated_pixels(with_emoji) > 2000
    assert saturated_pixels(without) == 0


def test_emoji_without_a_colour_font_fail_the_card_not_drawn_as_boxes() -> None:
    fonts = dejavu_only()
    # 🚀 and 🌍 are in no font left: the card is refused, naming them and the package.
    with pytest.raises(MissingGlyphs) as refused:
        draw_card(spec(ROCKETS), fonts)
    assert str(refused.value) == "no installed font draws 🚀, 🌍 (install fonts-noto-color-emoji)"
    # So is a character no font has at all (a private-use code point draws .notdef, a box).
    with pytest.raises(MissingGlyphs, match="no installed font draws \U0010fffd"):
        draw_card(spec("\U0010fffd Tokyo"), fonts)


def test_an_emoji_a_text_font_has_draws_in_monochrome_without_the_colour_font() -> None:
    fonts = dejavu_only()
    sun = alpha(draw_card(spec("☀️ Sunny"), fonts))
    plain = alpha(draw_card(spec("Sunny"), fonts))
    sun_box, plain_box = sun.getbbox(), plain.getbbox()
    assert sun_box is not None and plain_box is not None
    assert sun_box[2] - sun_box[0] > plain_box[2] - plain_box[0]  # the ☀ is drawn


def test_the_emoji_font_can_be_turned_off_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BATCHTUI_EMOJI_FONT", "")
    assert card.emoji_font_path() is None
    monkeypatch.setenv("BATCHTUI_EMOJI_FONT", os.devnull)
    assert card.emoji_font_path() == os.devnull
    # A file that is no font: emoji fall back to a text font that has them, the card draws.
    assert alpha(draw_card(spec("☀️ Sunny"))).getbbox() is not None


@pytest.mark.parametrize("content", ["למה השמיים כחולים", "لماذا السماء زرقاء؟"])
def test_hebrew_and_arabic_draw(content: str) -> None:
    box = alpha(draw_card(spec(content))).getbbox()
    assert box is not None
    assert box[2] - box[0] > SHORTS.width * 0.3 and box[3] - box[1] > 50


def test_arabic_is_shaped_right_to_left() -> None:
    if not RAQM:
        pytest.skip("Pillow without libraqm: no shaping")
    # Joined letters draw narrower than the same letters in isolated forms, and the first
    # word of a right-to-left line is its rightmost one.
    joined = alpha(draw_card(spec("سلام"))).getbbox()
    isolated = alpha(draw_card(spec("س ل ا م"))).getbbox()
    assert joined is not None and isolated is not None
    assert joined[2] - joined[0] < isolated[2] - isolated[0]
    wide_first = alpha(draw_card(spec("مممممممم ب", LANDSCAPE)))
    box = wide_first.getbbox()
    assert box is not None
    middle = (box[0] + box[2]) // 2
    right_ink = wide_first.crop((middle, 0, box[2], wide_first.height)).getbbox()
    left_ink = wide_first.crop((box[0], 0, middle, wide_first.height)).getbbox()
    assert right_ink is not None and left_ink is not None
    assert right_ink[2] - right_ink[0] > left_ink[2] - left_ink[0]  # the long word: right


def test_cjk_draws_with_a_cjk_font_and_fails_without_one() -> None:
    text = "東京タワー Tokyo"
    if any("CJK" in path for path in card.text_font_paths(False)):
        with_cjk = alpha(draw_card(spec(text))).getbbox()
        tokyo = alpha(draw_card(spec("Tokyo"))).getbbox()
        assert with_cjk is not None and tokyo is not None
        assert with_cjk != tokyo
    with pytest.raises(MissingGlyphs) as refused:
        draw_card(spec(text), dejavu_only())
    assert str(refused.value) == "no installed font draws 東, 京, タ … (install fonts-noto-cjk)"


# -- colours, layers, poster ------------------------------------------------------------------


@pytest.mark.parametrize("platform", [SHORTS, LANDSCAPE], ids=lambda p: p.key)
@pytest.mark.parametrize("style", list(STYLES))
def test_the_first_frame_is_never_black(style: str, platform: Platform) -> None:
    drawn = draw_card(spec("Why the sky is blue", platform, style=STYLES[style]))
    assert drawn.background.mode == "RGB"
    assert drawn.background.size == (platform.width, platform.height)
    assert ImageStat.Stat(drawn.background.convert("L")).mean[0] > 20


def test_the_poster_is_the_headline_over_the_background(tmp_path) -> None:
    drawn = draw_card(spec(ROCKETS))
    assert drawn.headline.mode == "RGBA" and drawn.headline.size == drawn.background.size
    poster = drawn.poster()
    assert poster.mode == "RGB" and poster.size == drawn.background.size
    assert poster.tobytes() != drawn.background.tobytes()
    # Outside the headline the poster is the background.
    box = alpha(drawn).getbbox()
    assert box is not None
    assert poster.crop((0, 0, drawn.background.width, box[1])).tobytes() == (
        drawn.background.crop((0, 0, drawn.background.width, box[1])).tobytes()
    )
    path = tmp_path / "poster.png"
    poster.save(path)
    with Image.open(path) as reread:
        assert reread.size == poster.size


def test_overrides_keep_the_text_readable() -> None:
    drawn = draw_card(spec("Light", background="white"))
    assert drawn.background.getpixel((5, 5)) == (255, 255, 255)
    # The night style's near-white text would vanish on white: it is drawn dark instead.
    ink = [pixel for pixel in pixels(drawn.poster()) if pixel != (255, 255, 255)]
    assert ink and min(sum(pixel) for pixel in ink) < 150
    chosen = draw_card(spec("Light", text_color="#ff0000"))
    colours = {pixel[:3] for pixel in pixels(chosen.headline) if pixel[3] == 255}
    assert colours == {(255, 0, 0)}


def test_drawing_is_deterministic() -> None:
    first, second = draw_card(spec(ROCKETS)), draw_card(spec(ROCKETS))
    assert first.background.tobytes() == second.background.tobytes()
    assert first.headline.tobytes() == second.headline.tobytes()


# -- safe areas -------------------------------------------------------------------------------


def test_platforms_have_safe_areas_and_old_constructors_still_work() -> None:
    assert SHORTS.safe_area.right > SHORTS.safe_area.left  # the like/comment buttons
    assert PLATFORMS["tiktok"].safe_area.bottom > SHORTS.safe_area.bottom
    assert LANDSCAPE.safe_area == SafeArea(0.06, 0.06, 0.06, 0.06)
    custom = Platform("square", "Square", 1080, 1080, 60.0)
    assert custom.safe_area.box(1000, 1000) == (60, 60, 940, 940)
    with pytest.raises(ValueError):
        SafeArea(0.6, 0.5, 0.1, 0.1)


def test_one_fonts_for_a_series_draws_what_fresh_fonts_draw() -> None:
    # A generator keeps one `Fonts` for all its cards: what it loaded and learned drawing
    # earlier cards changes no pixel of a later one.
    fonts = Fonts.installed()
    series = [ROCKETS, "東京タワー Tokyo", "لماذا السماء زرقاء؟", GIANT, ROCKETS]
    kept = []
    for content in series:
        try:
            kept.append((content, draw_card(spec(content), fonts)))
        except MissingGlyphs:  # no font here for it: refused, and nothing learned goes wrong
            continue
    assert len(kept) >= 2
    for content, drawn in kept:
        fresh = draw_card(spec(content), Fonts.installed())
        assert drawn.background.tobytes() == fresh.background.tobytes()
        assert drawn.headline.tobytes() == fresh.headline.tobytes()
