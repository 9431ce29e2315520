"""Line breaking and fitting: which words go on which line, and at what size.

A headline is set as large as it fits (`fit`): at each size from a generous start down to a
floor, every word must fit a line and all lines the box; lines are then balanced (similar
lengths, no lone last word). A word too long even at the floor is hyphenated; a text too long
even at the floor is cut with '…'. The header and counter are one line each (`one_line`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from .clusters import clusters
from .text import clean_text
from .tokens import Line, Piece, Token, Typesetter, is_rtl, merge, tokenize

Paragraph = tuple[list[Token], bool]
"""A paragraph's tokens, and whether it reads right to left."""
Wrap = Callable[[Sequence[Paragraph], Typesetter, int, float], list[Line]]
"""A way of breaking paragraphs into lines at a size within a width (`balanced`, `greedy`)."""

LINE_HEIGHT = 1.2
"""Line spacing of the headline, in ems."""
_HAIR = "\u200a"


def line_width(tokens: Sequence[Token], setter: Typesetter, size: int) -> float:
    """The width of `tokens` set on one line at `size` pixels."""
    width = sum(setter.token_width(token, size) for token in tokens)
    spaces = sum(1 for token in tokens[1:] if token.space_before)
    return width + spaces * setter.space(size)


def greedy(
    paragraphs: Sequence[Paragraph], setter: Typesetter, size: int, limit: float
) -> list[Line]:
    """Word wrap: each line takes as many tokens as fit in `limit` pixels."""
    lines: list[Line] = []
    space = setter.space(size)
    for tokens, rtl in paragraphs:
        line: list[Token] = []
        width = 0.0
        for token in tokens:
            token_width = setter.token_width(token, size)
            if line and not line[-1].break_after:
                extra = (space if token.space_before else 0.0) + token_width
                if width + extra <= limit:
                    line.append(token)
                    width += extra
                    continue
            if line:
                lines.append(Line(line, rtl))
            line, width = [token], token_width
        lines.append(Line(line, rtl))
    return lines


def balanced(
    paragraphs: Sequence[Paragraph], setter: Typesetter, size: int, limit: float
) -> list[Line]:
    """The greedy wrap's number of lines at the narrowest width that still gives it: lines
    of similar length (no lone word on the last line when it can be avoided)."""
    count = len(greedy(paragraphs, setter, size, limit))
    widest = max(
        (setter.token_width(token, size) for tokens, _ in paragraphs for token in tokens),
        default=0.0,
    )
    low, high = int(widest) + 1, int(limit)
    while low < high:
        middle = (low + high) // 2
        if len(greedy(paragraphs, setter, size, middle)) <= count:
            high = middle
        else:
            low = middle + 1
    return greedy(paragraphs, setter, size, max(low, widest))


def _units(token: Token) -> list[Piece]:
    # A token as one piece per cluster: where a word may be broken.
    units: list[Piece] = []
    for piece in token.pieces:
        if piece.face is None:
            units.append(piece)
        else:
            units.extend(Piece(cluster, piece.face) for cluster in clusters(piece.text))
    return units


def _word_char(piece: Piece) -> bool:
    return piece.face is not None and piece.text[:1].isalnum()


def _split(units: list[Piece], setter: Typesetter, size: int, limit: float) -> list[list[Piece]]:
    # Greedy cut of one long word into parts no wider than `limit` (a '-' included).
    parts: list[list[Piece]] = []
    start = 0
    while start < len(units):
        low, high = start + 1, len(units)
        while low < high:  # the longest part that fits: binary search
            middle = (low + high + 1) // 2
            hyphen = middle < len(units) and _word_char(units[middle - 1])
            probe = Token(merge(units[start:middle]), False, hyphen=hyphen)
            if setter.token_width(probe, size) <= limit:
                low = middle
            else:
                high = middle - 1
        parts.append(units[start:low])
        start = low
    return parts


def hyphenate(token: Token, setter: Typesetter, size: int, limit: float) -> list[Token]:
    """A word too wide for a line, broken into parts of similar width, each but the last
    ending the line with a '-' (between letters)."""
    units = _units(token)
    parts = _split(units, setter, size, limit)
    low, high = int(limit / max(1, len(parts))), int(limit)
    while low < high:  # the narrowest width that needs no more parts: even parts
        middle = (low + high) // 2
        if len(_split(units, setter, size, middle)) <= len(parts):
            high = middle
        else:
            low = middle + 1
    parts = _split(units, setter, size, low)
    tokens = []
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        tokens.append(
            Token(
                merge(part),
                space_before=token.space_before if number == 0 else False,
                hyphen=not last and _word_char(part[-1]) and _word_char(parts[number + 1][0]),
                break_after=not last or token.break_after,
            )
        )
    return tokens


