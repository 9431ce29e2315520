"""Platform presets: the frame size and the longest video each platform accepts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    """One publishing target: resolution and maximum duration in seconds."""

    key: str
    label: str
    width: int
    height: int
    max_duration: float


PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform("youtube_shorts", "YouTube Shorts", 1080, 1920, 60.0),
        Platform("tiktok", "TikTok", 1080, 1920, 600.0),
        Platform("instagram_reels", "Instagram Reels", 1080, 1920, 90.0),
        Platform("youtube", "YouTube", 1920, 1080, 43200.0),
    )
}

DEFAULT_PLATFORM = "youtube_shorts"
