"""Templates: reusable batch structures, kept as TOML files a team can keep in git.

A template has a name, a description, a config (any field of a batch's config; a string value
may use the parameters: `duration = "{seconds}"`), typed parameters with defaults, and item
patterns (`"{topic}: fact {n}"`, made `count` times with `{n}` = 1, 2, …). They live in
`templates/` of the user config folder, one `NAME.toml` each (`BATCHTUI_TEMPLATES` names
another folder). A malformed file is reported in one line and otherwise ignored.

```toml
description = "Ten space facts"
count = "{facts}"
items = ["{topic}: fact {n}"]

[config]
platform = "youtube_shorts"
duration = 6

[parameters.topic]
type = "str"
default = "Space"

[parameters.facts]
type = "int"
default = 10
```

An item pattern may also give the item variables and a key, as an inline table:
`items = [{content = "{topic}: fact {n}", vars = {voice = "{voice}", seed = "{n}"},
key = "fact-{n}"}]`; each value is filled like the content and checked as `add --var` and
`add --key` check theirs.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.errors import (
    NotFoundError,
    StoreError,
    TransitionError,
    ValidationError,
    model_error_line,
)
from ..core.item_keys import check_key
from ..core.item_vars import VarValue, check_vars
from ..core.limits import (
    LARGEST_MAX_ITEMS,
    MAX_BATCH_CONTENT_BYTES,
    MAX_CONTENT_CHARS,
    TEMPLATE_NAME_PATTERN,
    TEMPLATE_NAME_RULE,
)
from ..core.models import Batch, BatchConfig, BatchItem
from ..core.patterns import escape, fill_known, placeholders, render
from ..core.settings import config_dir
from ..core.variants import series_items
from ..generators.command import PLACEHOLDERS, split_template

TEMPLATES_ENV = "BATCHTUI_TEMPLATES"
NAME = re.compile(TEMPLATE_NAME_PATTERN)
MACHINE_FIELDS = frozenset({"workdir"})
"""Config fields that belong to the machine a batch was made on, not to its structure."""
ParamType = Literal["str", "int", "float", "bool"]
COUNTER = "n"
"""The item patterns' own placeholder: 1, 2, … `count`."""
RESERVED = frozenset({COUNTER, *PLACEHOLDERS})
"""Names a parameter may not take: a command's own placeholders (`{output}`, `{content}`, …)
and the item counter. A parameter called `output` would silently replace the file the
command must write."""


class Parameter(BaseModel):
    """One parameter of a template."""

    model_config = ConfigDict(extra="forbid")

    type: ParamType = "str"
    default: str | int | float | bool | None = None
    description: str = ""

    def coerce(self, name: str, value: object) -> str | int | float | bool:
        """`value` (a string from the command line, or JSON) as this parameter's type."""
        try:
            if self.type == "bool":
                if isinstance(value, bool):
                    return value
                text = str(value).strip().lower()
                if text in ("1", "true", "yes", "on"):
                    return True
                if text in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if self.type == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                return int(str(value).strip()) if not isinstance(value, int) else value
            if self.type == "float":
                return float(str(value)) if not isinstance(value, bool) else float(value)
            return str(value)
        except (TypeError, ValueError):
            article = "an" if self.type == "int" else "a"
            raise ValidationError(
                f"parameter {name} must be {article} {self.type}, not {value!r}"
            ) from None


class ItemPattern(BaseModel):
    """An item pattern with variables and a key (each filled like the content)."""

    model_config = ConfigDict(extra="forbid")

    content: str
    vars: dict[str, str | int | float] = Field(default_factory=dict)
    key: str | None = None

    def patterns(self) -> list[str]:
        """Every text of it that placeholders fill."""
        texts = [self.content, *(v for v in self.vars.values() if isinstance(v, str))]
        return texts + ([self.key] if self.key is not None else [])


class MadeItem(BaseModel):
    """One item a template makes: its content, variables and key."""

    content: str
    vars: dict[str, VarValue] | None = None
    key: str | None = None


