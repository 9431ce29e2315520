"""The API's request bodies as pydantic models: FastAPI parses, validates and documents them.

The limits come from `core.limits` (the models', the service's and the TUI's too). A refusal
reads "invalid request: <field>: <what is wrong>" (see `errors`). Rules the service enforces
with its own words (non-blank content, a template's name, a cluster address) are published in
the schema too (`documented`), so schema-driven clients know them, while the refusal keeps the
service's one line; what a JSON schema cannot say (a NUL, a platform's maximum duration) the
service refuses in the same shape.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from ..core import deferral, limits
from ..core.item_keys import KEY_PATTERN, KEY_RULE, MAX_KEY_CHARS
from ..core.item_vars import MAX_VAR_CHARS, MAX_VARS, VAR_NAME_PATTERN, VAR_NAME_RULE

CONTENT = Field(
    json_schema_extra={"pattern": limits.NON_BLANK_PATTERN, "maxLength": limits.MAX_CONTENT_CHARS}
)
"""An item's content: not blank, at most `MAX_CONTENT_CHARS`."""


def documented(pattern: str, **fields: Any) -> Any:
    """A string field whose `pattern` is published in the schema and enforced by the service
    (with its own message)."""
    return Field(json_schema_extra={"pattern": pattern}, **fields)


class CreateBatch(BaseModel):
    """`POST /v1/batch/`: a name, config fields (as `create` takes them), optional items."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=limits.MAX_NAME_CHARS)
    config: dict[str, Any] = Field(default_factory=dict)
    items: list[Annotated[str, CONTENT] | NewItem] = Field(
        default_factory=list,
        description="its items: texts, or objects with content, vars and key (as POST items)",
    )
    template: str | None = documented(
        limits.TEMPLATE_NAME_PATTERN,
        default=None,
        description="start from this template (its config, then `config`)",
    )
    parameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="the template's parameters"
    )


class SaveTemplate(BaseModel):
    """`POST /v1/templates`: a template document, or `batch` to save that batch's structure."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = documented(
        limits.TEMPLATE_NAME_PATTERN, min_length=1, max_length=limits.MAX_TEMPLATE_NAME_CHARS
    )
    batch: str | None = Field(default=None, description="save this batch's config and items")
    description: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    items: list[str] = Field(default_factory=list)  # lines of a template: checked once filled
    count: int | str = 1
    overwrite: bool = False


def _text_or_number(value: object) -> object:
    """A value that is neither text nor a number (`true`, a list) is refused in one line,
    before the union would say so three times."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("a variable's value is text or a number")
    return value


VarValue = Annotated[str | int | float, BeforeValidator(_text_or_number)]
"""A variable's value as a body gives it: text or a number (`true` is neither)."""

VALUE_DOC: dict[str, Any] = {"maxLength": MAX_VAR_CHARS}
"""What the schema says of a text value besides its type."""
KEY_OR_NOTHING = f"^({KEY_PATTERN.strip('^$')})?$"
"""A key, or "" (no key): both are taken."""
VARS_DOC: dict[str, Any] = {
    "maxProperties": MAX_VARS,
    "propertyNames": {"pattern": VAR_NAME_PATTERN},
}
"""An item's variables: the names' pattern and how many, published (the service refuses with
its own line, naming the item)."""
DocumentedValue = Annotated[VarValue, Field(json_schema_extra=VALUE_DOC)]
NewVars = Annotated[dict[str, DocumentedValue], Field(json_schema_extra=VARS_DOC)]
"""`vars` of a new item."""
VarChanges = Annotated[dict[str, DocumentedValue | None], Field(json_schema_extra=VARS_DOC)]
"""`vars` of an edit: a null value unsets that variable."""
KEY_DOC: dict[str, Any] = {"pattern": KEY_OR_NOTHING, "maxLength": MAX_KEY_CHARS}
Key = Annotated[str, Field(json_schema_extra=KEY_DOC)]
"""An item's key as a body gives it (`core.item_keys`; "" is no key): the pattern published,
the rule enforced by the service (a key of digits only, a key already taken)."""


