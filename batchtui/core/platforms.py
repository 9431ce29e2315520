"""Platform presets: the frame size, the longest video each platform accepts, and where its
app draws over the video (the safe area a card keeps its text inside)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SafeArea:
    """The margins of a frame that a platform's app covers with its own UI (captions, the
    like/comment/share buttons, the progress bar), as fractions of the frame's height (`top`,
    `bottom`) and width (`left`, `right`). Text drawn inside them stays readable."""

    top: float
    bottom: float
    left: float
    right: float

    def __post_init__(self) -> None:
        for name in ("top", "bottom", "left", "right"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"safe area {name} must be a fraction in [0, 1)")
        if self.top + self.bottom >= 1 or self.left + self.right >= 1:
            raise ValueError("safe area margins leave no room in the frame")

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The safe area of a `width` x `height` frame in pixels: (left, top, right, bottom)."""
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1 - self.right)),
            round(height * (1 - self.bottom)),
        )


UNIFORM_SAFE_AREA = SafeArea(0.06, 0.06, 0.06, 0.06)
"""A plain margin all round: for landscape video and any platform without overlays."""
VERTICAL_SAFE_AREA = SafeArea(top=0.14, bottom=0.22, left=0.06, right=0.15)
"""Shorts and Reels: the title/search bar on top, caption and channel at the bottom, the
like/comment/share buttons down the right."""
TIKTOK_SAFE_AREA = SafeArea(top=0.14, bottom=0.25, left=0.06, right=0.15)
"""TikTok: as for Shorts, with a taller caption block at the bottom."""


@dataclass(frozen=True)
class Platform:
    """One publishing target: resolution, maximum duration in seconds, and the safe area its
    app leaves clear of overlays."""

    key: str
    label: str
    width: int
    height: int
    max_duration: float
    safe_area: SafeArea = UNIFORM_SAFE_AREA


PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform("youtube_shorts", "YouTube Shorts", 1080, 1920, 60.0, VERTICAL_SAFE_AREA),
        Platform("tiktok", "TikTok", 1080, 1920, 600.0, TIKTOK_SAFE_AREA),
        Platform("instagram_reels", "Instagram Reels", 1080, 1920, 90.0, VERTICAL_SAFE_AREA),
        Platform("youtube", "YouTube", 1920, 1080, 43200.0, UNIFORM_SAFE_AREA),
    )
}

DEFAULT_PLATFORM = "youtube_shorts"