class Template(BaseModel):
    """A reusable batch structure (see the module's docs)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME.pattern)
    description: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    items: list[str | ItemPattern] = Field(default_factory=list)
    count: int | str = 1
    """How many times the item patterns are made (`{n}` counts them); may be a parameter."""

    @field_validator("items", mode="before")
    @classmethod
    def _shaped(cls, items: object) -> object:
        """Each item pattern a text or a table, a wrong one named by its number (pydantic
        would list what each of the two shapes lacks)."""
        if not isinstance(items, list):
            return items
        shaped: list[str | ItemPattern] = []
        for number, item in enumerate(items, start=1):
            if isinstance(item, str | ItemPattern):
                shaped.append(item)
                continue
            if not isinstance(item, dict):
                raise ValueError(f"item pattern {number} is neither a text nor a table")
            try:
                shaped.append(ItemPattern.model_validate(item))
            except pydantic.ValidationError as exc:
                raise ValueError(
                    f"item pattern {number}: {model_error_line(exc, 'table')}"
                ) from None
        return shaped

    @model_validator(mode="after")
    def _bounded(self) -> Template:
        taken = sorted(RESERVED & set(self.parameters))
        if taken:
            raise ValueError(
                f"parameter '{taken[0]}' has the name of the item's own {{{taken[0]}}}; "
                "give it another name"
            )
        if isinstance(self.count, int):
            _check_count(self.count, len(self.items))
        known = {*self.parameters, COUNTER}
        for pattern in (text for item in self.items for text in _texts(item)):
            unknown = [name for name in placeholders(pattern) if name not in known]
            if unknown:
                raise ValueError(
                    f"item pattern {pattern[:60]!r} uses {{{unknown[0]}}}, which is not a "
                    f"parameter (its parameters: {', '.join(self.parameters) or 'none'})"
                )
        return self

    def values(self, given: dict[str, object]) -> dict[str, object]:
        """Every parameter's value: `given` (coerced to its type), else its default."""
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise ValidationError(
                f"template '{self.name}' has no parameter {unknown[0]} (its parameters: {known})"
            )
        values: dict[str, object] = {}
        for name, parameter in self.parameters.items():
            if name in given:
                values[name] = parameter.coerce(name, given[name])
            elif parameter.default is not None:
                values[name] = parameter.coerce(name, parameter.default)
            else:
                raise ValidationError(
                    f"template '{self.name}' needs a value for {name}: --set {name}=VALUE"
                )
        return values

    def make(self, given: dict[str, object]) -> tuple[dict[str, Any], list[str]]:
        """The config fields and item contents this template makes with `given` parameters."""
        fields, items = self.make_items(given)
        return fields, [item.content for item in items]

    def make_items(self, given: dict[str, object]) -> tuple[dict[str, Any], list[MadeItem]]:
        """The config fields and items (contents, variables, keys) this template makes with
        `given` parameters."""
        values = self.values(given)
        return self.config_fields(values), self.made_items(values)

    def config_fields(self, values: dict[str, object]) -> dict[str, Any]:
        """The config this template makes with every parameter's value."""
        fields: dict[str, Any] = {}
        for key, raw in self.config.items():
            if key == "command" and isinstance(raw, str):
                fields[key] = fill_command(raw, values)
            else:
                # Only the template's parameters are filled in a config value: other braces
                # stay. (A value that is one parameter alone is its typed value, not its text.)
                fields[key] = fill_known(raw, values) if isinstance(raw, str) else raw
        return fields

    def contents(self, values: dict[str, object]) -> list[str]:
        """The item contents this template makes with every parameter's value."""
        return [item.content for item in self.made_items(values)]

    def made_items(self, values: dict[str, object]) -> list[MadeItem]:
        """The items this template makes with every parameter's value: bounded in number and
        in size before they are made (a 10 KB template must never make gigabytes); each
        variable and key checked, naming the item."""
        where = f"template '{self.name}': "
        count: int
        if isinstance(self.count, str):
            made = Parameter(type="int").coerce("count", render(self.count, values, where=where))
            assert isinstance(made, int)
            count = made
        else:
            count = self.count
        try:
            _check_count(count, len(self.items))
        except ValueError as exc:
            raise ValidationError(f"{where}{exc}") from None
        items: list[MadeItem] = []
        keyed: dict[str, int] = {}  # key -> the number of the item made with it
        total = 0
        for n in range(1, count + 1):
            filling = {**values, COUNTER: n}
            for pattern in self.items:
                item = pattern if isinstance(pattern, ItemPattern) else ItemPattern(content=pattern)
                content = render(item.content, filling, where=where)
                if len(content) > MAX_CONTENT_CHARS:
                    raise ValidationError(
                        f"{where}item {len(items) + 1} would be {len(content):,} characters; "
                        f"at most {MAX_CONTENT_CHARS:,}"
                    )
                total += len(content.encode("utf-8", "surrogatepass"))
                if total > MAX_BATCH_CONTENT_BYTES:
                    raise ValidationError(
                        f"{where}its items would pass "
                        f"{MAX_BATCH_CONTENT_BYTES // (1024 * 1024)} MiB of text together"
                    )
                one = _filled(item, content, filling, f"{where}item {len(items) + 1}: ")
                items.append(one)
                if one.key is None:
                    continue
                if one.key in keyed:  # said here, naming the items: no batch is made
                    raise ValidationError(
                        f"{where}items {keyed[one.key]} and {len(items)} would both have the "
                        f"key {one.key!r}; keys are unique (put {{{COUNTER}}} in it)"
                    )
                keyed[one.key] = len(items)
        return items


