"""The data model: batches, items, their shared config and progress.

Everything here is plain pydantic; no I/O, no Textual. A status only ever changes through the
transition tables in `states.py`: assigning `status` checks the move (an illegal one raises
`TransitionError`), so no code path can skip the rules. What a user may do in which state is
`actions.py`'s one table.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TypeVar, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import limits
from .actions import ACTIONS, require
from .failures import RETRY_ON
from .platforms import DEFAULT_PLATFORM, PLATFORMS, Platform
from .run import Progress  # re-exported: the clients' name for it
from .run import progress as run_progress
from .states import (
    BATCH_TRANSITIONS,
    ENDED_BATCH,
    ITEM_TRANSITIONS,
    TERMINAL_ITEM,
    BatchStatus,
    ItemStatus,
    check_batch_transition,
    check_item_transition,
)


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


S = TypeVar("S", BatchStatus, ItemStatus)


def _checked_move(old: S, new: S, check: Callable[[S, S], None]) -> S:
    """`new`, once the table allows the move from `old` (staying put is no move)."""
    if new is not old:
        check(old, new)
    return new


ValidateMode = Literal["auto", "video", "nonempty", "exists"]
if TYPE_CHECKING:
    RetryOn = str
else:  # the words derived from the failure kinds, checked (and reported) as a Literal's
    RetryOn = Literal[RETRY_ON]
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "mkv", "webm", "m4v", "avi"})


_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@functools.lru_cache(maxsize=64)
def _check_colour(value: str) -> str:
    if _HEX_COLOUR.fullmatch(value):  # the common case, without loading Pillow to read a batch
        return value
    from PIL import ImageColor

    try:
        ImageColor.getrgb(value)
    except ValueError:
        raise ValueError(
            f"'{value}' is not a colour (use a name like 'navy' or '#rrggbb')"
        ) from None
    return value


def _utf8(value: str, what: str, hint: str = "") -> str:
    # A file name (or argument) with bytes that are not UTF-8 arrives with surrogate escapes:
    # JSON cannot store it, so it is refused here with a message instead of at the write.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise ValueError(f"{what} '{shown}' is not valid UTF-8{hint}") from None
    return value


class BatchConfig(BaseModel):
    """The one config every item of a batch is generated with; frozen (and hashed) at lock."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    platform: str = DEFAULT_PLATFORM
    generator: str = "titlecard"
    command: str | None = Field(default=None, description="argv template for the command generator")
    output_ext: str = Field(default="mp4", pattern=limits.OUTPUT_EXT_PATTERN)
    duration: float = Field(default=5.0, gt=0, le=limits.MAX_DURATION)
    fps: int = Field(default=30, ge=1, le=limits.MAX_FPS)
    style: str | None = Field(
        default=None,
        description="the titlecard's look: a style preset (night, sunrise, paper, ocean, mono)",
    )
    background: str | None = Field(
        default=None, description="a solid background colour instead of the style's gradient"
    )
    text_color: str | None = Field(
        default=None, description="the text colour (default: the style's)"
    )
    concurrency: int = Field(default=3, ge=limits.MIN_CONCURRENCY, le=limits.MAX_CONCURRENCY)
    max_items: int = Field(default=10, ge=1, le=limits.LARGEST_MAX_ITEMS)
    timeout: float = Field(default=600.0, gt=0, le=limits.MAX_TIMEOUT)
    output_dir: str = Field(default_factory=lambda: default_output_dir())
    workdir: str = Field(default_factory=os.getcwd, validate_default=True)
    validate_output: ValidateMode = "auto"
    retries: int = Field(
        default=0, ge=0, le=limits.MAX_RETRIES, description="automatic retries per item"
    )
    backoff: float = Field(
        default=5.0,
        ge=0,
        le=limits.MAX_BACKOFF,
        description="seconds before the first retry (then doubled)",
    )
    backoff_max: float = Field(default=300.0, ge=0, le=limits.LARGEST_BACKOFF_MAX)
    retry_on: list[RetryOn] = Field(
        default_factory=list, description="failures worth a retry (empty: any)"
    )
    max_failures: str | None = Field(
        default=None,
        pattern=limits.MAX_FAILURES_PATTERN,
        description="stop starting items once this many (N, or N% of the run) failed for good",
    )
    canary: bool = Field(default=False, description="run the first item alone first")

    @field_validator("retry_on")
    @classmethod
    def _unique_retry_on(cls, value: list[str]) -> list[str]:
        return sorted(set(value), key=RETRY_ON.index)

    @field_validator("max_failures")
    @classmethod
    def _percent(cls, value: str | None) -> str | None:
        if value is not None and value.endswith("%") and int(value[:-1]) > 100:
            raise ValueError("a percentage of at most 100%")
        return value

    def failure_limit(self, items: int) -> int | None:
        """How many items of a run of `items` may fail for good before no new one starts."""
        if self.max_failures is None:
            return None
        if self.max_failures.endswith("%"):
            return max(1, math.ceil(items * int(self.max_failures[:-1]) / 100))
        return int(self.max_failures)

    def retry_delay(self, retry: int, jitter: float) -> float:
        """Seconds before retry number `retry` (1-based): the backoff doubled each time, up
        to 25% longer by `jitter` (0..1) so retries of many items spread out, at most
        `backoff_max`."""
        base = self.backoff * 2 ** (retry - 1)
        return min(self.backoff_max, base * (1 + 0.25 * jitter))

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PLATFORMS:
            raise ValueError(f"unknown platform '{value}' (known: {', '.join(PLATFORMS)})")
        return value

    @field_validator("background", "text_color")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is None or not value.strip():  # '' clears an override: the style decides
            return None
        return _check_colour(value)

    @field_validator("style")
    @classmethod
    def _known_style(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from .styles import STYLES

        if value not in STYLES:
            raise ValueError(f"unknown style '{value}' (known: {', '.join(STYLES)})")
        return value

    @field_validator("output_dir", "workdir")
    @classmethod
    def _absolute(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        hint = (
            " (pass --workdir, or run from another folder)" if info.field_name == "workdir" else ""
        )
        _utf8(value, "folder", hint)
        return os.path.abspath(os.path.expanduser(value))

    @field_validator("command")
    @classmethod
    def _utf8_command(cls, value: str | None) -> str | None:
        return value if value is None else _utf8(value, "command")

    @field_validator("output_ext")
    @classmethod
    def _lower_ext(cls, value: str) -> str:
        return value.lower()

    @property
    def preset(self) -> Platform:
        """The platform preset this config targets."""
        return PLATFORMS[self.platform]

    @property
    def width(self) -> int:
        return self.preset.width

    @property
    def height(self) -> int:
        return self.preset.height

    def expects_video(self, ext: str | None = None) -> bool:
        """Whether an output with extension `ext` (default: the configured one) is probed for
        resolution and duration."""
        if self.validate_output == "auto":
            return (ext or self.output_ext).lower().lstrip(".") in VIDEO_EXTENSIONS
        return self.validate_output == "video"

    def render_fields(self) -> dict[str, object]:
        """The settings that decide what an output looks like (what the lock hash covers)."""
        return {
            "platform": self.platform,
            "width": self.width,
            "height": self.height,
            "generator": self.generator,
            "command": self.command,
            "output_ext": self.output_ext,
            "duration": self.duration,
            "fps": self.fps,
            "background": self.background,
            "text_color": self.text_color,
            "validate_output": self.validate_output,
        } | ({"style": self.style} if self.style is not None else {})
        # (`style` is new: a config without one hashes as it did before it existed.)

    def fingerprint(self) -> str:
        """A short stable hash of the render settings: equal hashes, identically made outputs."""
        blob = json.dumps(self.render_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_output_dir() -> str:
    """Where outputs go unless a batch says otherwise (`BATCHTUI_OUTPUT` overrides)."""
    env = os.environ.get("BATCHTUI_OUTPUT")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    import platformdirs

    return os.path.join(platformdirs.user_videos_dir(), "batchtui")


class AttemptRecord(BaseModel):
    """One ended attempt of an item, as its history keeps it."""

    model_config = ConfigDict(extra="ignore")

    attempt: int
    status: ItemStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    worker: str | None = None
    host: str | None = None
    log_path: str | None = None


HISTORY_KEPT = 50
"""Attempts an item's history keeps (the newest): enough to see a pattern, bounded in size."""


class BatchItem(BaseModel):
    """One prompt/topic of a batch and everything known about generating it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    position: int = Field(ge=1)
    content: str
    status: ItemStatus = ItemStatus.PENDING
    job_ref: str | None = None
    output_path: str | None = None
    error: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: float = Field(default=0.0, ge=0.0, le=1.0)
    log_path: str | None = None
    waiting: str | None = None
    """What a PENDING item whose turn has come waits for (a host slot), if anything."""
    worker: str | None = None
    """The Dask worker that ran the last attempt (None for a run on the runner's own host)."""
    host: str | None = None
    """The host that ran the last attempt."""
    retry_at: datetime | None = None
    """When this item's next automatic retry starts (stored, so a crash does not lose it)."""
    retries_used: int | None = None
    """Automatic retries this item has had in its current run (None: none; stored only when
    there were some, like every field here: 10,000 items stay small)."""
    rerender: bool | None = None
    """True once the user asked for this item again on purpose (`retry --item`, even after it
    succeeded): its next attempts render anew instead of taking over an earlier output."""
    history: list[AttemptRecord] | None = None
    """Its earlier attempts, oldest first (the newest `HISTORY_KEPT`; None: none). The last
    attempt is the item's own fields: `attempt_history()` has them all. (A record per item
    that ran once cost a model and its serialisation per item: 1,000 no-ops ran 25% slower.)"""

    def last_attempt(self) -> AttemptRecord | None:
        """The latest attempt, from the item's own fields (None if it never ran)."""
        if not self.attempts or self.started_at is None:
            return None
        status = ItemStatus.FAILED if self.retry_at is not None else self.status
        return AttemptRecord(
            attempt=self.attempts,
            status=status,
            started_at=self.started_at,
            finished_at=self.finished_at if self.status is not ItemStatus.RUNNING else None,
            error=self.error,
            worker=self.worker,
            host=self.host,
            log_path=self.log_path,
        )

    def attempt_history(self) -> list[AttemptRecord]:
        """Every attempt, oldest first: the stored earlier ones and the latest."""
        history = list(self.history or [])
        last = self.last_attempt()
        if last is not None and (not history or history[-1].attempt != last.attempt):
            history.append(last)
        return history

    def close_attempt(self) -> None:
        """Move the latest attempt into the history: another one is about to start."""
        last = self.last_attempt()
        if last is None:
            return
        if self.history and self.history[-1].attempt == last.attempt:
            return
        self.history = [*(self.history or []), last][-HISTORY_KEPT:]

    def __setattr__(self, name: str, value: object) -> None:
        if name == "status":  # every status change goes through the table
            value = _checked_move(self.status, ItemStatus(cast(str, value)), check_item_transition)
        super().__setattr__(name, value)

    def move_to(self, status: ItemStatus) -> None:
        """Change status (a no-op when unchanged); `TransitionError` if the table forbids it."""
        self.status = status

    @property
    def duration_seconds(self) -> float | None:
        """How long the last attempt ran (so far, when still running)."""
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())


class RunnerInfo(BaseModel):
    """Who is processing a batch: one runner per batch, found dead by pid (and its start
    token, so a recycled pid does not pass for it) on its host, or by a stale heartbeat."""

    pid: int
    host: str
    started_at: datetime
    heartbeat: datetime
    token: int | None = None
    detached: bool = False
    log_path: str | None = None
    cluster: str | None = None
    """The Dask scheduler the run's items go to (None: they run on the runner's host). A run
    choice, not config: it never changes the config hash."""

    def describe(self, now: datetime) -> str:
        """'pid 4242 on render-box (background), started 12:01, heartbeat 1s ago'."""
        kind = " (background)" if self.detached else ""
        if self.cluster:
            kind += f" on cluster {self.cluster}"
        beat = max(0.0, (now - self.heartbeat).total_seconds())
        started = self.started_at.astimezone().strftime("%H:%M:%S")
        return f"pid {self.pid} on {self.host}{kind}, started {started}, heartbeat {beat:.0f}s ago"


class Batch(BaseModel):
    """A named series: one config, up to `config.max_items` items, one lifecycle."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str = Field(min_length=1, max_length=limits.MAX_NAME_CHARS)
    status: BatchStatus = BatchStatus.DRAFT
    config: BatchConfig
    items: list[BatchItem] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    locked_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    config_hash: str | None = None
    runner: RunnerInfo | None = None
    cancel_requested: bool = False
    cancelled: bool | None = None
    """True when the last run ended because it was cancelled (None otherwise): a FAILED batch
    that was cancelled says so."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "status":  # every status change goes through the table
            value = _checked_move(
                self.status, BatchStatus(cast(str, value)), check_batch_transition
            )
        super().__setattr__(name, value)

    def move_to(self, status: BatchStatus) -> None:
        """Change status (a no-op when unchanged); `TransitionError` if the table forbids it."""
        self.status = status

    def __repr_args__(self) -> Iterable[tuple[str | None, object]]:
        # A summary, not 10,000 items: asyncio formats the run's result (this) into a
        # message when the run's event loop shuts down on Python 3.11, and that cost ~10 ms
        # per 1,000 items; debuggers and error messages want the short form too.
        yield "id", self.id
        yield "name", self.name
        yield "status", self.status
        yield "items", len(self.items)

    @model_validator(mode="after")
    def _positions(self) -> Batch:
        for index, item in enumerate(self.items, start=1):
            item.position = index
        return self

    def item(self, item_id: str) -> BatchItem:
        """The item with this exact id (KeyError if none)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def progress(self, now: datetime | None = None) -> Progress:
        """Counts, phases, percent, elapsed, rate and ETA for the current (or last) run (the
        fold's `progress`, at `now` or the current time)."""
        return run_progress(self, now or utcnow())


__all__ = [
    "ACTIONS",
    "BATCH_TRANSITIONS",
    "ENDED_BATCH",
    "ITEM_TRANSITIONS",
    "TERMINAL_ITEM",
    "AttemptRecord",
    "Batch",
    "BatchConfig",
    "BatchItem",
    "BatchStatus",
    "ItemStatus",
    "Progress",
    "RunnerInfo",
    "check_batch_transition",
    "check_item_transition",
    "require",
    "utcnow",
]
