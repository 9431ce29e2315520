"""Looking at what was made: an item's output approved, or rejected with a note, and made
again as a new take.

A succeeded item is *to review* until someone approves or rejects its output. A rejected one
is made again by `retry --rejected`: its output is kept as `NN-topic.v1.mp4` (its first take),
the item gets a new take (a new `{seed}`, so a seeded generator makes something else), and the
new output is to review. Approving a take lets the kept, rejected takes go. A review belongs
to the item's output, so a new output (a rerun, a retake) is to review again.

Reviews are the people's, never the runner's: a runner writing a batch keeps whatever reviews
were given meanwhile (`runners.recorder`). No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING

from .errors import ValidationError
from .limits import MAX_NOTE_CHARS
from .states import ItemStatus
from .textsafe import not_utf8, one_line

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .models import BatchItem


class Verdict(StrEnum):
    """What a person said of an output."""

    APPROVED = "approved"
    REJECTED = "rejected"


VERDICT_WORDS = {"approve": Verdict.APPROVED, "reject": Verdict.REJECTED}
"""The verbs people type (`review ID 3 approve`), to their verdicts."""


def check_note(note: str | None) -> str | None:
    """A review note as stored: one line, at most `MAX_NOTE_CHARS`; None for none.
    `ValidationError` (one line) for a longer one."""
    if note is None:
        return None
    if not_utf8(note) is not None:  # bytes that are not UTF-8, passed on by a command line
        raise ValidationError("a review note must be UTF-8 text")
    text = one_line(note).strip()
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationError(f"a review note holds at most {MAX_NOTE_CHARS} characters")
    return text or None


def review_state(item: BatchItem) -> str | None:
    """'approved', 'rejected' or 'to_review' for an item with an output to look at; None for
    one with nothing to review (not succeeded). A verdict holds for the output it was given
    on: one made since (another name, or the same name finished later) is to review."""
    review = item.review
    return _state(
        item.status is ItemStatus.SUCCEEDED,
        item.output_path,
        review.verdict.value if review else None,
        review.output if review else None,
        review is not None and item.finished_at is not None and item.finished_at > review.at,
    )


def stored_review_state(item: dict) -> str | None:
    """`review_state` of an item as stored (a raw document's item: what a list reads without
    validating every batch); the same rule."""
    review = item.get("review")
    if not isinstance(review, dict):
        review = {}
    return _state(
        item.get("status") == ItemStatus.SUCCEEDED.value,
        item.get("output_path"),
        review.get("verdict"),
        review.get("output"),
        _later(item.get("finished_at"), review.get("at")),
    )


def _state(
    succeeded: bool, output: object, verdict: object, given_on: object, made_since: bool
) -> str | None:
    """The one rule of `review_state`, on plain values."""
    if not succeeded or not output:
        return None
    if verdict not in ("approved", "rejected"):  # none given
        return "to_review"
    if (given_on is not None and given_on != output) or made_since:
        return "to_review"  # a new output (`retry --item`: the same name, finished later)
    return str(verdict)


def _later(finished: object, reviewed: object) -> bool:
    """Whether a stored output's end is after its stored verdict (both ISO times)."""
    if not isinstance(finished, str) or not isinstance(reviewed, str):
        return False
    try:
        return datetime.fromisoformat(finished) > datetime.fromisoformat(reviewed)
    except (ValueError, TypeError):  # unreadable, or one without a zone: no claim
        return False


def reviewable_problem(item: BatchItem) -> str | None:
    """Why the item's output cannot be reviewed now (None: it can)."""
    if item.status is not ItemStatus.SUCCEEDED:
        return (
            f"item {item.label} is {item.status.value}: only a succeeded item's output is reviewed"
        )
    if not item.output_path:
        return f"item {item.label} has no output to review"
    return None


@dataclass(frozen=True)
class ReviewCounts:
    """How a batch's outputs stand: approved, rejected, to review."""

    approved: int = 0
    rejected: int = 0
    to_review: int = 0

    @property
    def any(self) -> bool:
        """Whether there is an output to speak of."""
        return bool(self.approved or self.rejected or self.to_review)

    def words(self) -> str:
        """'7 approved · 2 rejected · 1 to review' ('' when there is no output yet)."""
        if not self.any:
            return ""
        return f"{self.approved} approved · {self.rejected} rejected · {self.to_review} to review"


def review_counts(items: Iterable[BatchItem]) -> ReviewCounts:
    """The review counts of `items`."""
    counts = {"approved": 0, "rejected": 0, "to_review": 0}
    for item in items:
        state = review_state(item)
        if state is not None:
            counts[state] += 1
    return ReviewCounts(**counts)


def kept_name(output: str, take: int, *, variant: int | None) -> str:
    """Where take `take` of an output is kept: `03-topic.v1.mp4` beside `03-topic.mp4`; for a
    variant's (`03-topic.v2.mp4`, whose `.v2` is its variant) `03-topic.v2.take1.mp4`."""
    path = PurePath(output)
    suffix = path.suffix
    stem = path.name[: -len(suffix)] if suffix else path.name
    mark = f".take{take}" if variant is not None else f".v{take}"
    return str(path.with_name(f"{stem}{mark}{suffix}"))


def take_seed(seed: int, take: int, seed_range: int) -> int:
    """The seed of take `take` of an item whose first take's seed is `seed`: the same for the
    first take (re-makes stay stable), another for each later one."""
    return seed if take <= 1 else (seed + (take - 1) * 7919) % seed_range


def begin_take(item: BatchItem) -> tuple[str, str]:
    """Make the rejected `item` ready for its next take: its output is recorded as a kept take
    (with its review) and it becomes the next take, to review once made. Returns (where the
    output is, where it is to be kept); moving the file is the caller's."""
    assert item.output_path is not None and item.review is not None
    from .models.review import Take  # (pydantic: not on the UI's first-frame path)

    number = item.take or 1
    kept = kept_name(item.output_path, number, variant=item.variant)
    item.takes = [*(item.takes or []), Take(take=number, output=kept, review=item.review)]
    item.take = number + 1
    item.review = None
    return item.output_path, kept


def rejected_items(items: Iterable[BatchItem]) -> list[BatchItem]:
    """The items whose output was rejected (what `retry --rejected` makes again)."""
    return [item for item in items if review_state(item) == "rejected"]