def _texts(item: str | ItemPattern) -> list[str]:
    return [item] if isinstance(item, str) else item.patterns()


def _filled(item: ItemPattern, content: str, values: dict[str, object], where: str) -> MadeItem:
    """The item `item` makes with `values`: its variables and key filled and checked."""
    filled = {
        name: render(value, values, where=where) if isinstance(value, str) else value
        for name, value in item.vars.items()
    }
    key = render(item.key, values, where=where) if item.key is not None else None
    try:
        return MadeItem(content=content, vars=check_vars(filled), key=check_key(key))
    except ValueError as exc:
        raise ValidationError(f"{where}{exc}") from None


def _check_count(count: int, patterns: int) -> None:
    """ValueError unless `count` rounds of `patterns` item patterns make a batch's worth."""
    if not 0 <= count <= LARGEST_MAX_ITEMS:
        raise ValueError(f"count must be between 0 and {LARGEST_MAX_ITEMS:,}, not {count}")
    if count * patterns > LARGEST_MAX_ITEMS:
        raise ValueError(
            f"count {count:,} × {patterns:,} item patterns makes {count * patterns:,} items; a "
            f"batch holds at most {LARGEST_MAX_ITEMS:,}"
        )


def fill_command(command: str, values: dict[str, object]) -> str:
    """A command template with the parameters filled in each argument, never before it is
    split: `--set "title=Space Facts"` stays one argument and `it's` no quote. Braces in a
    value stay literal (never a placeholder of the command's). A command that cannot be split
    is filled as text, and its lock check says why."""
    if not set(placeholders(command)) & set(values):
        return command  # nothing to fill: kept exactly as written
    try:
        argv = split_template(command)
    except ValueError:
        filled = fill_known(command, values)
        return str(filled)
    literal = {name: escape(str(value)) for name, value in values.items()}
    return " ".join(_quoted(str(fill_known(arg, literal))) for arg in argv)


_PLAIN_WORD = re.compile(r"[\w@%+=:,./{}-]+", re.ASCII)


def _quoted(arg: str) -> str:
    """`arg` as one word of a command template: as it is when it needs no quotes (`{output}`
    included: the template's splitter does not expand braces), else quoted."""
    return arg if _PLAIN_WORD.fullmatch(arg) else shlex.quote(arg)


def templates_dir() -> Path:
    """Where templates live: `BATCHTUI_TEMPLATES`, else `templates/` in the config folder."""
    env = os.environ.get(TEMPLATES_ENV)
    if env:
        return Path(env).expanduser()
    return config_dir() / "templates"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValidationError(f"'{name}' is not a template name ({TEMPLATE_NAME_RULE})")
    return name


def _path(name: str) -> Path:
    return templates_dir() / f"{check_name(name)}.toml"


def _one_line(exc: Exception) -> str:
    if isinstance(exc, pydantic.ValidationError):
        return model_error_line(exc, "file")
    return " ".join(str(exc).split())


