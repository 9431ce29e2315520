"""A batch's config: the one set of settings every item is generated with, and its checks."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .. import limits
from ..backoff import retry_delay as _retry_delay
from ..failures import RETRY_ON
from ..item_vars import VarValue, check_vars
from ..notify_rules import (
    MAX_HOOK_TIMEOUT,
    MAX_TARGETS,
    check_events,
    hook_problems,
    people_url_problem,
    secret_name_problem,
    webhook_url_problem,
)
from ..platforms import DEFAULT_PLATFORM, PLATFORMS, Platform
from ..qa import DEFAULT_TARGET, DEFAULT_TOLERANCE, QA_WORDS, check_names
from ..rates import RATE_KEY_PATTERN, RATE_KEY_RULE, normal_rate
from ..textsafe import not_utf8
from .stages import StageConfig, ValidateMode, check_stages

if TYPE_CHECKING:
    RetryOn = str
else:  # the words derived from the failure kinds, checked (and reported) as a Literal's
    RetryOn = Literal[RETRY_ON]
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "mkv", "webm", "m4v", "avi"})
AUDIO_EXTENSIONS = frozenset({"wav", "mp3", "m4a", "aac", "flac", "ogg", "opus"})

DEFAULT_OUTPUT_EXT = "mp4"
"""The output type of a batch whose generator makes videos (the titlecard, most plugins)."""

GENERATOR_OUTPUT_EXT = {"command": "txt", "script": "txt", "speech": "wav"}
"""A generator whose outputs are not videos unless the user says so: a command may write
anything, so its default output is a plain file, checked for being there and not empty (set
`--ext mp4`, or Output type in the TUI, for a command that renders videos, and they are
probed). One rule for the CLI, the API and the TUI: the config applies it."""


def default_output_ext(generator: str) -> str:
    """The output type a batch made with `generator` has unless one is given."""
    return GENERATOR_OUTPUT_EXT.get(generator, DEFAULT_OUTPUT_EXT)


def generator_change(config: BatchConfig, fields: dict[str, object]) -> dict[str, object]:
    """`fields` (a change to `config`) with the output type the new generator implies, when
    the generator changes, no output type is given and the old one was the old generator's
    default (a type the user chose is kept)."""
    generator = fields.get("generator")
    if (
        not isinstance(generator, str)
        or generator == config.generator
        or "output_ext" in fields
        or config.output_ext != default_output_ext(config.generator)
    ):
        return fields
    return {**fields, "output_ext": default_output_ext(generator)}


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


_OWN_UTF8_CHECK = frozenset({"output_dir", "workdir", "command"})


def _utf8(value: str, what: str, hint: str = "") -> str:
    # Refused here with a message instead of at the write (JSON cannot store it).
    shown = not_utf8(value)
    if shown is not None:
        raise ValueError(f"{what} '{shown}' is not valid UTF-8{hint}")
    return value


class BatchConfig(BaseModel):
    """The one config every item of a batch is generated with; frozen (and hashed) at lock."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    platform: str = DEFAULT_PLATFORM
    generator: str = "titlecard"
    command: str | None = Field(default=None, description="argv template for the command generator")
    output_ext: str = Field(default=DEFAULT_OUTPUT_EXT, pattern=limits.OUTPUT_EXT_PATTERN)
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
    qa: list[str] | None = Field(
        default=None,
        description="QA checks every output must pass, with ffmpeg's filters: "
        + "; ".join(f"{name}: {words}" for name, words in QA_WORDS.items())
        + " (a failed check fails the attempt with the kind qa, which retry_on can name)",
    )
    qa_loudness: float = Field(
        default=DEFAULT_TARGET,
        ge=-70,
        le=0,
        description="the series' loudness target for the loudness check (LUFS)",
    )
    qa_tolerance: float = Field(
        default=DEFAULT_TOLERANCE,
        gt=0,
        le=20,
        description="how far an output's loudness may be from the target (LU)",
    )
    canary: bool = Field(default=False, description="run the first item alone first")
    confirm_forecast: bool = Field(
        default=False,
        description="with canary: once the canary succeeded, wait for a yes (batchtui "
        "confirm, the API, the TUI) to the forecast of the whole run's time and cost before "
        "the others start; cancel is the no",
    )
    budget: float | None = Field(
        default=None,
        gt=0,
        le=limits.MAX_BUDGET,
        description="stop starting items once what they spent (COST lines) and what the "
        "running ones are expected to spend reach this: the rest are SKIPPED; a run "
        "setting, not part of the config's hash",
    )
    variants: int = Field(
        default=1,
        ge=1,
        le=limits.MAX_VARIANTS,
        description="render each item this many times, to pick the best ({variant} is 1..N, "
        "{seed} differs per variant)",
    )
    rate: str | None = Field(
        default=None,
        description="start at most this many items per second, minute or hour (30/min): a "
        "scheduling setting, not part of the config's hash",
    )
    rate_key: str | None = Field(
        default=None,
        description="also obey the host-wide rate of this name ([rates] in settings.toml), "
        "shared by every batch on the host that names it",
    )
    var_defaults: dict[str, str | int | float] | None = Field(
        default=None,
        description="item variables' values for the items that do not set them ({voice} in a "
        "command is the item's `voice`, else this default)",
    )

    stages: list[StageConfig] | None = Field(
        default=None,
        description="the steps each item is made in, in order (none: one step, the "
        "generator's); each stage's output is cached by what made it",
    )

    # What a run tells the world (issue 31). None: the host's default ([notify] in
    # settings.toml); "none" said for a list is [], for the hook "". Never hashed: how a run
    # is announced does not change what it makes.
    on_end: str | None = Field(
        default=None,
        description="a command run when a run ends (argv: {batch} {status} {name} {items} "
        "{succeeded} {failed} {skipped} {elapsed} {cost} {output_dir}; the event's JSON on its "
        "stdin; never through a shell); '' for none; null: the host's",
    )
    hook_timeout: float | None = Field(
        default=None,
        gt=0,
        le=MAX_HOOK_TIMEOUT,
        description="seconds the on_end hook may run before it is killed (default 60)",
    )
    webhooks: list[str] | None = Field(
        default=None,
        max_length=MAX_TARGETS,
        description="http(s) addresses sent each event as JSON, signed the Standard Webhooks "
        "way with a secret of settings.toml; [] for none; null: the host's",
    )
    webhook_secret: str | None = Field(
        default=None,
        description="the name of the secret in settings.toml's [secrets] that signs webhooks "
        "(default: 'default'); the secret itself is never stored in a batch",
    )
    notify: list[str] | None = Field(
        default=None,
        max_length=MAX_TARGETS,
        description="where people are told, as Apprise addresses (ntfy://topic, "
        "discord://…, mailto://…); [] for none; null: the host's",
    )
    events: list[str] | None = Field(
        default=None,
        description="what is announced: started, failed (an item for good), ended, item "
        "(every item's end); null: the host's, else started, failed and ended",
    )

    @model_validator(mode="before")
    @classmethod
    def _generator_default_ext(cls, data: object) -> object:
        # A config given without an output type gets its generator's (`default_output_ext`).
        if isinstance(data, dict) and data.get("output_ext") is None:
            generator = data.get("generator")
            if isinstance(generator, str) and generator in GENERATOR_OUTPUT_EXT:
                return {**data, "output_ext": GENERATOR_OUTPUT_EXT[generator]}
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _text_is_utf8(cls, value: object, info: ValidationInfo) -> object:
        # Text that is not UTF-8 (an argument's bytes arrive with surrogate escapes) is refused
        # before any field's own check: a check that echoed such a value, or a union type's
        # error, raised UnicodeEncodeError out of validation (a crash, not a refusal). The
        # folders and the command say it in their own words (`_utf8`, in their checks).
        if info.field_name not in _OWN_UTF8_CHECK:
            for text in value if isinstance(value, list | tuple) else (value,):
                if isinstance(text, str):
                    _utf8(text, "text")
        return value

    @model_validator(mode="after")
    def _pipeline_output(self) -> BatchConfig:
        # A pipeline's outputs are its last stage's: the batch's output type says so, for
        # every view and check that reads it.
        if self.stages:
            ext = stage_output_ext(self, len(self.stages) - 1)
            if self.output_ext != ext:
                self.__dict__["output_ext"] = ext  # (no assignment validation: it is valid)
        return self

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[StageConfig] | None) -> list[StageConfig] | None:
        return check_stages(value)

    @field_validator("var_defaults")
    @classmethod
    def _var_defaults(cls, value: dict[str, VarValue] | None) -> dict[str, VarValue] | None:
        return check_vars(value)

    @field_validator("budget", "hook_timeout", mode="before")
    @classmethod
    def _not_a_truth(cls, value: object) -> object:
        if isinstance(value, bool):  # `true` is not 1.00
            raise ValueError("an amount, not true or false")
        return value

    @field_validator("budget")
    @classmethod
    def _finite_budget(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("a budget is a finite amount")
        return value

    @field_validator("rate", "rate_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # '' clears it (a form's empty box, `--rate ''`)
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        return None if value is None else normal_rate(value)

    @field_validator("rate_key")
    @classmethod
    def _rate_key(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(RATE_KEY_PATTERN, value):
            raise ValueError(f"'{value}' is not a rate name ({RATE_KEY_RULE})")
        return value

    @field_validator("webhooks")
    @classmethod
    def _webhooks(cls, value: list[str] | None) -> list[str] | None:
        for url in value or []:
            problem = webhook_url_problem(url)
            if problem:
                raise ValueError(problem)
        return None if value is None else list(dict.fromkeys(value))

    @field_validator("notify")
    @classmethod
    def _notify(cls, value: list[str] | None) -> list[str] | None:
        for url in value or []:
            problem = people_url_problem(url)
            if problem:
                raise ValueError(problem)
        return None if value is None else list(dict.fromkeys(value))

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_events(value)

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret_name(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None  # '' clears it: the default secret
        if isinstance(value, str):
            problem = secret_name_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("on_end")
    @classmethod
    def _hook(cls, value: str | None) -> str | None:
        if value:
            problems = hook_problems(value)
            if problems:
                raise ValueError(problems[0])
        return value

    @field_validator("qa")
    @classmethod
    def _qa_checks(cls, value: list[str] | None) -> list[str] | None:
        if not value:
            return None
        return check_names(value)

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
        `backoff_max` (and spread below it there too: `core.backoff`)."""
        return _retry_delay(self.backoff, self.backoff_max, retry, jitter)

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
        from ..styles import STYLES

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
        return (
            {
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
            }
            | ({"style": self.style} if self.style is not None else {})
            | ({"var_defaults": self.var_defaults} if self.var_defaults else {})
            | ({"variants": self.variants} if self.variants != 1 else {})
            | ({"stages": [_stage_shape(stage) for stage in self.stages]} if self.stages else {})
            | (
                {"qa": self.qa, "qa_loudness": self.qa_loudness, "qa_tolerance": self.qa_tolerance}
                if self.qa
                else {}
            )
        )
        # (`style`, `var_defaults`, `variants`, `stages` and `qa` are new: a config without
        # them hashes as it did before they existed. QA is part of what a valid output is.)

    def fingerprint(self) -> str:
        """A short stable hash of the render settings: equal hashes, identically made outputs."""
        blob = json.dumps(self.render_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _stage_shape(stage: StageConfig) -> dict[str, object]:
    """What of a stage decides what its output looks like (its pool, limits and rate do not)."""
    return stage.model_dump(
        exclude_none=True, exclude={"timeout", "retries", "pool", "concurrency", "rate"}
    )


def stage_output_ext(config: BatchConfig, index: int) -> str:
    """The output type of stage `index` of `config`: its own, else its generator's (the last
    stage's is the batch's output type: `BatchConfig._pipeline_output`)."""
    assert config.stages is not None
    stage = config.stages[index]
    return stage.ext or default_output_ext(stage.program)


def any_length(config: BatchConfig, index: int) -> bool:
    """Whether stage `index`'s videos may last any length: as it says, else when it takes a
    voice (an earlier stage's audio): a video made from a voice lasts as long as the voice."""
    assert config.stages is not None
    stage = config.stages[index]
    if stage.any_length is not None:
        return stage.any_length
    earlier = config.stages[:index]
    taken = [s for s in earlier if stage.inputs is None or s.name in stage.inputs]
    return any(stage_output_ext(config, config.stages.index(s)) in AUDIO_EXTENSIONS for s in taken)


def for_stage(config: BatchConfig, index: int) -> BatchConfig:
    """The config stage `index` of `config` runs with: the batch's, with the stage's program,
    output type, checks, time limit and retries in place (its canary and failure limit are
    the pipeline's, not the stage's)."""
    assert config.stages is not None
    stage = config.stages[index]
    update: dict[str, object] = {
        "generator": stage.program,
        "command": stage.command,
        "output_ext": stage_output_ext(config, index),
        "canary": False,
        "max_failures": None,
        "rate": stage.rate,
        "rate_key": None,
    }
    if stage.validate_output is not None:
        update["validate_output"] = stage.validate_output
    if stage.timeout is not None:
        update["timeout"] = stage.timeout
    if stage.retries is not None:
        update["retries"] = stage.retries
    if stage.concurrency is not None:
        update["concurrency"] = stage.concurrency
    return config.model_copy(update=update)


def default_output_dir() -> str:
    """Where outputs go unless a batch says otherwise (`BATCHTUI_OUTPUT` overrides)."""
    env = os.environ.get("BATCHTUI_OUTPUT")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    import platformdirs

    return os.path.join(platformdirs.user_videos_dir(), "batchtui")
