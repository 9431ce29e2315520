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
fonts found on the system), colour emoji come from Noto Color Emoji when installed, and a
character no font has is left out rather than drawn as an empty box. Arabic and Hebrew are
shaped and laid out right to left by libraqm when Pillow has it.

Pillow is imported at the top: this module is imported only when a card is drawn.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont, features

from ..core.platforms import SafeArea
from ..core.styles import Style

# -- text cleaning -------------------------------------------------------------------------

_ESCAPES = re.compile(
    r"""
      (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]              # CSI: colours, cursor
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z) # OSC/DCS/SOS/PM/APC
    | \x1b [\x20-\x2f]* [\x30-\x7e]                                      # ESC + one character
    """,
    re.VERBOSE | re.DOTALL,
)
# Invisible format characters that would draw as boxes or silently reorder the text: zero
# width space, bidi marks/embeddings/overrides/isolates, word joiners, BOM, soft hyphen, ...
# (zero-width joiner and non-joiner stay: they build emoji and shape Persian and Indic text).
_INVISIBLE = [
    0x00AD,
    0x034F,
    0x061C,
    0x180E,
    0x200B,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2070),
    0xFEFF,
    *range(0xFFF9, 0xFFFD),
]
_CLEAN_TABLE: dict[int, int | str | None] = {code: None for code in range(0x20)}
_CLEAN_TABLE.update({0x09: " ", 0x0A: "\n", 0x7F: None})
_CLEAN_TABLE.update({code: None for code in range(0x80, 0xA0)})
_CLEAN_TABLE.update({0x85: "\n", 0x2028: "\n", 0x2029: "\n"})  # NEL and Unicode line breaks
_CLEAN_TABLE.update({code: None for code in _INVISIBLE})
# Other spaces (em, thin, ideographic, ...) become a plain space; no-break spaces stay.
_CLEAN_TABLE.update({code: " " for code in (0x1680, *range(0x2000, 0x200B), 0x205F, 0x3000)})
_SURROGATES = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(" {2,}")
_BLANK_LINES = re.compile("\n{3,}")