class NewItem(BaseModel):
    """One item to add: its content, its variables (`{voice}` in a command) and its key."""

    model_config = ConfigDict(extra="forbid")
    content: Annotated[str, CONTENT]
    vars: NewVars | None = Field(
        default=None,
        description=f"the item's variables: names {VAR_NAME_RULE}; values text (one line, at most "
        f"{MAX_VAR_CHARS:,} characters) or numbers; at most {MAX_VARS}",
    )
    key: Key | None = Field(
        default=None,
        description=f"the caller's own name for the item, unique in its batch: {KEY_RULE}; "
        "outputs and logs are named by it, and `…/items/KEY` finds it",
    )


class AddItems(BaseModel):
    """`POST /v1/batch/{id}/items`: `contents` (texts), or `items` (each with its variables
    and key)."""

    model_config = ConfigDict(extra="forbid")
    contents: list[Annotated[str, CONTENT]] | None = Field(default=None, min_length=1)
    items: list[NewItem] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_of(self) -> AddItems:
        if (self.contents is None) == (self.items is None):
            raise ValueError("give `contents` or `items`, one of them")
        return self


class ReviewBody(BaseModel):
    """`POST /v1/batch/{id}/items/{item}/review`: a verdict on the item's output."""

    model_config = ConfigDict(extra="forbid")
    verdict: Literal["approve", "reject", "approved", "rejected"] = Field(
        description="approve the output, or reject it (retry with `rejected: true` makes the "
        "rejected ones again, each as a new take)"
    )
    note: str | None = Field(
        default=None,
        max_length=limits.MAX_NOTE_CHARS,
        description="why, in one line (a rejection's reason)",
    )


class EditItem(BaseModel):
    """`PATCH /v1/batch/{id}/items/{item}`: any of `content`, `vars`, `key` (at least one)."""

    model_config = ConfigDict(extra="forbid")
    content: Annotated[str, CONTENT] | None = Field(
        default=None, description="the item's new content"
    )
    vars: VarChanges | None = Field(
        default=None,
        description="variables to set (the item's others stay); a null value unsets that one",
    )
    key: Key | None = Field(default=None, description='the item\'s new key; null or "" drops it')

    @model_validator(mode="after")
    def _something(self) -> EditItem:
        # A null key is a change (it drops the key); null content or vars change nothing.
        if self.content is None and self.vars is None and "key" not in self.model_fields_set:
            raise ValueError("give `content`, `vars` or `key` (at least one)")
        return self

    def changes(self) -> tuple[dict[str, VarValue], list[str], str | None]:
        """(variables to set, variables to unset, the key as `edit_item` takes it: None
        keeps it, "" drops it)."""
        values = {name: value for name, value in (self.vars or {}).items() if value is not None}
        unset = [name for name, value in (self.vars or {}).items() if value is None]
        key = (self.key or "") if "key" in self.model_fields_set else None
        return values, unset, key


class Concurrency(BaseModel):
    """`PUT /v1/batch/{id}/concurrency`."""

    model_config = ConfigDict(extra="forbid")
    value: int = Field(ge=limits.MIN_CONCURRENCY, le=limits.MAX_CONCURRENCY)


class Priority(BaseModel):
    """`PUT /v1/batch/{id}/priority`."""

    model_config = ConfigDict(extra="forbid")
    value: int = Field(
        ge=limits.MIN_PRIORITY,
        le=limits.MAX_PRIORITY,
        description="higher: the batch's waiting items are served first on this host",
    )


class PruneCache(BaseModel):
    """`POST /v1/cache/prune`: what to remove from the stage caches (one of the two, or
    both): entries not used for `older` (`30d`, `12h`), then the least recently used until
    each cache is at most `max_size` (`20G`)."""

    model_config = ConfigDict(extra="forbid")
    older: str | None = Field(default=None, max_length=32, examples=["30d"])
    max_size: str | None = Field(default=None, max_length=32, examples=["20G"])


class NotifyTest(BaseModel):
    """`POST /v1/notify/test`: send a test event to a batch's targets (none: the host's)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    batch: str | None = Field(default=None, max_length=200, description="a batch's id or name")


class ImportManifest(BaseModel):
    """`POST /v1/imports/`: a batch re-made from the text of a batch folder's manifest."""

    model_config = ConfigDict(extra="forbid")
    manifest: str = Field(min_length=1, description="the text of a batch folder's manifest.jsonl")
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.MAX_NAME_CHARS,
        description="default: the manifest's batch's name",
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="settings the manifest does not record (output_dir, concurrency, …)",
    )


