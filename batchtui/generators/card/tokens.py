"""A paragraph as tokens: the words lines break between, each made of pieces in one font.

`Typesetter` is one card's view of its `Fonts`: the chain of text faces its style draws with,
the colour emoji font, and the width of every piece it measured (the same word is measured
once per size). `tokenize` turns a paragraph into tokens: each cluster goes to the first font
that has it (or is left out when none has), CJK characters are tokens of their own, and
closing punctuation stays with the character before it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from .clusters import ZWJ, base, clusters, is_emoji, is_wide
from .fonts import RAQM, ColourEmoji, Face, Fonts

NO_LINE_START = frozenset("、。，．・：；！？）」』】〕〉》〙〗ー…‥々〜,.!?:;)]}%")
"""Characters that may not start a line (CJK closing punctuation): kept with the one before."""


@dataclass(frozen=True)
class Piece:
    """A run of text in one font, or (face None) one colour emoji."""

    text: str
    face: Face | None


@dataclass
class Token:
    """A word (or one CJK character): lines break between tokens only."""

    pieces: list[Piece]
    space_before: bool
    hyphen: bool = False  # drawn with a '-' after it (a word broken across lines)
    break_after: bool = False  # the line ends after it
    widths: dict[int, float] = field(default_factory=dict)


@dataclass
class Line:
    """One line of a card: its tokens, and whether it reads right to left."""

    tokens: list[Token]
    rtl: bool


class Typesetter:
    """The fonts one card draws with (a chain of text faces and maybe colour emoji, taken
    from `fonts` for a serif or sans style), and what its pieces measure in them."""

    def __init__(self, fonts: Fonts, serif: bool) -> None:
        self.fonts = fonts
        self.chain = fonts.chain(serif)
        self.primary = self.chain[0]
        self.emoji: ColourEmoji | None = fonts.emoji()
        self.ellipsis = "…" if self.primary.has("…") else "..."
        self._widths: dict[tuple[str, int, int], float] = {}  # the same word, measured once

    def text_face(self, char: str) -> Face | None:
        """The first face that has `char`: the chain's, else one fontconfig finds."""
        for face in self.chain:
            if face.has(char):
                return face
        return self.fonts.fallback_face(char) if not char.isspace() else None

    def resolve(self, cluster: str) -> Piece | None:
        """How `cluster` draws: as a colour emoji, in the first font that has it, or (None)
        not at all: a glyph no font has is left out, never drawn as a box."""
        if self.emoji is not None and is_emoji(cluster) and self.emoji.image(cluster):
            return Piece(cluster, None)
        text = base(cluster) if is_emoji(cluster) or not RAQM else cluster
        if not text:
            return None
        face = self.text_face(text[0])
        if face is None:
            return None
        # Marks the face lacks (rare) are left out too.
        kept = text[0] + "".join(ch for ch in text[1:] if ch in (ZWJ, "\u200c") or face.has(ch))
        return Piece(kept, face)

    def piece_width(self, piece: Piece, size: int) -> float:
        """The advance of `piece` at `size` pixels."""
        if piece.face is None:
            assert self.emoji is not None
            image = self.emoji.image(piece.text)
            return 0.0 if image is None else image.width * size / self.emoji.height
        key = (piece.text, id(piece.face), size)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = piece.face.font(size).getlength(piece.text)
        return width

    def token_width(self, token: Token, size: int) -> float:
        """The advance of `token` at `size` pixels, its hyphen included."""
        width = token.widths.get(size)
        if width is None:
            width = sum(self.piece_width(piece, size) for piece in line_pieces([token], self))
            token.widths[size] = width
        return width

    def space(self, size: int) -> float:
        """The width of a space between words at `size` pixels."""
        return self.primary.font(size).getlength(" ")


def merge(pieces: Sequence[Piece]) -> list[Piece]:
    """Adjacent text pieces in the same font as one run (shaped and measured together)."""
    merged: list[Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last is not None and piece.face is not None and last.face is piece.face:
            merged[-1] = Piece(last.text + piece.text, piece.face)
        else:
            merged.append(piece)
    return merged


def line_pieces(tokens: Sequence[Token], setter: Typesetter) -> list[Piece]:
    """The pieces a line of `tokens` draws, in reading order: spaces between words and the
    hyphen of a broken word included."""
    pieces: list[Piece] = []
    for number, token in enumerate(tokens):
        if number and token.space_before:
            before = pieces[-1].face if pieces and pieces[-1].face is not None else setter.primary
            pieces.append(Piece(" ", before))
        pieces.extend(token.pieces)
        if token.hyphen:
            last = token.pieces[-1].face if token.pieces else None
            pieces.append(
                Piece("-", last if last is not None and last.has("-") else setter.primary)
            )
    return merge(pieces)


def is_rtl(paragraph: str) -> bool:
    """Whether `paragraph` reads right to left (its first strong character decides)."""
    for char in paragraph:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def tokenize(paragraph: str, setter: Typesetter) -> list[Token]:
    """`paragraph` (one line of cleaned text) as tokens in the fonts of `setter`."""
    tokens: list[Token] = []
    pending: list[Piece] = []
    gap = False

    def flush() -> None:
        nonlocal gap
        if pending:
            tokens.append(Token(merge(pending), space_before=gap and bool(tokens)))
            pending.clear()
            gap = False

    for cluster in clusters(paragraph):
        if cluster.isspace():
            flush()
            gap = True
            continue
        piece = setter.resolve(cluster)
        if piece is None:
            continue
        if cluster in NO_LINE_START and not pending and tokens and not gap:
            tokens[-1].pieces = merge([*tokens[-1].pieces, piece])
            tokens[-1].widths.clear()
            continue
        if is_wide(cluster) and cluster not in NO_LINE_START:
            flush()
            pending.append(piece)
            flush()
            continue
        pending.append(piece)
    flush()
    return tokens
