"""Title-card style presets: the colours (and type family) every card of a series shares.

Pure data: the titlecard generator (`generators/card/`) draws with these; the config names
one by its key (`BatchConfig.style`), so a batch of ten Shorts looks like one series.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """One look for a series of cards; colours are `#rrggbb`.

    `top` and `bottom` are the background gradient's ends (equal for a flat background),
    `text` colours the headline, `accent` the header (the batch name), its rule and the counter;
    `serif` picks a serif type family instead of a sans.
    """

    key: str
    label: str
    top: str
    bottom: str
    text: str
    accent: str
    serif: bool


STYLES: dict[str, Style] = {
    s.key: s
    for s in (
        Style("night", "Night", "#0f172a", "#312e81", "#f8fafc", "#fbbf24", serif=False),
        Style("sunrise", "Sunrise", "#ea580c", "#be185d", "#ffffff", "#fef3c7", serif=False),
        Style("paper", "Paper", "#faf7f0", "#ece3d0", "#1f2328", "#b91c1c", serif=True),
        Style("ocean", "Ocean", "#0f766e", "#1e3a8a", "#f0fdfa", "#67e8f9", serif=False),
        Style("mono", "Mono", "#1c1c1f", "#1c1c1f", "#ffffff", "#a1a1aa", serif=False),
    )
}
"""The built-in styles by key, in the order they are offered."""

DEFAULT_STYLE = "night"
"""The style of a batch whose config names none."""