def clean_text(text: str) -> str:
    """`text` as it should appear on a card: terminal escape sequences (CSI such as colours,
    OSC such as window titles, ESC + one character) removed whole, every other control and
    invisible format character dropped, newlines kept as paragraph breaks (at most one blank
    line in a row), runs of spaces collapsed and each line trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub("", text)
    text = _SURROGATES.sub("", text.translate(_CLEAN_TABLE))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# -- the card's interface ------------------------------------------------------------------


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


@dataclass
class Card:
    """A drawn card: `background` (RGB, full frame: gradient, header, rule, counter) and
    `headline` (RGBA, full frame, transparent except the item's text)."""

    background: Image.Image
    headline: Image.Image

    def poster(self) -> Image.Image:
        """The finished card (RGB): the headline over the background, the video's thumbnail."""
        frame = self.background.convert("RGBA")
        frame.alpha_composite(self.headline)
        return frame.convert("RGB")


# -- fonts ---------------------------------------------------------------------------------

_RAQM = features.check("raqm")
_LAYOUT = ImageFont.Layout.RAQM if _RAQM else ImageFont.Layout.BASIC
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
)
_SANS = ("NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "FreeSansBold.ttf")
_SERIF = (
    "NotoSerif-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "LiberationSerif-Bold.ttf",
    "FreeSerifBold.ttf",
)
_SANS_EXTRA = (
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJKsc-Bold.otf",
    "NotoSansCJKjp-Bold.otf",
    "NotoSansCJK-Regular.ttc",
    "wqy-zenhei.ttc",
    "wqy-microhei.ttc",
    "DroidSansFallbackFull.ttf",
    "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Bold.ttf",
    "DejaVuSans.ttf",
    "FreeSans.ttf",
)
_SERIF_EXTRA = ("NotoSerifCJK-Bold.ttc", "NotoSerifCJK-Regular.ttc")
_EMOJI = (
    "NotoColorEmoji.ttf",
    "NotoColorEmoji-Regular.ttf",
    "NotoColorEmoji_WindowsCompatible.ttf",
)
EMOJI_SIZE = 109
"""The only size Noto Color Emoji (a bitmap font) loads at; emoji are scaled from it."""
_NOTDEF_PROBE = "\U0010fffd"  # a private-use code point no text font maps: draws .notdef


@functools.cache
def _installed_fonts() -> dict[str, str]:
    # File name -> path, for every font file under the usual folders (first found wins).
    found: dict[str, str] = {}
    for folder in _FONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.lower().endswith((".ttf", ".otf", ".ttc")):
                    found.setdefault(name, os.path.join(dirpath, name))
    return found


def text_font_paths(serif: bool) -> list[str]:
    """The font files a headline draws with, in order of preference: the style's family
    (Noto, DejaVu, Liberation, FreeFont: whichever is installed), then fonts for the scripts
    it lacks (CJK, Arabic, Hebrew). Pillow's bundled font follows them all. Tests monkeypatch
    this to draw with a known set."""
    fonts = _installed_fonts()
    names = (*_SERIF, *_SERIF_EXTRA, *_SANS, *_SANS_EXTRA) if serif else (*_SANS, *_SANS_EXTRA)
    return [fonts[name] for name in names if name in fonts]


def emoji_font_path() -> str | None:
    """The colour emoji font (Noto Color Emoji) if installed. `BATCHTUI_EMOJI_FONT` names
    another file, or, set empty, turns colour emoji off (emoji then draw from a monochrome
    font that has them, or are left out)."""
    override = os.environ.get("BATCHTUI_EMOJI_FONT")
    if override is not None:
        return override or None
    fonts = _installed_fonts()
    return next((fonts[name] for name in _EMOJI if name in fonts), None)


@functools.cache
def _fontconfig_fonts() -> list[tuple[str, list[int], list[int]]]:
    # Every font fontconfig knows, bold ones first, with the code point ranges it covers
    # (one `fc-list` call: asking once per missing character would start a process each).
    program = shutil.which("fc-list")
    if program is None:
        return []
    try:
        listing = subprocess.run(
            [program, "--format", "%{file}\t%{style[0]}\t%{charset}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    fonts = []
    for line in listing.splitlines():
        path, _, rest = line.partition("\t")
        style, _, charset = rest.partition("\t")
        lows, highs = [], []
        try:
            for span in charset.split():
                low, _, high = span.partition("-")
                lows.append(int(low, 16))
                highs.append(int(high or low, 16))
        except ValueError:
            continue
        fonts.append(("bold" not in style.lower(), path, lows, highs))
    fonts.sort(key=lambda font: (font[0], font[1]))
    return [(path, lows, highs) for _, path, lows, highs in fonts]


@functools.cache
def system_font_for(char: str) -> str | None:
    """Another installed font with a glyph for `char`, found through fontconfig (bold
    preferred), for scripts the known fonts lack; None without fontconfig or such a font."""
    code = ord(char)
    for path, lows, highs in _fontconfig_fonts():
        at = bisect.bisect_right(lows, code) - 1
        if at >= 0 and code <= highs[at]:
            face = _face(path)
            if face is not None and face.has(char):
                return path
    return None


class _Face:
    """One font file at any size, with a cache of which characters it has."""

    def __init__(self, path: str | None, index: int = 0) -> None:
        self.path = path
        self.index = index
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self._has: dict[str, bool] = {}
        self._notdef: tuple[tuple[int, int], bytes] | None = None
        self._probe: ImageFont.FreeTypeFont | None = None

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        font = self._fonts.get(size)
        if font is None:
            if self.path is None:  # Pillow's bundled font: there on any machine
                loaded = ImageFont.load_default(size)
                assert isinstance(loaded, ImageFont.FreeTypeFont)
                font = loaded
            else:
                font = ImageFont.truetype(self.path, size, index=self.index, layout_engine=_LAYOUT)
            self._fonts[size] = font
        return font

    def _mask(self, text: str) -> tuple[tuple[int, int], bytes]:
        if self._probe is None:
            self._probe = self.font(32).font_variant(layout_engine=ImageFont.Layout.BASIC)
        mask = self._probe.getmask(text)
        return mask.size, bytes(mask)

    def has(self, char: str) -> bool:
        """Whether the font draws `char` itself (a missing glyph draws as .notdef, a box)."""
        known = self._has.get(char)
        if known is None:
            if self._notdef is None:
                self._notdef = self._mask(_NOTDEF_PROBE)
            drawn = self._mask(char)
            empty_notdef = not any(self._notdef[1])
            # (A font whose .notdef is blank: only ink proves a glyph.)
            known = (any(drawn[1]) or char.isspace()) if empty_notdef else drawn != self._notdef
            self._has[char] = known
        return known


_FACES: dict[str | None, _Face | None] = {}
_DEFAULT_FACE = _Face(None)


def _face(path: str | None) -> _Face | None:
    # The face for a font file, or None when the file does not load as a scalable font (a
    # colour bitmap font loads at one size only, and is used for emoji only).
    if path not in _FACES:
        face: _Face | None = _Face(path) if path is not None else _DEFAULT_FACE
        try:
            assert face is not None
            face.font(32)
        except (OSError, ValueError):
            face = None
        _FACES[path] = face
    return _FACES[path]


class _Emoji:
    """The colour emoji font: each emoji cluster drawn once at its one size, then scaled."""

    def __init__(self, path: str) -> None:
        self.font = ImageFont.truetype(path, EMOJI_SIZE, layout_engine=_LAYOUT)
        ascent, descent = self.font.getmetrics()
        self.ascent = ascent
        self.height = ascent + descent
        self._images: dict[str, Image.Image | None] = {}
        self._notdef = self._draw(_NOTDEF_PROBE)

    def _draw(self, cluster: str) -> Image.Image | None:
        advance = round(self.font.getlength(cluster))
        if advance <= 0:
            return None
        image = Image.new("RGBA", (advance, self.height), (0, 0, 0, 0))
        ImageDraw.Draw(image).text(
            (0, self.ascent), cluster, font=self.font, embedded_color=True, anchor="ls"
        )
        return image if image.getbbox() else None

    def image(self, cluster: str) -> Image.Image | None:
        """`cluster` at the font's size, or None when the font has no such emoji."""
        if cluster not in self._images:
            image = self._draw(cluster)
            notdef = self._notdef
            if image is not None and notdef is not None and image.tobytes() == notdef.tobytes():
                image = None
            self._images[cluster] = image
        return self._images[cluster]


@functools.cache
def _emoji_font(path: str) -> _Emoji | None:
    try:
        return _Emoji(path)
    except (OSError, ValueError):
        return None


# -- clusters: what draws as one glyph -----------------------------------------------------

_ZWJ = "\u200d"
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
# Characters that may not start a line (CJK closing punctuation): kept with the one before.
_NO_LINE_START = set("、。，．・：；！？）」』】〕〉》〙〗ー…‥々〜,.!?:;)]}%")


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


def _clusters(text: str) -> Iterator[str]:
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
            elif text[j] == _ZWJ:
                j += 2 if j + 1 < n and not text[j + 1].isspace() else 1
            else:
                break
        yield text[i:j]
        i = j


def _is_emoji(cluster: str) -> bool:
    if "\ufe0e" in cluster:  # text presentation asked for
        return False
    if "\ufe0f" in cluster or "\u20e3" in cluster:
        return not cluster[0].isspace()
    code = ord(cluster[0])
    if code < 0x231A:  # the common case: no emoji below
        return False
    return any(low <= code <= high for low, high in _EMOJI_RANGES)


def _is_wide(cluster: str) -> bool:
    # CJK characters: a line may break between any two of them.
    return unicodedata.east_asian_width(cluster[0]) in ("W", "F") and not _is_emoji(cluster)


def _base(cluster: str) -> str:
    # The cluster without variation selectors, joiners and emoji modifiers (for a text font).
    return "".join(
        ch
        for ch in cluster
        if not (
            0xFE00 <= ord(ch) <= 0xFE0F
            or 0x1F3FB <= ord(ch) <= 0x1F3FF
            or 0xE0020 <= ord(ch) <= 0xE007F
            or ch == _ZWJ
            or ch == "\u20e3"
        )
    )


# -- layout --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """A run of text in one font, or (face None) one colour emoji."""

    text: str
    face: _Face | None


@dataclass
class _Token:
    """A word (or one CJK character): lines break between tokens only."""

    pieces: list[_Piece]
    space_before: bool
    hyphen: bool = False  # drawn with a '-' after it (a word broken across lines)
    break_after: bool = False  # the line ends after it
    widths: dict[int, float] = field(default_factory=dict)


@dataclass
class _Line:
    tokens: list[_Token]
    rtl: bool


class _Fonts:
    """The fonts one card draws with: a chain of text faces and maybe colour emoji."""

    def __init__(self, serif: bool) -> None:
        faces = [_face(path) for path in text_font_paths(serif)]
        self.chain = [face for face in faces if face is not None] + [_DEFAULT_FACE]
        self.primary = self.chain[0]
        path = emoji_font_path()
        self.emoji = _emoji_font(path) if path else None
        self.ellipsis = "…" if self.primary.has("…") else "..."
        self._widths: dict[tuple[str, int, int], float] = {}  # the same word, measured once

    def text_face(self, char: str) -> _Face | None:
        for face in self.chain:
            if face.has(char):
                return face
        path = system_font_for(char) if not char.isspace() else None
        return _face(path) if path else None

    def resolve(self, cluster: str) -> _Piece | None:
        """How `cluster` draws: as a colour emoji, in the first font that has it, or (None)
        not at all: a glyph no font has is left out, never drawn as a box."""
        if self.emoji is not None and _is_emoji(cluster) and self.emoji.image(cluster):
            return _Piece(cluster, None)
        text = _base(cluster) if _is_emoji(cluster) or not _RAQM else cluster
        if not text:
            return None
        face = self.text_face(text[0])
        if face is None:
            return None
        # Marks the face lacks (rare) are left out too.
        kept = text[0] + "".join(ch for ch in text[1:] if ch in (_ZWJ, "\u200c") or face.has(ch))
        return _Piece(kept, face)

    def piece_width(self, piece: _Piece, size: int) -> float:
        if piece.face is None:
            assert self.emoji is not None
            image = self.emoji.image(piece.text)
            return 0.0 if image is None else image.width * size / self.emoji.height
        key = (piece.text, id(piece.face), size)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = piece.face.font(size).getlength(piece.text)
        return width

    def token_width(self, token: _Token, size: int) -> float:
        width = token.widths.get(size)
        if width is None:
            width = sum(self.piece_width(piece, size) for piece in _line_pieces([token], self))
            token.widths[size] = width
        return width

    def space(self, size: int) -> float:
        return self.primary.font(size).getlength(" ")


def _merge(pieces: Sequence[_Piece]) -> list[_Piece]:
    # Adjacent text pieces in the same font become one run (shaped and measured together).
    merged: list[_Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last is not None and piece.face is not None and last.face is piece.face:
            merged[-1] = _Piece(last.text + piece.text, piece.face)
        else:
            merged.append(piece)
    return merged


def _line_pieces(tokens: Sequence[_Token], fonts: _Fonts) -> list[_Piece]:
    pieces: list[_Piece] = []
    for number, token in enumerate(tokens):
        if number and token.space_before:
            before = pieces[-1].face if pieces and pieces[-1].face is not None else fonts.primary
            pieces.append(_Piece(" ", before))
        pieces.extend(token.pieces)
        if token.hyphen:
            last = token.pieces[-1].face if token.pieces else None
            pieces.append(
                _Piece("-", last if last is not None and last.has("-") else fonts.primary)
            )
    return _merge(pieces)


def _rtl(paragraph: str) -> bool:
    for char in paragraph:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _tokens(paragraph: str, fonts: _Fonts) -> list[_Token]:
    tokens: list[_Token] = []
    pending: list[_Piece] = []
    gap = False

    def flush() -> None:
        nonlocal gap
        if pending:
            tokens.append(_Token(_merge(pending), space_before=gap and bool(tokens)))
            pending.clear()
            gap = False

    for cluster in _clusters(paragraph):
        if cluster.isspace():
            flush()
            gap = True
            continue
        piece = fonts.resolve(cluster)
        if piece is None:
            continue
        if cluster in _NO_LINE_START and not pending and tokens and not gap:
            tokens[-1].pieces = _merge([*tokens[-1].pieces, piece])
            tokens[-1].widths.clear()
            continue
        if _is_wide(cluster) and cluster not in _NO_LINE_START:
            flush()
            pending.append(piece)
            flush()
            continue
        pending.append(piece)
    flush()
    return tokens


def _line_width(tokens: Sequence[_Token], fonts: _Fonts, size: int) -> float:
    width = sum(fonts.token_width(token, size) for token in tokens)
    spaces = sum(1 for token in tokens[1:] if token.space_before)
    return width + spaces * fonts.space(size)


def _greedy(
    paragraphs: Sequence[tuple[list[_Token], bool]], fonts: _Fonts, size: int, limit: float
) -> list[_Line]:
    """Word wrap: each line takes as many tokens as fit in `limit` pixels."""
    lines: list[_Line] = []
    space = fonts.space(size)
    for tokens, rtl in paragraphs:
        line: list[_Token] = []
        width = 0.0
        for token in tokens:
            token_width = fonts.token_width(token, size)
            if line and not line[-1].break_after:
                extra = (space if token.space_before else 0.0) + token_width
                if width + extra <= limit:
                    line.append(token)
                    width += extra
                    continue
            if line:
                lines.append(_Line(line, rtl))
            line, width = [token], token_width
        lines.append(_Line(line, rtl))
    return lines


def _balanced(
    paragraphs: Sequence[tuple[list[_Token], bool]], fonts: _Fonts, size: int, limit: float
) -> list[_Line]:
    """The greedy wrap's number of lines at the narrowest width that still gives it: lines
    of similar length (no lone word on the last line when it can be avoided)."""
    count = len(_greedy(paragraphs, fonts, size, limit))
    widest = max(
        (fonts.token_width(token, size) for tokens, _ in paragraphs for token in tokens),
        default=0.0,
    )
    low, high = int(widest) + 1, int(limit)
    while low < high:
        middle = (low + high) // 2
        if len(_greedy(paragraphs, fonts, size, middle)) <= count:
            high = middle
        else:
            low = middle + 1
    return _greedy(paragraphs, fonts, size, max(low, widest))


def _units(token: _Token) -> list[_Piece]:
    # A token as one piece per cluster: where a word may be broken.
    units: list[_Piece] = []
    for piece in token.pieces:
        if piece.face is None:
            units.append(piece)
        else:
            units.extend(_Piece(cluster, piece.face) for cluster in _clusters(piece.text))
    return units


def _word_char(piece: _Piece) -> bool:
    return piece.face is not None and piece.text[:1].isalnum()


def _split(units: list[_Piece], fonts: _Fonts, size: int, limit: float) -> list[list[_Piece]]:
    # Greedy cut of one long word into parts no wider than `limit` (a '-' included).
    parts: list[list[_Piece]] = []
    start = 0
    while start < len(units):
        low, high = start + 1, len(units)
        while low < high:  # the longest part that fits: binary search
            middle = (low + high + 1) // 2
            hyphen = middle < len(units) and _word_char(units[middle - 1])
            probe = _Token(_merge(units[start:middle]), False, hyphen=hyphen)
            if fonts.token_width(probe, size) <= limit:
                low = middle
            else:
                high = middle - 1
        parts.append(units[start:low])
        start = low
    return parts


def _hyphenate(token: _Token, fonts: _Fonts, size: int, limit: float) -> list[_Token]:
    """A word too wide for a line, broken into parts of similar width, each but the last
    ending the line with a '-' (between letters)."""
    units = _units(token)
    parts = _split(units, fonts, size, limit)
    low, high = int(limit / max(1, len(parts))), int(limit)
    while low < high:  # the narrowest width that needs no more parts: even parts
        middle = (low + high) // 2
        if len(_split(units, fonts, size, middle)) <= len(parts):
            high = middle
        else:
            low = middle + 1
    parts = _split(units, fonts, size, low)
    tokens = []
    for number, part in enumerate(parts):
        last = number == len(parts) - 1
        tokens.append(
            _Token(
                _merge(part),
                space_before=token.space_before if number == 0 else False,
                hyphen=not last and _word_char(part[-1]) and _word_char(parts[number + 1][0]),
                break_after=not last or token.break_after,
            )
        )
    return tokens


def _ellipsize(tokens: list[_Token], fonts: _Fonts, size: int, limit: float) -> list[_Token]:
    """`tokens` shortened to end in '…' within `limit` pixels: whole words dropped first,
    then characters of the first word when even that is too wide."""
    ellipsis = _Token([_Piece(fonts.ellipsis, fonts.primary)], space_before=False)
    tokens = list(tokens)
    if tokens:
        tokens[-1] = _Token(tokens[-1].pieces, tokens[-1].space_before)  # no hyphen before '…'
    while tokens:
        last = tokens[-1]
        trimmed = _units(last)
        while trimmed and trimmed[-1].face is not None and trimmed[-1].text in ",.;:-–—":
            trimmed.pop()  # no 'word,…'
        if trimmed and len(trimmed) < len(_units(last)):
            tokens[-1] = _Token(_merge(trimmed), last.space_before)
        if _line_width([*tokens, ellipsis], fonts, size) <= limit:
            return [*tokens, ellipsis]
        if len(tokens) > 1:
            tokens.pop()
            continue
        units = _units(tokens[0])
        if len(units) <= 1:
            break
        tokens[0] = _Token(_merge(units[:-1]), tokens[0].space_before)
    return [ellipsis]


# -- drawing -------------------------------------------------------------------------------

_LINE_HEIGHT = 1.2  # line spacing of the headline, in ems
_INK_TOP = 1.3  # room above a baseline (accents, emoji), in ems
_INK_BOTTOM = 0.6  # room below it (descenders)


def _rgb(colour: str) -> tuple[int, int, int]:
    red, green, blue = ImageColor.getrgb(colour)[:3]
    return red, green, blue


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _readable(
    preferred: tuple[int, int, int], on: tuple[int, int, int], need: float
) -> tuple[int, int, int]:
    # `preferred` if it reads on `on`, else near-white or near-black, whichever reads better.
    if _contrast(preferred, on) >= need:
        return preferred
    return max(((248, 250, 252), (17, 24, 39)), key=lambda colour: _contrast(colour, on))


def _gradient(width: int, height: int, top: str, bottom: str) -> Image.Image:
    if _rgb(top) == _rgb(bottom):
        return Image.new("RGB", (width, height), _rgb(top))
    ramp = Image.linear_gradient("L").resize((width, height), Image.Resampling.BILINEAR)
    return Image.composite(
        Image.new("RGB", (width, height), _rgb(bottom)),
        Image.new("RGB", (width, height), _rgb(top)),
        ramp,
    )


def _draw_lines(
    lines: Sequence[_Line],
    fonts: _Fonts,
    size: int,
    line_height: int,
    block_width: int,
    colour: tuple[int, int, int],
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
        pieces = _line_pieces(line.tokens, fonts)
        widths = [fonts.piece_width(piece, size) for piece in pieces]
        x = width / 2 - sum(widths) / 2
        order = list(zip(pieces, widths, strict=True))
        for piece, piece_width in reversed(order) if line.rtl else order:
            if piece.face is None:
                assert fonts.emoji is not None
                image = fonts.emoji.image(piece.text)
                if image is not None:
                    scale = size / fonts.emoji.height
                    scaled = image.resize(
                        (max(1, round(image.width * scale)), max(1, size)),
                        Image.Resampling.LANCZOS,
                    )
                    emoji.append((scaled, round(x), baseline - round(fonts.emoji.ascent * scale)))
            else:
                text = piece.text
                direction = ("rtl" if line.rtl else "ltr") if _RAQM else None
                if line.rtl and not _RAQM:
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


_HAIR = "\u200a"


def _capitals(text: str) -> str:
    # Upper case; Greek capitals drop their accents (ΕΛΛΗΝΙΚΑ, not ΕΛΛΗΝΙΚΆ), as Greek
    # typesetting does.
    def plain(char: str) -> str:
        if not 0x0370 <= ord(char) <= 0x03FF:
            return char
        letters = unicodedata.normalize("NFD", char)
        return "".join(c for c in letters if unicodedata.category(c) != "Mn")

    return "".join(plain(char) for char in text.upper())


def _one_line(
    text: str, fonts: _Fonts, size: int, limit: float, kicker: bool = False
) -> list[_Line]:
    """`text` on one line, cut with '…' to fit `limit`. A `kicker` (the header) in Latin,
    Greek or Cyrillic is set in capitals, letter-spaced (scripts that join their letters, and
    those without capitals, are left as they are)."""
    paragraph = " ".join(clean_text(text).split())
    kicker = kicker and all(ord(char) < 0x0530 for char in paragraph if char.isalpha())
    if kicker:
        paragraph = _capitals(paragraph)
    tokens = _tokens(paragraph, fonts)
    if kicker:
        for token in tokens:
            token.pieces = [
                _Piece(_HAIR.join(_clusters(piece.text)), piece.face)
                if piece.face is not None and piece.face.has(_HAIR)
                else piece
                for piece in token.pieces
            ]
    if _line_width(tokens, fonts, size) > limit:
        tokens = _ellipsize(tokens, fonts, size, limit)
    return [_Line(tokens, _rtl(paragraph))]


_MAX_CHARS = 1000  # more than fits at the floor size: the rest would be cut anyway
_LOCK = threading.Lock()  # fonts and their caches are shared: one card at a time


def draw_card(spec: CardSpec) -> Card:
    """Draw the card `spec` describes (the layout is in the module's docstring). Thread-safe:
    cards drawn from several threads are drawn one at a time (each takes milliseconds)."""
    with _LOCK:
        fonts = _Fonts(spec.style.serif)
        background, text_rgb, region = _draw_background(spec, fonts)
        headline = _draw_headline(spec, fonts, text_rgb, region)
    return Card(background=background, headline=headline)


def _colours(spec: CardSpec) -> tuple[Image.Image, tuple[int, int, int], tuple[int, int, int]]:
    # The background image, the headline's colour and the accent. Overriding the background
    # keeps the text readable on it: a style colour that would vanish gives way to near-white
    # or near-black.
    width, height, style = spec.width, spec.height, spec.style
    if spec.background:
        base = _rgb(spec.background)
        background = Image.new("RGB", (width, height), base)
    else:
        (r1, g1, b1), (r2, g2, b2) = _rgb(style.top), _rgb(style.bottom)
        base = ((r1 + r2) // 2, (g1 + g2) // 2, (b1 + b2) // 2)
        background = _gradient(width, height, style.top, style.bottom)
    text = _rgb(spec.text_color) if spec.text_color else _readable(_rgb(style.text), base, 3.0)
    accent = _readable(_rgb(style.accent), base, 2.5) if spec.background else _rgb(style.accent)
    return background, text, accent


def _draw_background(
    spec: CardSpec, fonts: _Fonts
) -> tuple[Image.Image, tuple[int, int, int], tuple[int, int]]:
    """The background layer: gradient, header, rule and counter, all at the series size.
    Returns it, the headline's colour, and the band left for the headline (top, bottom)."""
    background, text_rgb, accent = _colours(spec)
    short = min(spec.width, spec.height)
    left, top, right, bottom = spec.safe.box(spec.width, spec.height)
    centre = (left + right) / 2
    small = _series_size(spec.width, spec.height)
    inner = right - left - 2 * round(short * 0.02)

    def paste(lines: list[_Line], baseline: int) -> None:
        block = _draw_lines(lines, fonts, small, 0, inner, accent)
        position = (round(centre - block.width / 2), baseline - round(small * _INK_TOP))
        background.paste(block, position, block)

    header_baseline = top + round(small * 0.8)  # capitals' tops at the safe area's top
    paste(_one_line(spec.batch_name, fonts, small, inner, kicker=True), header_baseline)
    rule_y = header_baseline + round(small * 0.75)
    rule_h = max(2, round(short * 0.004))
    rule_w = max(2, round(short * 0.07))
    rule_x = round(centre - rule_w / 2)
    ImageDraw.Draw(background).rectangle(
        (rule_x, rule_y, rule_x + rule_w - 1, rule_y + rule_h - 1), fill=accent
    )
    counter = f"{spec.index} / {spec.total}" if spec.total > 0 else str(spec.index)
    counter_baseline = bottom - round(small * 0.3)
    paste(_one_line(counter, fonts, small, inner), counter_baseline)
    gap = round(short * 0.05)
    return (
        background,
        text_rgb,
        (rule_y + rule_h + gap, counter_baseline - round(small * 0.8) - gap),
    )


def _sizes(short: int) -> tuple[list[int], int, int]:
    # The headline sizes to try, largest first: from a generous start down to the floor.
    start, floor = round(short * 0.11), max(1, round(short * 0.045))
    sizes, size = [], start
    while size > floor:
        sizes.append(size)
        size = min(size - 1, round(size * 0.94))
    return [*sizes, floor], start, floor


def _layout(
    paragraphs: list[tuple[list[_Token], bool]],
    fonts: _Fonts,
    box_width: int,
    box_height: int,
    short: int,
) -> tuple[list[_Line], int]:
    """The headline's lines and size: the largest size at which every word fits a line and
    all lines fit the box, in balanced lines; at the floor size, whatever does not fit is cut
    with '…'."""
    sizes, start, floor = _sizes(short)
    # Words too long for a line even at the floor are broken (hyphenated) at whatever size is
    # chosen, from the middle of the range down; other words never are: the size shrinks.
    giants = {
        id(token)
        for tokens, _ in paragraphs
        for token in tokens
        if fonts.token_width(token, floor) > box_width
    }
    # Widths grow with the size: a size the floor's widths say cannot fit is skipped
    # unmeasured (with a margin for hinting), so a long text is measured a few times only.
    floor_total = sum(_line_width(tokens, fonts, floor) for tokens, _ in paragraphs)
    floor_widest = max(
        (
            fonts.token_width(token, floor)
            for tokens, _ in paragraphs
            for token in tokens
            if id(token) not in giants
        ),
        default=0.0,
    )
    for size in sizes:
        if giants and size > (start + floor) / 2:
            continue
        line_height = round(size * _LINE_HEIGHT)
        fit = max(1, int((box_height - size * 1.1) // line_height) + 1)
        scale = size / floor * 0.95
        if size != floor and max(floor_total / fit, floor_widest) * scale > box_width:
            continue
        if any(
            id(token) not in giants and fonts.token_width(token, size) > box_width
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
                        _hyphenate(token, fonts, size, box_width)
                        if id(token) in giants
                        else [token]
                    )
                ],
                rtl,
            )
            for tokens, rtl in paragraphs
        ]
        lines = _greedy(laid, fonts, size, box_width)
        if len(lines) <= fit:
            return _balanced(laid, fonts, size, box_width), size
        if size == floor:  # still too long at the smallest size: cut, ending in '…'
            lines = lines[:fit]
            last = lines[-1]
            lines[-1] = _Line(_ellipsize(last.tokens, fonts, size, box_width), last.rtl)
            return lines, size
    return [], floor  # not reached: the floor always returns


def _draw_headline(
    spec: CardSpec, fonts: _Fonts, colour: tuple[int, int, int], region: tuple[int, int]
) -> Image.Image:
    """The headline layer: the item's text, centred in the safe area's width and in the band
    between header and counter; never outside the safe area."""
    width, height = spec.width, spec.height
    short = min(width, height)
    left, top, right, bottom = spec.safe.box(width, height)
    region_top, region_bottom = region
    box_width = right - left - 2 * round(short * 0.03)
    layer = Image.new("RGBA", (width, height), (*colour, 0))
    text = clean_text(spec.content)[:_MAX_CHARS]
    paragraphs = [(_tokens(p, fonts), _rtl(p)) for p in text.split("\n")]
    if not any(tokens for tokens, _ in paragraphs):
        return layer
    lines, size = _layout(paragraphs, fonts, box_width, region_bottom - region_top, short)
    block = _draw_lines(lines, fonts, size, round(size * _LINE_HEIGHT), box_width, colour)
    ink = block.getchannel("A").getbbox()
    if not ink:
        return layer
    block = block.crop(ink)
    if block.width > right - left or block.height > bottom - top:  # never under the UI
        block = block.crop((0, 0, min(block.width, right - left), min(block.height, bottom - top)))
    x = round((left + right) / 2 - block.width / 2)
    y = round((region_top + region_bottom) / 2 - block.height / 2)
    x = min(max(x, left), right - block.width)
    y = min(max(y, top), bottom - block.height)
    layer.paste(block, (x, y))
    return layer
