"""Drawing a title card: the batch's style, the platform's safe area, any text.

A card is two layers so the encoder can animate the headline over a still background:

- `Card.background`: the style's gradient (or a solid override), the header (the batch name)
  at the top of the safe area with a thin accent rule under it, and the counter ("3 / 10") at
  the bottom. Header and counter use one type size derived from the frame alone, so every
  card of a series matches.
- `Card.headline`: the item's text on a transparent frame, as large as fits (down to a floor),
  in balanced lines, centred in the safe area between header and counter.

Any text draws: escape sequences and control characters are removed (`clean_text`); each
character is drawn by the first font that has it (the style's family, then CJK, Arabic, ...
fonts found on the system), colour emoji come from Noto Color Emoji when installed. Before
anything is drawn, every grapheme of the headline and header is checked against those
fonts: one that none of them has fails the card (`MissingGlyphs`: "no installed font draws
宇 (install fonts-noto-cjk)") rather than leaving it blank where that character stands.
Arabic and Hebrew are shaped and laid out right to left by libraqm when Pillow has it.

One job per module: `text` (cleaning), `clusters` (what draws as one glyph), `coverage` (the
check), `fonts` (finding and loading them: `Fonts`, built once by the caller and passed in),
`tokens` (a paragraph as words in fonts, measured), `wrapping` (line breaking and fitting),
`colours`, `drawing` (`draw_card`) and `spec` (`CardSpec`, `Card`).

Pillow and fontTools are imported by this package: it is imported only when a card is drawn.
"""

from __future__ import annotations

from .coverage import MissingGlyphs
from .drawing import draw_card
from .fonts import EMOJI_SIZE, Fonts, emoji_font_path, text_font_paths
from .spec import Card, CardSpec
from .text import clean_text

__all__ = [
    "EMOJI_SIZE",
    "Card",
    "CardSpec",
    "Fonts",
    "MissingGlyphs",
    "clean_text",
    "draw_card",
    "emoji_font_path",
    "text_font_paths",
]
