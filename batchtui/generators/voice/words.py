"""A spoken word and when it is said: what a voice gives and what captions show."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """One spoken word: its text and where it starts and ends in the audio (seconds)."""

    text: str
    start: float
    end: float
    spaced: bool = True
    """Whether a space comes before it in the text (not in '3,000', said as '3' ',000')."""
