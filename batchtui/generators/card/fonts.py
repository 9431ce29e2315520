"""Finding and loading the fonts a card draws with.

`Fonts` is the one value a caller builds and hands to `draw_card`: which font files to use
(the style's family, then fonts for the scripts it lacks), the colour emoji font, and whether
fontconfig may be asked for a character none of them has. It keeps what it loads (each face
at each size, which characters each has, each emoji drawn once), so a caller that keeps one
`Fonts` for a series of cards loads and probes each font once. `Fonts.installed()` finds the
fonts on this machine; tests build one from the files they want.

Finding is cached per process (`functools.cache` on functions of the installed files);
loaded faces belong to their `Fonts`, never to this module.
"""

from __future__ import annotations

import bisect
import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont, features

RAQM = features.check("raqm")
"""Whether Pillow has libraqm: Arabic and Hebrew are then shaped and laid out right to left."""
LAYOUT = ImageFont.Layout.RAQM if RAQM else ImageFont.Layout.BASIC
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
NOTDEF_PROBE = "\U0010fffd"
"""A private-use code point no text font maps: it draws .notdef (the missing-glyph box)."""


# -- finding: which files ------------------------------------------------------------------


@functools.cache
def _installed_fonts() -> Mapping[str, str]:
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
    return MappingProxyType(found)