class DuplicateRequest(BaseModel):
    """`POST /v1/batch/{id}/duplicate` (the body is optional)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.MAX_NAME_CHARS,
        description="default: '<name> (copy)'",
    )


class PauseRequest(BaseModel):
    """`POST /v1/batch/{id}/pause` and `POST /v1/host/pause` (the body is optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # `0` is not `false`
    now: bool = Field(
        default=False,
        description="also freeze the running items (SIGSTOP their process groups; they keep "
        "their slots; time frozen does not count against their timeout); false: no new item "
        "starts, running ones finish",
    )


class HostPause(BaseModel):
    """The host's pause: every batch on this host, now and started later."""

    paused: Literal["drain", "now"] | None = Field(
        description="'drain': no new item starts; 'now': running items frozen too; null: not paused"
    )


class RunChoices(BaseModel):
    """What `POST /v1/batch/{id}/start` and `.../retry` share."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    cluster: str | None = documented(
        limits.CLUSTER_ADDRESS_PATTERN,
        default=None,
        description="run the items on the Dask scheduler at this address (tcp://HOST:8786); "
        "default: the server's BATCHTUI_CLUSTER; 'local': on the server's host",
    )


class RunSettings(RunChoices):
    """A run's own settings a start or retry may set (kept on the batch; a refused start
    changes nothing)."""

    budget: float | None = Field(
        default=None,
        gt=0,
        le=limits.MAX_BUDGET,
        description="stop starting items once what they spent (COST lines) and what the "
        "running ones are expected to spend reach this (the rest SKIPPED); kept: a retry "
        "may raise it",
    )
    confirm_forecast: bool | None = Field(
        default=None,
        strict=True,  # true or false: "yes" or 1 is not a yes
        description="with a canary: wait for a yes (POST …/confirm) to the forecast of the "
        "whole run's time and cost before the others start",
    )

    @field_validator("budget", mode="before")
    @classmethod
    def _an_amount(cls, value: object) -> object:
        if isinstance(value, bool):  # `true` is not 1.00
            raise ValueError("an amount, not true or false")
        return value

    def settings(self) -> dict[str, object]:
        """The run settings the body gives (those it leaves out: as they are)."""
        return {
            name: getattr(self, name)
            for name in ("budget", "confirm_forecast")
            if name in self.model_fields_set
        }


class RunRequest(RunSettings):
    """`POST /v1/batch/{id}/start` (the body is optional): now, or queued with one of
    `after`, `at`, `in` (the batch shows QUEUED / SCHEDULED and starts on its own)."""

    after: str | None = Field(
        default=None,
        max_length=limits.MAX_NAME_CHARS,
        description="start once this batch (id or name) ends; a cycle is refused",
    )
    after_ok: bool = Field(
        default=False,
        strict=True,
        description="with `after`: only if that batch ends COMPLETE (otherwise this one "
        "stays LOCKED with a note saying why)",
    )
    at: str | None = Field(
        default=None,
        max_length=64,
        description=f"start at this time: {deferral.AT_RULE}",
    )
    delay: str | None = Field(
        default=None,
        alias="in",
        max_length=16,
        description=f"start after this delay: {deferral.DELAY_RULE}",
    )

    @property
    def deferred(self) -> bool:
        """Whether the start is queued rather than now."""
        return bool(self.after or self.at or self.delay or self.after_ok)


class RetryRequest(RunSettings):
    """`POST /v1/batch/{id}/retry` (the body is optional)."""

    items: list[StrictStr | StrictInt] | None = Field(  # true is not item 1
        default=None,
        min_length=1,
        max_length=limits.MAX_CHOSEN_ITEMS,
        description="run exactly these items again (positions, keys, variants such as `3.v2` "
        "or item ids; an item with variants: all of them), succeeded ones too; default: every "
        "item that did not succeed",
    )
    rejected: bool = Field(
        default=False,
        strict=True,
        description="make the items whose output was rejected again, each as a new take with "
        "a new seed (the rejected output is kept as `NN-topic.v1.ext` until the new one is "
        "approved); not with `items`",
    )


CONFIG_FIELDS_DOC = (
    "config fields to change, as `create` takes them (validated as a whole with the batch's "
    "other fields; an unknown field is refused)"
)
"""`PATCH /v1/batch/{id}/config` takes a free object: its rules are the batch config's own."""


CreateBatch.model_rebuild()  # its items may be `NewItem`s, defined below it
