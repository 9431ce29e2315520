"""The worker pool that runs items (anyio), and what it reports."""

from .events import EngineEvent, ItemFinished, ItemProgress, ItemStarted
from .runner import Engine

__all__ = ["Engine", "EngineEvent", "ItemFinished", "ItemProgress", "ItemStarted"]
