"""A pipeline stage's cache key: a hash of everything that makes its output.

What goes in: the stage's program (its generator, or its command rendered for the item with
the paths that change from run to run — `{output}`, `{in}`, `{stage.NAME}`, `{scratch}` — and
the run-bound values `{slot}` and `{attempt}` left as their names), its output type, the
settings its generator draws with, the item's content, variables, key and variant, and the
keys of the stages it takes. What stays out: time limits, retries, pools, rates, concurrency
— how and where it ran, never what it made. So an unchanged stage of a changed pipeline, or of
another batch on the same output folder, finds its output again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from ..core.models import BatchConfig
from ..core.models.stages import StageConfig
from ..generators.base import Job
from ..generators.command import STAGE_PREFIX, job_values, parsed_template, render_argv_parsed

KEY_VERSION = 1
"""Bumped when what goes into a key changes: older entries are then simply not found."""

_RUN_BOUND = ("output", "in", "scratch", "slot", "attempt", "item_id")

_DRAWING_FIELDS = (
    "platform", "width", "height", "duration", "fps", "style", "background", "text_color",
    "output_ext", "var_defaults", "variants",
)  # fmt: skip
"""The config's settings a generator stage's output can depend on (its look and size)."""


def stage_key(
    stage: StageConfig,
    config: BatchConfig,
    job: Job,
    input_keys: Mapping[str, str],
    version: str = "1",
) -> str:
    """The key of `stage`'s output for `job` (whose `config` is the stage's own), given the
    keys of the earlier stages' outputs it takes (by stage name) and the version of the
    stage's generator (`Generator.version`)."""
    recipe: dict[str, object] = {
        "v": KEY_VERSION,
        "ext": config.output_ext,
        "content": job.content,
        "vars": {**(config.var_defaults or {}), **job.vars},
        "key": job.key,
        "variant": job.variant,
        "seed": job.seed,
        "inputs": dict(input_keys),
    }
    if stage.command is not None:
        recipe["command"] = _command_recipe(stage.command, job)
    else:
        fields = config.render_fields()
        recipe["generator"] = stage.program
        recipe["version"] = version
        recipe["drawing"] = {name: fields.get(name) for name in _DRAWING_FIELDS}
        recipe["item"] = (job.index, job.total)  # a generator may draw the item's number
    blob = json.dumps(recipe, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _command_recipe(command: str, job: Job) -> list[str]:
    """The stage's argv for this item, with the run-bound values as their own names."""
    parsed, _ = parsed_template(command)
    values = job_values(job)
    for name in _RUN_BOUND:
        values[name] = f"{{{name}}}"
    for name in job.inputs:
        values[f"{STAGE_PREFIX}{name}"] = f"{{{STAGE_PREFIX}{name}}}"
    values.setdefault("in", "{in}")
    return render_argv_parsed(parsed, values)
