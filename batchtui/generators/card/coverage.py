"""Whether a card's fonts draw every grapheme of its text, checked before anything is drawn.

A character no installed font has would be left out (never drawn as a box): a Chinese
headline on a machine without a CJK font would come out as an empty card that looks like a
success. `require_glyphs` turns that into a failure that names the character and the package
that brings a font for it: "no installed font draws 宇 (install fonts-noto-cjk)".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from ..base import GeneratorError
from .clusters import base, clusters, is_emoji
from .tokens import Typesetter

NAMED = 3
"""The most missing characters a message names (the first ones, in reading order)."""
EMOJI_PACKAGE = "fonts-noto-color-emoji"
CJK_PACKAGE = "fonts-noto-cjk"
OTHER_PACKAGE = "fonts-noto-core"
"""Debian and Ubuntu package names; other systems ship the same Noto families."""
_CJK_WORDS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC", "FULLWIDTH")


class MissingGlyphs(GeneratorError):
    """Some graphemes of a card's text are in no installed font: the card would be blank
    where they are. `missing` holds them, in reading order, each once."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        shown = ", ".join(missing[:NAMED]) + (" …" if len(missing) > NAMED else "")
        packages = ", ".join(dict.fromkeys(package_for(cluster) for cluster in missing))
        super().__init__(f"no installed font draws {shown} (install {packages})")


def package_for(cluster: str) -> str:
    """The package whose fonts draw `cluster`: colour emoji, CJK, or Noto's other scripts."""
    if is_emoji(cluster):
        return EMOJI_PACKAGE
    name = unicodedata.name(cluster[0], "")
    if name.startswith(_CJK_WORDS) or unicodedata.east_asian_width(cluster[0]) in ("W", "F"):
        return CJK_PACKAGE
    return OTHER_PACKAGE


def _visible(cluster: str) -> bool:
    # A stray joiner or variation selector draws nothing in any font: nothing to miss.
    return any(unicodedata.category(char) not in ("Cf", "Mn", "Me") for char in base(cluster))


def missing_glyphs(texts: Iterable[str], setter: Typesetter) -> list[str]:
    """The graphemes of `texts` (already cleaned) that no font of `setter` draws: not the
    colour emoji font, not a text font of the style's chain, not one fontconfig finds."""
    missing: dict[str, None] = {}
    for text in texts:
        for cluster in clusters(text):
            if cluster.isspace() or cluster in missing or not _visible(cluster):
                continue
            if setter.resolve(cluster) is None:
                missing[cluster] = None
    return list(missing)


def require_glyphs(texts: Iterable[str], setter: Typesetter) -> None:
    """Raise `MissingGlyphs` when some grapheme of `texts` is in none of the fonts."""
    missing = missing_glyphs(texts, setter)
    if missing:
        raise MissingGlyphs(missing)
