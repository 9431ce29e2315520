"""Captions: the narration's words on the card, revealed as they are spoken.

The words are grouped into caption lines that fit the safe area's width (a sentence's end
closes a line); each line is shown while its words are spoken, its words turning from faint
to full ink one by one. Each state is an image of one size (the caption band reserved under
the headline), so the encoder reads them as one stream (ffmpeg's concat demuxer, each image
with its duration) and overlays it once. Drawn with the card's own fonts and clusters: emoji,
CJK and accents as on the headline; the text is never interpreted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from ..voice.words import Word as TimedWord
from .colours import RGB
from .fonts import Fonts
from .text import clean_text
from .tokens import Piece, Token, Typesetter, line_pieces, tokenize

MAX_WORDS = 7
"""Words on one caption line at most (short lines read at a glance)."""
FAINT = 0.32
"""How opaque a word not yet spoken is."""
SIZE_SHARE = 0.058
"""The caption size as a fraction of the frame's shorter side."""
SENTENCE_ENDS = tuple(".?!…。？！")


@dataclass(frozen=True)
class CaptionFrame:
    """One caption image and how long it shows."""

    image: Image.Image
    seconds: float


def caption_frames(
    words: Sequence[TimedWord],
    fonts: Fonts,
    serif: bool,
    box: tuple[int, int],
    short: int,
    colour: RGB,
    total: float,
) -> list[CaptionFrame]:
    """The caption stream of `words` for a clip of `total` seconds: a blank frame until the
    first word, then one frame per word spoken (its line, spoken words in full ink), the last
    line held to the end. Every image is `box` (width, height), transparent around the text."""
    width, _ = box
    size = max(12, round(short * SIZE_SHARE))
    blank = Image.new("RGBA", box, (0, 0, 0, 0))
    shown: list[tuple[float, Image.Image]] = []  # (from when, what)
    with fonts.lock:
        setter = Typesetter(fonts, serif)
        tokens = [_word_tokens(word.text, setter) for word in words]
        for line in _lines(words, tokens, setter, size, width * 0.92):
            for count in range(1, len(line) + 1):
                start = max(words[line[count - 1]].start, shown[-1][0] if shown else 0.0)
                shown_words = [(tokens[i], words[i].spaced) for i in line]
                image = _draw(shown_words, count, setter, size, box, colour)
                shown.append((start, image))
    if not shown:
        return [CaptionFrame(blank, total)]
    frames = [CaptionFrame(blank, shown[0][0])] if shown[0][0] > 0 else []
    for number, (start, image) in enumerate(shown):
        until = shown[number + 1][0] if number + 1 < len(shown) else max(total, start)
        frames.append(CaptionFrame(image, max(1 / 60, until - start)))
    return frames


def _word_tokens(text: str, setter: Typesetter) -> list[Token]:
    return tokenize(" ".join(clean_text(text).split()), setter)


def _lines(
    words: Sequence[TimedWord],
    tokens: Sequence[list[Token]],
    setter: Typesetter,
    size: int,
    limit: float,
) -> list[list[int]]:
    """Word indexes grouped into caption lines that fit `limit` pixels."""
    lines: list[list[int]] = []
    current: list[int] = []
    for index, word in enumerate(words):
        if not tokens[index]:
            continue
        trial = [*current, index]
        flat = [t for i in trial for t in _spaced(tokens[i])]
        too_wide = sum(setter.piece_width(p, size) for p in line_pieces(flat, setter)) > limit
        if current and (too_wide or len(trial) > MAX_WORDS):
            lines.append(current)
            trial = [index]
        current = trial
        if word.text.rstrip("\"'”’)»").endswith(SENTENCE_ENDS):
            lines.append(current)
            current = []
    if current:
        lines.append(current)
    return lines


def _spaced(tokens: list[Token]) -> list[Token]:
    """A word's tokens, the first one after a space (between words of a caption line)."""
    if not tokens:
        return tokens
    first = Token(tokens[0].pieces, True)
    return [first, *tokens[1:]]


def _draw(
    line: Sequence[tuple[list[Token], bool]],
    shown: int,
    setter: Typesetter,
    size: int,
    box: tuple[int, int],
    colour: RGB,
) -> Image.Image:
    """One caption line centred in `box`: its first `shown` words in full ink, the rest
    faint, on a translucent band for legibility over any background."""
    width, height = box
    pieces_of = []
    for number, (tokens, spaced) in enumerate(line):  # each word with the space before it
        pieces = line_pieces(tokens, setter)
        space = number and spaced
        pieces_of.append([Piece(" ", setter.primary), *pieces] if space else pieces)
    widths = [sum(setter.piece_width(p, size) for p in pieces) for pieces in pieces_of]
    total = sum(widths)
    x = width / 2 - total / 2
    baseline = round(height / 2 + size * 0.35)
    image = Image.new("RGBA", box, (0, 0, 0, 0))
    pad = round(size * 0.45)
    band = (
        max(0, round(x) - pad),
        max(0, baseline - round(size * 1.1)),
        min(width, round(x + total) + pad),
        min(height, baseline + round(size * 0.45)),
    )
    ImageDraw.Draw(image).rounded_rectangle(band, radius=round(size * 0.3), fill=(0, 0, 0, 110))
    for number, pieces in enumerate(pieces_of):
        alpha = 255 if number < shown else round(255 * FAINT)
        for piece in pieces:
            _draw_piece(image, piece, x, baseline, size, setter, colour, alpha)
            x += setter.piece_width(piece, size)
    return image


def _draw_piece(
    image: Image.Image,
    piece: Piece,
    x: float,
    baseline: int,
    size: int,
    setter: Typesetter,
    colour: RGB,
    alpha: int,
) -> None:
    if piece.face is None:  # a colour emoji
        if setter.emoji is None:
            return
        glyph = setter.emoji.image(piece.text)
        if glyph is None:
            return
        scale = size / setter.emoji.height
        scaled = glyph.resize(
            (max(1, round(glyph.width * scale)), max(1, size)), Image.Resampling.LANCZOS
        )
        if alpha < 255:
            faded = scaled.getchannel("A").point(lambda a: a * alpha // 255)
            scaled.putalpha(faded)
        top = baseline - round(setter.emoji.ascent * scale)
        image.alpha_composite(scaled, (max(0, round(x)), max(0, top)))
        return
    ink = Image.new("L", image.size, 0)
    ImageDraw.Draw(ink).text(
        (x, baseline), piece.text, font=piece.face.font(size), fill=alpha, anchor="ls"
    )
    layer = Image.new("RGBA", image.size, (*colour, 0))
    layer.putalpha(ink)
    image.alpha_composite(layer)