def ellipsize(tokens: list[Token], setter: Typesetter, size: int, limit: float) -> list[Token]:
    """`tokens` shortened to end in '…' within `limit` pixels: whole words dropped first,
    then characters of the first word when even that is too wide."""
    ellipsis = Token([Piece(setter.ellipsis, setter.primary)], space_before=False)
    tokens = list(tokens)
    if tokens:
        tokens[-1] = Token(tokens[-1].pieces, tokens[-1].space_before)  # no hyphen before '…'
    while tokens:
        last = tokens[-1]
        trimmed = _units(last)
        while trimmed and trimmed[-1].face is not None and trimmed[-1].text in ",.;:-–—":
            trimmed.pop()  # no 'word,…'
        if trimmed and len(trimmed) < len(_units(last)):
            tokens[-1] = Token(merge(trimmed), last.space_before)
        if line_width([*tokens, ellipsis], setter, size) <= limit:
            return [*tokens, ellipsis]
        if len(tokens) > 1:
            tokens.pop()
            continue
        units = _units(tokens[0])
        if len(units) <= 1:
            break
        tokens[0] = Token(merge(units[:-1]), tokens[0].space_before)
    return [ellipsis]


def _sizes(short: int) -> tuple[list[int], int, int]:
    # The headline sizes to try, largest first: from a generous start down to the floor.
    start, floor = round(short * 0.11), max(1, round(short * 0.045))
    sizes, size = [], start
    while size > floor:
        sizes.append(size)
        size = min(size - 1, round(size * 0.94))
    return [*sizes, floor], start, floor


def fit(
    paragraphs: list[Paragraph],
    setter: Typesetter,
    box_width: int,
    box_height: int,
    short: int,
    wrap: Wrap = balanced,
) -> tuple[list[Line], int]:
    """The headline's lines and size: the largest size at which every word fits a line and
    all lines fit the box, broken by `wrap`; at the floor size, whatever does not fit is cut
    with '…'. `short` is the frame's shorter side (the sizes are fractions of it)."""
    sizes, start, floor = _sizes(short)
    # Words too long for a line even at the floor are broken (hyphenated) at whatever size is
    # chosen, from the middle of the range down; other words never are: the size shrinks.
    giants = {
        id(token)
        for tokens, _ in paragraphs
        for token in tokens
        if setter.token_width(token, floor) > box_width
    }
    # Widths grow with the size: a size the floor's widths say cannot fit is skipped
    # unmeasured (with a margin for hinting), so a long text is measured a few times only.
    floor_total = sum(line_width(tokens, setter, floor) for tokens, _ in paragraphs)
    floor_widest = max(
        (
            setter.token_width(token, floor)
            for tokens, _ in paragraphs
            for token in tokens
            if id(token) not in giants
        ),
        default=0.0,
    )
    for size in sizes:
        if giants and size > (start + floor) / 2:
            continue
        line_height = round(size * LINE_HEIGHT)
        lines_that_fit = max(1, int((box_height - size * 1.1) // line_height) + 1)
        scale = size / floor * 0.95
        if size != floor and max(floor_total / lines_that_fit, floor_widest) * scale > box_width:
            continue
        if any(
            id(token) not in giants and setter.token_width(token, size) > box_width
            for tokens, _ in paragraphs
            for token in tokens
        ):
            continue
        laid = [
            (
                [
                    part
                    for token in tokens
                    for part in (
                        hyphenate(token, setter, size, box_width)
                        if id(token) in giants
                        else [token]
                    )
                ],
                rtl,
            )
            for tokens, rtl in paragraphs
        ]
        lines = greedy(laid, setter, size, box_width)
        if len(lines) <= lines_that_fit:
            return wrap(laid, setter, size, box_width), size
        if size == floor:  # still too long at the smallest size: cut, ending in '…'
            lines = lines[:lines_that_fit]
            last = lines[-1]
            lines[-1] = Line(ellipsize(last.tokens, setter, size, box_width), last.rtl)
            return lines, size
    return [], floor  # not reached: the floor always returns


def _capitals(text: str) -> str:
    # Upper case; Greek capitals drop their accents (ΕΛΛΗΝΙΚΑ, not ΕΛΛΗΝΙΚΆ), as Greek
    # typesetting does.
    def plain(char: str) -> str:
        if not 0x0370 <= ord(char) <= 0x03FF:
            return char
        letters = unicodedata.normalize("NFD", char)
        return "".join(c for c in letters if unicodedata.category(c) != "Mn")

    return "".join(plain(char) for char in text.upper())


def one_line(
    text: str, setter: Typesetter, size: int, limit: float, kicker: bool = False
) -> list[Line]:
    """`text` on one line, cut with '…' to fit `limit`. A `kicker` (the header) in Latin,
    Greek or Cyrillic is set in capitals, letter-spaced (scripts that join their letters, and
    those without capitals, are left as they are)."""
    paragraph = " ".join(clean_text(text).split())
    kicker = kicker and all(ord(char) < 0x0530 for char in paragraph if char.isalpha())
    if kicker:
        paragraph = _capitals(paragraph)
    tokens = tokenize(paragraph, setter)
    if kicker:
        for token in tokens:
            token.pieces = [
                Piece(_HAIR.join(clusters(piece.text)), piece.face)
                if piece.face is not None and piece.face.has(_HAIR)
                else piece
                for piece in token.pieces
            ]
    if line_width(tokens, setter, size) > limit:
        tokens = ellipsize(tokens, setter, size, limit)
    return [Line(tokens, is_rtl(paragraph))]
