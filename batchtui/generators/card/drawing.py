"""Drawing a card's two layers with the fonts the caller passes in.

The background layer is the style's colours, the header (the batch name) at the top of the
safe area with a thin accent rule under it, and the counter ("3 / 10") at the bottom, all at
one size derived from the frame alone. The headline layer is the item's text on a transparent
frame, laid out by `wrapping.fit`, centred in the band left between header and counter; a
subtitle, when the card has one, is set smaller under it (the two centred together), in the
headline's colour a little dimmer, with the same care for long words, emoji and scripts.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw

from .colours import RGB, colours
from .coverage import require_glyphs
from .fonts import RAQM, Fonts
from .spec import Card, CardSpec
from .text import clean_text
from .tokens import Line, Typesetter, is_rtl, line_pieces, tokenize
from .wrapping import LINE_HEIGHT, Paragraph, Wrap, balanced, fit, one_line

_INK_TOP = 1.3  # room above a baseline (accents, emoji), in ems
_INK_BOTTOM = 0.6  # room below it (descenders)
_MAX_CHARS = 1000  # more than fits at the floor size: the rest would be cut anyway
SUBTITLE_SHARE = 0.3
"""The part of the band between header and counter the headline leaves for a subtitle when
it is fitted first (the subtitle then takes all the headline left, and the headline takes
back what the subtitle leaves unused)."""
SUBTITLE_SCALE = 0.55
"""A subtitle's largest size, as a fraction of the headline's size on the same card."""
CAPTION_SHARE = 0.3
"""The part of the band between header and counter a narrated card leaves for captions."""
SUBTITLE_ALPHA = 0.82
"""How opaque the subtitle's ink is: the headline's colour, a little dimmer."""


def draw_card(spec: CardSpec, fonts: Fonts | None = None, *, wrap: Wrap = balanced) -> Card:
    """Draw the card `spec` describes (the layout is in the package's docstring) with `fonts`
    (None: this machine's, found anew; pass one `Fonts` to a series of cards so each font is
    loaded once). `wrap` breaks the headline into lines (balanced lines by default).
    Thread-safe: cards drawn with one `Fonts` from several threads are drawn one at a time
    (each takes milliseconds)."""
    fonts = Fonts.installed() if fonts is None else fonts
    with fonts.lock:
        setter = Typesetter(fonts, spec.style.serif)
        # Before drawing: a character no font has would leave the card blank where it is.
        texts = (clean_text(spec.batch_name), _headline_text(spec), _subtitle_text(spec))
        require_glyphs(texts, setter)
        background, text_rgb, region = _draw_background(spec, setter)
        band = None
        if spec.captions:  # the band's lower part is the captions'
            top, bottom = region
            split = bottom - round((bottom - top) * CAPTION_SHARE)
            region, band = (top, split), (split, bottom)
        headline = _draw_headline(spec, setter, text_rgb, region, wrap)
    return Card(background=background, headline=headline, caption_band=band)


def _headline_text(spec: CardSpec) -> str:
    # The headline as drawn: cleaned, and cut where it could no longer fit anyway.
    return clean_text(spec.content)[:_MAX_CHARS]


def _subtitle_text(spec: CardSpec) -> str:
    # The subtitle as drawn ('' when there is none, or nothing in it is drawn).
    return clean_text(spec.subtitle or "")[:_MAX_CHARS]


def _draw_lines(
    lines: Sequence[Line],
    setter: Typesetter,
    size: int,
    line_height: int,
    block_width: int,
    colour: RGB,
) -> Image.Image:
    """`lines` centred in a transparent block `block_width` wide (plus an em each side for
    overhangs); the first baseline is `_INK_TOP` ems below its top."""
    pad = size
    width = block_width + 2 * pad
    top = round(size * _INK_TOP)
    height = top + (len(lines) - 1) * line_height + round(size * _INK_BOTTOM)
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    emoji: list[tuple[Image.Image, int, int]] = []
    for number, line in enumerate(lines):
        baseline = top + number * line_height
        pieces = line_pieces(line.tokens, setter)
        widths = [setter.piece_width(piece, size) for piece in pieces]
        x = width / 2 - sum(widths) / 2
        order = list(zip(pieces, widths, strict=True))
        for piece, piece_width in reversed(order) if line.rtl else order:
            if piece.face is None:
                assert setter.emoji is not None
                image = setter.emoji.image(piece.text)
                if image is not None:
                    scale = size / setter.emoji.height
                    scaled = image.resize(
                        (max(1, round(image.width * scale)), max(1, size)),
                        Image.Resampling.LANCZOS,
                    )
                    emoji.append((scaled, round(x), baseline - round(setter.emoji.ascent * scale)))
            else:
                text = piece.text
                direction = ("rtl" if line.rtl else "ltr") if RAQM else None
                if line.rtl and not RAQM:
                    text = text[::-1]  # no shaping engine: at least the right order
                font = piece.face.font(size)
                draw.text(
                    (x, baseline), text, font=font, fill=255, anchor="ls", direction=direction
                )
            x += piece_width
    block = Image.new("RGBA", (width, height), (*colour, 0))
    block.putalpha(mask)
    for image, x, y in emoji:
        block.alpha_composite(image, (max(0, x), max(0, y)))
    return block


def _series_size(width: int, height: int) -> int:
    # The header and counter size: from the frame only, the same on every card of a series.
    return max(12, round(min(width, height) * 0.036))


def _draw_background(
    spec: CardSpec, setter: Typesetter
) -> tuple[Image.Image, RGB, tuple[int, int]]:
    """The background layer: gradient, header, rule and counter, all at the series size.
    Returns it, the headline's colour, and the band left for the headline (top, bottom)."""
    background, text_rgb, accent = colours(spec)
    short = min(spec.width, spec.height)
    left, top, right, bottom = spec.safe.box(spec.width, spec.height)
    centre = (left + right) / 2
    small = _series_size(spec.width, spec.height)
    inner = right - left - 2 * round(short * 0.02)

    def paste(lines: list[Line], baseline: int) -> None:
        block = _draw_lines(lines, setter, small, 0, inner, accent)
        position = (round(centre - block.width / 2), baseline - round(small * _INK_TOP))
        background.paste(block, position, block)

    header_baseline = top + round(small * 0.8)  # capitals' tops at the safe area's top
    paste(one_line(spec.batch_name, setter, small, inner, kicker=True), header_baseline)
    rule_y = header_baseline + round(small * 0.75)
    rule_h = max(2, round(short * 0.004))
    rule_w = max(2, round(short * 0.07))
    rule_x = round(centre - rule_w / 2)
    ImageDraw.Draw(background).rectangle(
        (rule_x, rule_y, rule_x + rule_w - 1, rule_y + rule_h - 1), fill=accent
    )
    counter = f"{spec.index} / {spec.total}" if spec.total > 0 else str(spec.index)
    counter_baseline = bottom - round(small * 0.3)
    paste(one_line(counter, setter, small, inner), counter_baseline)
    gap = round(short * 0.05)
    return (
        background,
        text_rgb,
        (rule_y + rule_h + gap, counter_baseline - round(small * 0.8) - gap),
    )


def _draw_headline(
    spec: CardSpec, setter: Typesetter, colour: RGB, region: tuple[int, int], wrap: Wrap
) -> Image.Image:
    """The headline layer: the item's text (and its subtitle under it), centred in the safe
    area's width and in the band between header and counter; never outside the safe area."""
    width, height = spec.width, spec.height
    short = min(width, height)
    left, top, right, bottom = spec.safe.box(width, height)
    region_top, region_bottom = region
    box_width = right - left - 2 * round(short * 0.03)
    layer = Image.new("RGBA", (width, height), (*colour, 0))
    text = _headline_text(spec)
    paragraphs = [(tokenize(p, setter), is_rtl(p)) for p in text.split("\n")]
    if not any(tokens for tokens, _ in paragraphs):
        return layer
    band = region_bottom - region_top

    def headline_in(room: int) -> tuple[Image.Image | None, int]:
        # The headline's ink (cropped) set as large as fits `room` pixels high, and its size.
        lines, size = fit(paragraphs, setter, box_width, room, short, wrap)
        block = _draw_lines(lines, setter, size, round(size * LINE_HEIGHT), box_width, colour)
        ink = block.getchannel("A").getbbox()
        return (block.crop(ink) if ink else None), size

    subtitle = _subtitle_paragraphs(spec, setter)
    gap = round(short * 0.045)  # between the headline's ink and the subtitle's
    if subtitle is None:
        block, _ = headline_in(band)
    else:
        # The headline first, leaving a share of the band for the subtitle; the subtitle in
        # all the headline left; then the headline again in all the subtitle left (a short
        # subtitle under a long headline does not shrink it for room it never uses).
        first, size = headline_in(band - round(band * SUBTITLE_SHARE) - gap)
        under = _subtitle_block(
            subtitle,
            setter,
            size,
            box_width,
            band - gap - (first.height if first else 0),
            colour,
            wrap,
        )
        block = first
        if first is not None and under is not None:
            again, bigger = headline_in(band - gap - under.height)
            if again is not None and bigger > size and again.height + gap + under.height <= band:
                block = again
        if block is not None and under is not None:
            block = _stacked(block, under, gap, colour)
    if block is None:
        return layer
    if block.width > right - left or block.height > bottom - top:  # never under the UI
        block = block.crop((0, 0, min(block.width, right - left), min(block.height, bottom - top)))
    x = round((left + right) / 2 - block.width / 2)
    y = round((region_top + region_bottom) / 2 - block.height / 2)
    x = min(max(x, left), right - block.width)
    y = min(max(y, top), bottom - block.height)
    layer.paste(block, (x, y))
    return layer


def _subtitle_paragraphs(spec: CardSpec, setter: Typesetter) -> list[Paragraph] | None:
    """The subtitle's paragraphs as tokens; None when it has nothing to draw."""
    paragraphs = [(tokenize(p, setter), is_rtl(p)) for p in _subtitle_text(spec).split("\n")]
    return paragraphs if any(tokens for tokens, _ in paragraphs) else None


def _subtitle_block(
    paragraphs: list[Paragraph],
    setter: Typesetter,
    size: int,
    box_width: int,
    height: int,
    colour: RGB,
    wrap: Wrap,
) -> Image.Image | None:
    """The subtitle's ink (cropped, dimmed) set as large as fits `box_width` × `height` and at
    most `SUBTITLE_SCALE` of the headline's `size`; None when nothing of it draws."""
    # `fit` tries sizes from 11% of `short` down to 4.5% of it: a `short` that starts at the
    # largest size a subtitle may have, and never below a readable floor.
    short = max(round(size * SUBTITLE_SCALE / 0.11), 12 * 23)
    lines, sub_size = fit(paragraphs, setter, box_width, max(height, 1), short, wrap)
    block = _draw_lines(lines, setter, sub_size, round(sub_size * LINE_HEIGHT), box_width, colour)
    ink = block.getchannel("A").getbbox()
    if not ink:
        return None
    block = block.crop(ink)
    block.putalpha(block.getchannel("A").point(lambda value: round(value * SUBTITLE_ALPHA)))
    return block


def _stacked(headline: Image.Image, subtitle: Image.Image, gap: int, colour: RGB) -> Image.Image:
    """`headline` with `subtitle` `gap` pixels under it, both centred on one axis."""
    width = max(headline.width, subtitle.width)
    both = Image.new("RGBA", (width, headline.height + gap + subtitle.height), (*colour, 0))
    both.paste(headline, ((width - headline.width) // 2, 0))
    both.paste(subtitle, ((width - subtitle.width) // 2, headline.height + gap))
    return both
