"""Cards never come out blank: a headline no installed font draws fails its item, saying
which character and which font package, through a real run of the titlecard generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.generators import BUILTIN
from batchtui.generators.card import Fonts, text_font_paths
from batchtui.generators.titlecard import TitlecardGenerator

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def latin_only() -> Fonts:
    """DejaVu Sans Bold alone: no CJK font, no colour emoji, no fontconfig to find one."""
    path = next((p for p in text_font_paths(False) if p.endswith("DejaVuSans-Bold.ttf")), None)
    if path is None:
        pytest.skip("DejaVu Sans Bold is not installed")
    return Fonts(sans=[path], serif=[path], emoji=None, fallback=False)


class LatinOnlyTitlecard(TitlecardGenerator):
    """The built-in titlecard on a machine with Latin fonts only (its fonts passed in)."""

    def __init__(self) -> None:
        super().__init__(fonts=latin_only())


@pytest.fixture
def titlecard_without_cjk(monkeypatch: pytest.MonkeyPatch) -> None:
    # Registered as a generator is (as the fake one is): the card package itself is untouched.
    monkeypatch.setitem(BUILTIN, "titlecard", LatinOnlyTitlecard)


async def test_a_headline_no_font_draws_fails_its_item_and_names_the_package(
    service, titlecard_without_cjk
):
    batch = service.create("Space Facts", duration=1, fps=10)
    service.add_items(batch.id, ["宇 Universe", "Rocket 🚀", "Why is space dark?"])
    service.lock(batch.id)
    batch = await service.start(batch.id)
    cjk, emoji, latin = batch.items
    assert cjk.status is ItemStatus.FAILED
    assert cjk.error == "no installed font draws 宇 (install fonts-noto-cjk)"
    assert emoji.status is ItemStatus.FAILED
    assert emoji.error == "no installed font draws 🚀 (install fonts-noto-color-emoji)"
    assert not cjk.output_path and not emoji.output_path, "no blank card is kept as an output"
    assert "no installed font draws 宇" in Path(cjk.log_path).read_text()
    # The others draw: one missing font fails only the items that need it.
    assert latin.status is ItemStatus.SUCCEEDED and Path(latin.output_path).stat().st_size > 0
    assert batch.status is BatchStatus.PARTIAL


async def test_a_batch_name_no_font_draws_fails_the_card_too(service, titlecard_without_cjk):
    batch = service.create("宇宙", duration=1, fps=10)
    service.add_items(batch.id, ["Why is space dark?"])
    service.lock(batch.id)
    batch = await service.start(batch.id)
    assert batch.items[0].status is ItemStatus.FAILED
    assert batch.items[0].error == "no installed font draws 宇, 宙 (install fonts-noto-cjk)"


def test_a_font_has_what_its_cmap_maps_and_what_it_draws():
    from batchtui.generators.card.fonts import Face

    path = latin_only().sans[0]
    by_cmap, by_drawing = Face(path), Face(path)
    by_drawing._cmap_read = True  # no cmap: asked by drawing, as Pillow's bundled font is
    for char in "Aé€ΩЖ→☀✨宇の🚀\U0010fffd":
        assert by_cmap.has(char) == by_drawing.has(char), char
    assert by_cmap.has("A") and by_cmap.has("☀") and not by_cmap.has("宇")
