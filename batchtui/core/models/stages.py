"""A pipeline's stages: an item made in steps (a script, a voice, a render, a mux), each step
with its own program, output type, checks, time limit, retries, host pool and rate.

A batch with no `stages` is one stage, exactly as before stages existed. A stage's job sees a
config derived from the batch's (`BatchConfig.for_stage`): the stage's generator or command,
output type, validation, timeout and retries in place of the batch's, everything else shared.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import limits
from ..rates import normal_rate

ValidateMode = Literal["auto", "video", "nonempty", "exists"]


class StageConfig(BaseModel):
    """One step of an item's pipeline."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=limits.STAGE_NAME_PATTERN, description="the stage's name")
    generator: str | None = Field(
        default=None, description="a generator (titlecard, speech, …); else `command` runs"
    )
    command: str | None = Field(
        default=None,
        description="argv template: {in} is the previous stage's output, {stage.NAME} an "
        "earlier stage's, {output} this stage's",
    )
    ext: str | None = Field(
        default=None,
        pattern=limits.OUTPUT_EXT_PATTERN,
        description="this stage's output type (default: the batch's for the last stage, else "
        "the generator's)",
    )
    validate_output: ValidateMode | None = Field(
        default=None, alias="validate", description="how its output is checked (default auto)"
    )
    any_length: bool | None = Field(
        default=None,
        description="its videos may last any length (a narrated card lasts as long as its "
        "voice): checked for size and the platform's longest, not the batch's duration "
        "(default: when it takes an earlier stage's audio)",
    )
    timeout: float | None = Field(default=None, gt=0, le=limits.MAX_TIMEOUT)
    retries: int | None = Field(default=None, ge=0, le=limits.MAX_RETRIES)
    pool: str | None = Field(
        default=None,
        pattern=limits.POOL_NAME_PATTERN,
        description="the host pool its attempts take a slot of ([slots] NAME = N in "
        "settings.toml; on a render farm, the Dask resource NAME=1)",
    )
    concurrency: int | None = Field(
        default=None,
        ge=limits.MIN_CONCURRENCY,
        le=limits.MAX_CONCURRENCY,
        description="this stage's items at once (default: the batch's concurrency)",
    )
    rate: str | None = Field(
        default=None, description="start at most this many of this stage per second/minute/hour"
    )
    inputs: list[str] | None = Field(
        default=None,
        description="the earlier stages whose outputs it takes (default: every earlier one)",
    )

    @field_validator("generator", "command", "rate", "pool", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ext")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        return None if value is None else normal_rate(value)

    @model_validator(mode="after")
    def _one_program(self) -> StageConfig:
        if self.command is not None and self.generator not in (None, "command"):
            raise ValueError(
                f"stage '{self.name}' has both a generator ({self.generator}) and a command: "
                "give one"
            )
        if self.command is None and self.generator in (None, "command"):
            raise ValueError(f"stage '{self.name}' needs a generator or a command")
        return self

    @property
    def program(self) -> str:
        """The generator that runs it (`command` for a command stage)."""
        return "command" if self.command is not None else str(self.generator)


def check_stages(stages: list[StageConfig] | None) -> list[StageConfig] | None:
    """`stages` when they make a pipeline (unique names, inputs naming earlier stages), else
    ValueError with one line; an empty list is None (no stages)."""
    if not stages:
        return None
    if len(stages) > limits.MAX_STAGES:
        raise ValueError(f"at most {limits.MAX_STAGES} stages (got {len(stages)})")
    seen: list[str] = []
    for stage in stages:
        if stage.name in seen:
            raise ValueError(f"two stages are named '{stage.name}'")
        for name in stage.inputs or []:
            if name not in seen:
                where = "a later stage" if any(s.name == name for s in stages) else "no stage"
                raise ValueError(
                    f"stage '{stage.name}' takes '{name}', which is {where} "
                    "(a stage takes only earlier stages' outputs)"
                )
        seen.append(stage.name)
    return stages


_STAGE_FIELD = re.compile(r"^stage\.([a-z][a-z0-9_]*)$")


def stage_of(field: str) -> str | None:
    """The stage a `{stage.NAME}` placeholder names, else None."""
    match = _STAGE_FIELD.match(field)
    return match.group(1) if match else None
