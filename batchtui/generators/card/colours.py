"""A card's colours: the background (the style's gradient or a solid override), and the
headline and accent colours, kept readable on whatever background is chosen."""

from __future__ import annotations

from PIL import Image, ImageColor

from .spec import CardSpec

RGB = tuple[int, int, int]


def rgb(colour: str) -> RGB:
    """Any Pillow colour string as (red, green, blue)."""
    red, green, blue = ImageColor.getrgb(colour)[:3]
    return red, green, blue


def _luminance(colour: RGB) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(a: RGB, b: RGB) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _readable(preferred: RGB, on: RGB, need: float) -> RGB:
    # `preferred` if it reads on `on`, else near-white or near-black, whichever reads better.
    if _contrast(preferred, on) >= need:
        return preferred
    return max(((248, 250, 252), (17, 24, 39)), key=lambda colour: _contrast(colour, on))


def _gradient(width: int, height: int, top: str, bottom: str) -> Image.Image:
    if rgb(top) == rgb(bottom):
        return Image.new("RGB", (width, height), rgb(top))
    ramp = Image.linear_gradient("L").resize((width, height), Image.Resampling.BILINEAR)
    return Image.composite(
        Image.new("RGB", (width, height), rgb(bottom)),
        Image.new("RGB", (width, height), rgb(top)),
        ramp,
    )


def colours(spec: CardSpec) -> tuple[Image.Image, RGB, RGB]:
    """The background image, the headline's colour and the accent. Overriding the background
    keeps the text readable on it: a style colour that would vanish gives way to near-white
    or near-black."""
    width, height, style = spec.width, spec.height, spec.style
    if spec.background:
        base = rgb(spec.background)
        background = Image.new("RGB", (width, height), base)
    else:
        (r1, g1, b1), (r2, g2, b2) = rgb(style.top), rgb(style.bottom)
        base = ((r1 + r2) // 2, (g1 + g2) // 2, (b1 + b2) // 2)
        background = _gradient(width, height, style.top, style.bottom)
    text = rgb(spec.text_color) if spec.text_color else _readable(rgb(style.text), base, 3.0)
    accent = _readable(rgb(style.accent), base, 2.5) if spec.background else rgb(style.accent)
    return background, text, accent
