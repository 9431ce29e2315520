"""What a card shows (`CardSpec`) and what drawing it gives (`Card`)."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from ...core.platforms import SafeArea
from ...core.styles import Style


@dataclass(frozen=True)
class CardSpec:
    """Everything one card shows: the item's text, where it sits in its batch, the frame, the
    batch's style and the platform's safe area. `background` (a solid colour) and `text_color`
    override the style's gradient and headline colour; any Pillow colour string works."""

    content: str
    batch_name: str
    index: int
    total: int
    width: int
    height: int
    style: Style
    safe: SafeArea
    background: str | None = None
    text_color: str | None = None
    subtitle: str | None = None
    """A second, smaller line under the headline (the fact under the question); None: none."""
    captions: bool = False
    """Leave the lower part of the headline's band free for captions (a narrated card)."""


@dataclass
class Card:
    """A drawn card: `background` (RGB, full frame: gradient, header, rule, counter) and
    `headline` (RGBA, full frame, transparent except the item's text)."""

    background: Image.Image
    headline: Image.Image
    caption_band: tuple[int, int] | None = None
    """Where captions go (top and bottom, in pixels) on a card drawn with `captions`."""

    def poster(self) -> Image.Image:
        """The finished card (RGB): the headline over the background, the video's thumbnail."""
        frame = self.background.convert("RGBA")
        frame.alpha_composite(self.headline)
        return frame.convert("RGB")
