"""What the API answers, as the OpenAPI schema documents it: an item (with its `vars`, `key`,
`variant` and `label`) and a batch with its items.

Documentation only: the answers are built by `service.views` (`item_json`, `batch_json`) and
are never parsed through these models. Each field named here is in every answer (null when
it has no value); answers carry more fields than these (`additionalProperties`), which a
client may read as `batchtui show --json` shows them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..core.models import StageRecord
from ..core.models.review import Review
from ..core.models.stages import StageConfig
from ..core.states import BatchStatus, ItemStatus


class ItemAnswer(BaseModel):
    """One item of a batch (a variant's row, in a batch locked with variants)."""

    model_config = ConfigDict(extra="allow")
    id: str
    position: int = Field(ge=1, description="its place in the batch's list (1-based)")
    label: str = Field(description="how a person names it: `3`, or `3.v2` for a variant")
    content: str
    vars: dict[str, str | int | float] | None = Field(
        description="its variables (`{voice}` in a command), null: none"
    )
    key: str | None = Field(description="the caller's own name for it, unique in its batch")
    variant: int | None = Field(
        ge=1, description="which render of its item this is (1..variants), null: no variants"
    )
    status: ItemStatus
    attempts: int
    error: str | None
    output_path: str | None
    review_state: Literal["approved", "rejected", "to_review"] | None = Field(
        description="how its output stands in review (null: no output to review)"
    )
    review: Review | None = Field(
        default=None, description="the verdict on its output: approved or rejected, the note"
    )
    stage: str | None = Field(
        description="a pipeline's item: the stage it is at, or where it ended (null: no stages)"
    )
    stages: dict[str, StageRecord] | None = Field(
        description="each stage's state in its latest run, by name: status, cache key, from "
        "the cache or made, attempts, seconds, error, output (null: no stages)"
    )


class ConfigAnswer(BaseModel):
    """A batch's config (every field `create` takes; the pipeline's stages named here)."""

    model_config = ConfigDict(extra="allow")
    stages: list[StageConfig] | None = Field(
        description="the steps each item is made in, in order (null: one step, the generator)"
    )


class BatchAnswer(BaseModel):
    """A batch with its items and progress."""

    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    status: BatchStatus
    config: ConfigAnswer
    items: list[ItemAnswer]


def answer(status: int, model: Any, description: str) -> dict[int | str, dict[str, Any]]:
    """An operation's answer documented as `model` (its routes pass `response_model=None`:
    the answer is built elsewhere, as JSON)."""
    return {status: {"model": model, "description": description}}