def text_font_paths(serif: bool) -> list[str]:
    """The font files a headline draws with, in order of preference: the style's family
    (Noto, DejaVu, Liberation, FreeFont: whichever is installed), then fonts for the scripts
    it lacks (CJK, Arabic, Hebrew). Pillow's bundled font follows them all."""
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
def _fontconfig_fonts() -> tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]:
    # Every font fontconfig knows, bold ones first, with the code point ranges it covers
    # (one `fc-list` call: asking once per missing character would start a process each).
    program = shutil.which("fc-list")
    if program is None:
        return ()
    try:
        listing = subprocess.run(
            [program, "--format", "%{file}\t%{style[0]}\t%{charset}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
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
        fonts.append(("bold" not in style.lower(), path, tuple(lows), tuple(highs)))
    fonts.sort(key=lambda font: (font[0], font[1]))
    return tuple((path, lows, highs) for _, path, lows, highs in fonts)


def fontconfig_candidates(char: str) -> Iterator[str]:
    """The installed fonts fontconfig says cover `char`, bold ones first (none without
    fontconfig)."""
    code = ord(char)
    for path, lows, highs in _fontconfig_fonts():
        at = bisect.bisect_right(lows, code) - 1
        if at >= 0 and code <= highs[at]:
            yield path


# -- loading: faces and the colour emoji -----------------------------------------------------


class Face:
    """One font file at any size, with a cache of which characters it has."""

    def __init__(self, path: str | None, index: int = 0) -> None:
        self.path = path
        self.index = index
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self._has: dict[str, bool] = {}
        self._notdef: tuple[tuple[int, int], bytes] | None = None
        self._probe: ImageFont.FreeTypeFont | None = None
        self._codes: frozenset[int] | None = None
        self._cmap_read = False

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        """The face at `size` pixels (loaded once per size)."""
        font = self._fonts.get(size)
        if font is None:
            if self.path is None:  # Pillow's bundled font: there on any machine
                loaded = ImageFont.load_default(size)
                assert isinstance(loaded, ImageFont.FreeTypeFont)
                font = loaded
            else:
                font = ImageFont.truetype(self.path, size, index=self.index, layout_engine=LAYOUT)
            self._fonts[size] = font
        return font

    def _mask(self, text: str) -> tuple[tuple[int, int], bytes]:
        if self._probe is None:
            self._probe = self.font(32).font_variant(layout_engine=ImageFont.Layout.BASIC)
        mask = self._probe.getmask(text)
        return mask.size, bytes(mask)

    def _cmap(self) -> frozenset[int] | None:
        # The code points the font file maps to glyphs (its cmap table, read by fontTools),
        # read once; None for Pillow's bundled font (no file to read), a file fontTools
        # cannot read, or an empty table: such a font is asked by drawing instead.
        if not self._cmap_read:
            self._cmap_read = True
            if self.path is not None:
                try:
                    with TTFont(self.path, fontNumber=self.index, lazy=True) as font:
                        self._codes = frozenset(font.getBestCmap() or ()) or None
                except Exception:  # fontTools raises many kinds on a damaged file
                    self._codes = None
        return self._codes

    def has(self, char: str) -> bool:
        """Whether the font has a glyph for `char`: its cmap says so (a missing glyph would
        draw as .notdef, a box). A font without a readable cmap (Pillow's bundled font has
        no file) is asked by drawing: `char` has a glyph when it draws other than .notdef."""
        codes = self._cmap()
        if codes is not None:
            return ord(char) in codes
        known = self._has.get(char)
        if known is None:
            if self._notdef is None:
                self._notdef = self._mask(NOTDEF_PROBE)
            drawn = self._mask(char)
            empty_notdef = not any(self._notdef[1])
            # (A font whose .notdef is blank: only ink proves a glyph.)
            known = (any(drawn[1]) or char.isspace()) if empty_notdef else drawn != self._notdef
            self._has[char] = known
        return known


class ColourEmoji:
    """The colour emoji font: each emoji cluster drawn once at its one size, then scaled."""

    def __init__(self, path: str) -> None:
        self.font = ImageFont.truetype(path, EMOJI_SIZE, layout_engine=LAYOUT)
        ascent, descent = self.font.getmetrics()
        self.ascent = ascent
        self.height = ascent + descent
        self._images: dict[str, Image.Image | None] = {}
        self._notdef = self._draw(NOTDEF_PROBE)

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


class Fonts:
    """The fonts cards draw with, and everything loaded from them.

    `sans` and `serif` are the text font files in order of preference (a style picks one
    list; Pillow's bundled font follows either), `emoji` the colour emoji font (None: none),
    and `fallback` whether fontconfig may supply a font for a character none of them has.
    Build one (`Fonts.installed()` for this machine's) and pass it to every card of a series:
    fonts load once. Its caches are not thread-safe: hold `lock` while drawing with it
    (`draw_card` does)."""

    def __init__(
        self,
        sans: Sequence[str],
        serif: Sequence[str],
        emoji: str | None = None,
        fallback: bool = False,
    ) -> None:
        self.sans = tuple(sans)
        self.serif = tuple(serif)
        self.emoji_path = emoji
        self.fallback = fallback
        self.lock = threading.Lock()
        self.default = Face(None)
        """Pillow's bundled font: the end of every chain, there on any machine."""
        self._faces: dict[str, Face | None] = {}
        self._fallbacks: dict[str, Face | None] = {}
        self._emoji: ColourEmoji | None = None
        self._emoji_tried = False

    @classmethod
    def installed(cls) -> Fonts:
        """This machine's fonts: the known families found under the usual font folders, the
        colour emoji font (see `emoji_font_path`), and fontconfig for any other script."""
        return cls(text_font_paths(False), text_font_paths(True), emoji_font_path(), True)

    def face(self, path: str) -> Face | None:
        """The face of a font file, or None when the file does not load as a scalable font
        (a colour bitmap font loads at one size only, and is used for emoji only)."""
        if path not in self._faces:
            face = Face(path)
            try:
                face.font(32)
            except (OSError, ValueError):
                self._faces[path] = None
            else:
                self._faces[path] = face
        return self._faces[path]

    def chain(self, serif: bool) -> list[Face]:
        """The text faces a style draws with, in order, ending with Pillow's bundled font."""
        faces = [self.face(path) for path in (self.serif if serif else self.sans)]
        return [face for face in faces if face is not None] + [self.default]

    def emoji(self) -> ColourEmoji | None:
        """The colour emoji font, loaded on first use; None if there is none or it does not
        load (emoji then draw from a text font that has them, or are left out)."""
        if not self._emoji_tried:
            self._emoji_tried = True
            if self.emoji_path:
                try:
                    self._emoji = ColourEmoji(self.emoji_path)
                except (OSError, ValueError):
                    self._emoji = None
        return self._emoji

    def fallback_face(self, char: str) -> Face | None:
        """Another installed font with a glyph for `char`, found through fontconfig (bold
        preferred), for scripts the chain lacks; None if `fallback` is off or none has it."""
        if not self.fallback:
            return None
        if char not in self._fallbacks:
            found = None
            for path in fontconfig_candidates(char):
                face = self.face(path)
                if face is not None and face.has(char):
                    found = face
                    break
            self._fallbacks[char] = found
        return self._fallbacks[char]
