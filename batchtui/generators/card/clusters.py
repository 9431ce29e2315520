"""Grapheme clusters: what draws as one glyph, and what kind of glyph it is.

A character with its combining marks, an emoji with its modifiers, a joined emoji sequence or
a flag is one cluster: it is given one font, measured and drawn whole, and a word is never
broken inside it. Pure string work, no fonts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

ZWJ = "\u200d"
"""The zero-width joiner: joins emoji into one (👩‍💻) and shapes some scripts."""
_REGIONAL = range(0x1F1E6, 0x1F200)
_EMOJI_RANGES = (
    (0x231A, 0x231B),
    (0x23E9, 0x23EC),
    (0x23F0, 0x23F0),
    (0x23F3, 0x23F3),
    (0x25FD, 0x25FE),
    (0x2614, 0x2615),
    (0x2648, 0x2653),
    (0x267F, 0x267F),
    (0x2693, 0x2693),
    (0x26A1, 0x26A1),
    (0x26AA, 0x26AB),
    (0x26BD, 0x26BE),
    (0x26C4, 0x26C5),
    (0x26CE, 0x26CE),
    (0x26D4, 0x26D4),
    (0x26EA, 0x26EA),
    (0x26F2, 0x26F3),
    (0x26F5, 0x26F5),
    (0x26FA, 0x26FA),
    (0x26FD, 0x26FD),
    (0x2705, 0x2705),
    (0x270A, 0x270B),
    (0x2728, 0x2728),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2795, 0x2797),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x1F004, 0x1F004),
    (0x1F0CF, 0x1F0CF),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1E6, 0x1F1FF),
    (0x1F201, 0x1F201),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F236),
    (0x1F238, 0x1F23A),
    (0x1F250, 0x1F251),
    (0x1F300, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F7E0, 0x1F7F0),
    (0x1F90C, 0x1F9FF),
    (0x1FA70, 0x1FAFF),
)


def _extends(char: str) -> bool:
    # Whether `char` belongs to the cluster before it (marks, variation selectors, skin
    # tones, emoji tags, the keycap).
    code = ord(char)
    return (
        0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0xE0100 <= code <= 0xE01EF
        or code == 0x20E3
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
    )


def clusters(text: str) -> Iterator[str]:
    """`text` cut into what draws as one unit: a character with its marks, an emoji with
    its modifiers, joined emoji sequences, flags (pairs of regional indicators)."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if ord(text[i]) in _REGIONAL and j < n and ord(text[j]) in _REGIONAL:
            j += 1
        while j < n:
            if _extends(text[j]):
                j += 1
            elif text[j] == ZWJ:
                j += 2 if j + 1 < n and not text[j + 1].isspace() else 1
            else:
                break
        yield text[i:j]
        i = j


def is_emoji(cluster: str) -> bool:
    """Whether `cluster` is an emoji shown as one (a colour emoji font draws it)."""
    if "\ufe0e" in cluster:  # text presentation asked for
        return False
    if "\ufe0f" in cluster or "\u20e3" in cluster:
        return not cluster[0].isspace()
    code = ord(cluster[0])
    if code < 0x231A:  # the common case: no emoji below
        return False
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


def is_wide(cluster: str) -> bool:
    """Whether `cluster` is a CJK character: a line may break between any two of them."""
    return unicodedata.east_asian_width(cluster[0]) in ("W", "F") and not is_emoji(cluster)


def base(cluster: str) -> str:
    """The cluster without variation selectors, joiners and emoji modifiers (for a text
    font, which draws the plain character)."""
    return "".join(
        ch
        for ch in cluster
        if not (
            0xFE00 <= ord(ch) <= 0xFE0F
            or 0x1F3FB <= ord(ch) <= 0x1F3FF
            or 0xE0020 <= ord(ch) <= 0xE007F
            or ch == ZWJ
            or ch == "\u20e3"
        )
    )
