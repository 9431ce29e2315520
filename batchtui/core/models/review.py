"""A verdict on an output, and an earlier take kept after one was rejected, as stored on an
item (`core.review` has the rules)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ..review import Verdict


class Review(BaseModel):
    """A verdict on one output of an item."""

    model_config = ConfigDict(extra="ignore")

    verdict: Verdict
    note: str | None = None
    """Why (one line; a rejection's reason, say)."""
    at: datetime
    output: str | None = None
    """The output it was given on (a new output is to review again)."""


class Take(BaseModel):
    """An earlier output of an item, kept after it was rejected and made again."""

    model_config = ConfigDict(extra="ignore")

    take: int
    output: str
    """Where it is kept (`NN-topic.v1.mp4`)."""
    review: Review | None = None
    gone: bool = False
    """Its file was let go (a later take was approved)."""
