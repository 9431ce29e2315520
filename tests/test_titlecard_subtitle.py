"""The titlecard's subtitle (issue 28): an item's `subtitle` variable (or the config's default
of it) is drawn under the headline, smaller and a little dimmer, inside the safe area and
clear of the counter, whatever it holds; a card without one is drawn as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops

from batchtui.core.models import BatchConfig
from batchtui.core.platforms import PLATFORMS, Platform
from batchtui.generators.base import Job
from batchtui.generators.card import draw_card
from batchtui.generators.card.drawing import SUBTITLE_ALPHA
from batchtui.generators.titlecard import card_spec, render_card

from .test_card import (
    FORTY_WORDS,
    PARAGRAPH,
    alpha,
    header_and_counter,
    inside,
    line_bands,
    spec,
)

QUESTION = "Why is the sky blue?"
FACT = "Sunlight scatters off air molecules; blue scatters most."


@pytest.fixture(params=["youtube_shorts", "youtube"])
def platform(request: pytest.FixtureRequest) -> Platform:
    return PLATFORMS[request.param]


def test_a_subtitle_is_drawn_smaller_and_dimmer_under_the_headline(platform: Platform) -> None:
    plain = alpha(draw_card(spec(QUESTION, platform)))
    drawn = draw_card(spec(QUESTION, platform, subtitle=FACT))
    both = alpha(drawn)
    bands = line_bands(both)
    assert len(bands) > len(line_bands(plain))  # the subtitle's lines come under the headline
    heights = [bottom - top for _, top, _, bottom in bands]
    assert heights[-1] < 0.75 * heights[0]  # smaller than the headline
    last_line = both.crop((0, bands[-1][1], both.width, bands[-1][3]))
    assert last_line.getextrema()[1] <= round(255 * SUBTITLE_ALPHA)  # dimmer ink
    box = both.getbbox()
    assert box is not None
    assert inside(box, platform.safe_area.box(platform.width, platform.height))
    header, counter = header_and_counter(drawn.background)
    assert header[3] < box[1] and box[3] < counter[1]


def test_a_card_without_a_subtitle_or_with_a_blank_one_is_drawn_as_before() -> None:
    plain = draw_card(spec(QUESTION))
    for blank in (None, "", "   ", "\x1b[31m\x00"):
        again = draw_card(spec(QUESTION, subtitle=blank))
        assert ImageChops.difference(plain.poster(), again.poster()).getbbox() is None, blank


@pytest.mark.parametrize(
    "subtitle",
    ["x" * 4000, "word " * 800, "🚀🌍✨", "لماذا السماء زرقاء؟ שלום", "[bold]not markup[/]"],
    ids=["4000-chars", "800-words", "emoji", "rtl", "brackets"],
)
def test_any_subtitle_stays_inside_the_card_and_clear_of_the_counter(
    platform: Platform, subtitle: str
) -> None:
    drawn = draw_card(spec(QUESTION, platform, subtitle=subtitle))
    box = alpha(drawn).getbbox()
    assert box is not None
    assert inside(box, platform.safe_area.box(platform.width, platform.height))
    header, counter = header_and_counter(drawn.background)
    assert header[3] < box[1] and box[3] < counter[1]


def _job(tmp_path: Path, values: dict[str, str | int | float], **config: object) -> Job:
    return Job(
        batch_id="b1", batch_name="Facts", item_id="i1", index=1, total=1, content=QUESTION,
        attempt=1, config=BatchConfig(output_dir=str(tmp_path), **config),
        output=tmp_path / "o.mp4", final_output=tmp_path / "f.mp4", scratch=tmp_path,
        log_path=tmp_path / "log", vars=values,
    )  # fmt: skip


def test_the_item_s_subtitle_wins_over_the_config_default(tmp_path: Path) -> None:
    defaults = {"var_defaults": {"subtitle": "the default"}}
    assert card_spec(_job(tmp_path, {"subtitle": "its own"}, **defaults)).subtitle == "its own"
    assert card_spec(_job(tmp_path, {}, **defaults)).subtitle == "the default"
    assert card_spec(_job(tmp_path, {"subtitle": 7})).subtitle == "7"
    assert card_spec(_job(tmp_path, {"voice": "alto"})).subtitle is None


def test_a_cjk_subtitle_draws_with_a_cjk_font_and_is_refused_like_a_headline_without() -> None:
    from batchtui.generators import card
    from batchtui.generators.card import MissingGlyphs

    from .test_card import dejavu_only

    text = "東京タワー Tokyo"
    if any("CJK" in path for path in card.text_font_paths(False)):
        both = alpha(draw_card(spec(QUESTION, subtitle=text))).getbbox()
        assert both is not None and both != alpha(draw_card(spec(QUESTION))).getbbox()
    with pytest.raises(MissingGlyphs) as refused:
        draw_card(spec(QUESTION, subtitle=text), dejavu_only())
    assert str(refused.value) == "no installed font draws 東, 京, タ … (install fonts-noto-cjk)"


def test_the_subtitle_changes_the_card_under_the_headline_and_nothing_above_it(
    platform: Platform,
) -> None:
    plain = draw_card(spec(QUESTION, platform))
    drawn = draw_card(spec(QUESTION, platform, subtitle=FACT))
    headline_lines = len(line_bands(alpha(plain)))
    bands = line_bands(alpha(drawn))
    headline_top, headline_bottom = bands[0][1], bands[headline_lines - 1][3]
    width, height = drawn.headline.size
    # The same header, rule, counter and gradient; above the headline, the same pixels.
    assert ImageChops.difference(plain.background, drawn.background).getbbox() is None
    above = (0, 0, width, headline_top)
    assert (
        ImageChops.difference(plain.poster().crop(above), drawn.poster().crop(above)).getbbox()
        is None
    )
    # Under the headline: the subtitle's ink, where the plain card has none of its own.
    under = (0, headline_bottom + 1, width, height)
    assert alpha(drawn).crop(under).getbbox() is not None
    assert ImageChops.difference(plain.poster().crop(under), drawn.poster().crop(under)).getbbox()


def test_a_short_subtitle_does_not_shrink_a_long_headline(platform: Platform) -> None:
    # The headline takes back the room a one-line subtitle leaves: it is set (almost) as
    # large as alone, not squeezed into a fixed share of the band (it lost a fifth of its
    # size that way).
    plain = line_bands(alpha(draw_card(spec(FORTY_WORDS, platform))))
    both = line_bands(alpha(draw_card(spec(FORTY_WORDS, platform, subtitle="A fact."))))
    assert len(both) == len(plain) + 1  # the subtitle is one more line, under the headline
    alone = max(bottom - top for _, top, _, bottom in plain)
    with_subtitle = max(bottom - top for _, top, _, bottom in both[:-1])
    assert with_subtitle >= 0.9 * alone


def test_a_long_subtitle_takes_the_room_a_short_headline_leaves(platform: Platform) -> None:
    drawn = draw_card(spec("Why?", platform, subtitle=PARAGRAPH))
    bands = line_bands(alpha(drawn))
    header, counter = header_and_counter(drawn.background)
    subtitle_height = bands[-1][3] - bands[1][1]  # every line under the one-line headline
    # More than the 30% of the band it was once held to, and at a readable size.
    assert subtitle_height > 0.45 * (counter[1] - header[3])
    assert bands[1][3] - bands[1][1] >= 0.025 * min(platform.width, platform.height)
    box = alpha(drawn).getbbox()
    assert box is not None and header[3] < box[1] and box[3] < counter[1]


def test_a_cjk_subtitle_stays_inside_the_card_and_clear_of_the_counter(
    platform: Platform,
) -> None:
    from batchtui.generators import card

    if not any("CJK" in path for path in card.text_font_paths(False)):
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    drawn = draw_card(
        spec(QUESTION, platform, subtitle="東京タワーは高さ三百三十三メートル。" * 40)
    )
    box = alpha(drawn).getbbox()
    assert box is not None
    assert inside(box, platform.safe_area.box(platform.width, platform.height))
    header, counter = header_and_counter(drawn.background)
    assert header[3] < box[1] and box[3] < counter[1]


def test_the_generator_draws_the_item_s_subtitle_or_the_default_on_the_poster(
    tmp_path: Path,
) -> None:
    def poster(name: str, values: dict[str, str | int | float], **config: object) -> Image.Image:
        # The poster the generator writes for an item with `values` in a batch with `config`.
        folder = tmp_path / name
        folder.mkdir()
        render_card(_job(folder, values, **config), folder, folder / "poster.png")
        with Image.open(folder / "poster.png") as image:
            return image.convert("RGB")

    plain = poster("plain", {"voice": "alto"})
    own = poster("own", {"subtitle": FACT})
    default = poster("default", {}, var_defaults={"subtitle": FACT})
    overridden = poster("overridden", {"subtitle": "its own"}, var_defaults={"subtitle": FACT})
    assert ImageChops.difference(plain, own).getbbox() is not None
    assert ImageChops.difference(own, default).getbbox() is None
    assert ImageChops.difference(own, overridden).getbbox() is not None