def parse(name: str, text: str) -> Template:
    """A template from its TOML text (ValidationError in one line if it is malformed)."""
    try:
        data = tomllib.loads(text)
        template = Template.model_validate({**data, "name": name})
        for pattern in [
            *(text for item in template.items for text in _texts(item)),
            *(v for v in template.config.values() if isinstance(v, str)),
        ]:
            placeholders(pattern)
        # The config must make a valid batch config with the default parameter values. (Its
        # items are made only when a batch is: listing templates stays cheap.)
        if all(p.default is not None for p in template.parameters.values()):
            BatchConfig(**template.config_fields(template.values({})))
    except (tomllib.TOMLDecodeError, pydantic.ValidationError, ValidationError, ValueError) as exc:
        raise ValidationError(f"template '{name}' is malformed: {_one_line(exc)}") from None
    return template


def load(name: str) -> Template:
    """The template called `name`."""
    path = _path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(t.name for t in list_all()[0]) or "none yet"
        raise NotFoundError(f"no template '{name}' (known: {known})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read template {path}: {exc}") from None
    return parse(name, text)


def list_all() -> tuple[list[Template], list[str]]:
    """Every readable template, by name, and a one-line report for each malformed file."""
    folder = templates_dir()
    try:
        paths = sorted(folder.glob("*.toml"))
    except OSError:
        return [], []
    found, problems = [], []
    for path in paths:
        name = path.stem
        try:
            found.append(parse(check_name(name), path.read_text(encoding="utf-8")))
        except (ValidationError, OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: {exc}")
    return found, problems


def dumps(template: Template) -> str:
    """The template as TOML (its name is its file's name)."""
    import tomli_w

    data = template.model_dump(exclude={"name"}, exclude_defaults=True)
    if "config" in data:  # TOML has no null: an unset field is an absent one
        data["config"] = _no_nulls(data["config"])
        if not data["config"]:
            del data["config"]
    for parameter in data.get("parameters", {}).values():
        if parameter.get("default") is None:
            parameter.pop("default", None)
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"template '{template.name}' cannot be written as TOML: {exc}"
        ) from None


def _no_nulls(value: Any) -> Any:
    """`value` with every None left out, in nested tables and lists too (a stage's unset
    fields)."""
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value if v is not None]
    return value


def from_document(data: dict[str, Any]) -> Template:
    """A template given as a document (name, description, config, parameters, items, count)."""
    try:
        return Template.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"invalid template: {_one_line(exc)}") from None


def save(template: Template, *, overwrite: bool = False) -> Template:
    """Write the template's file (whole, or not at all); refuses to replace one unless asked.
    Returns the template as its file reads back (TOML has no null: unset fields are gone)."""
    path = _path(template.name)
    if path.exists() and not overwrite:
        raise TransitionError(
            f"template '{template.name}' exists; replace it with --force, or pick another name"
        )
    text = dumps(template)
    written = parse(template.name, text)  # what is written must read back
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise StoreError(f"cannot write template {path}: {exc.strerror or exc}") from None
    return written


def delete(name: str) -> Template:
    """Remove the template `name`; returns what it was."""
    template = load(name)
    try:
        _path(name).unlink()
    except OSError as exc:
        raise StoreError(f"cannot delete template {name}: {exc.strerror or exc}") from None
    return template


def from_batch(batch: Batch, name: str, description: str = "") -> Template:
    """A template of `batch`: its config (what differs from the defaults, without the
    machine's own folders) and its items as literal patterns (one per series item: not its
    variants), with their variables and keys."""
    defaults = BatchConfig().model_dump(mode="json")
    config = {
        key: value
        for key, value in batch.config.model_dump(mode="json").items()
        if key not in MACHINE_FIELDS and value != defaults.get(key) and value is not None
    }
    return Template(
        name=check_name(name),
        description=description or f"from batch '{batch.name}'",
        config=config,
        items=[_literal(item) for item in series_items(batch)],
    )


def _literal(item: BatchItem) -> str | ItemPattern:
    """An item as a pattern that makes it again (a plain text when it has no vars or key)."""
    if not item.vars and item.key is None:
        return escape(item.content)
    values = {k: escape(v) if isinstance(v, str) else v for k, v in (item.vars or {}).items()}
    return ItemPattern(content=escape(item.content), vars=values, key=item.key)
