"""What the service checks before it changes anything: names, item content, configs, and
whether a batch can be locked or run. Each problem is one line a person can act on; the
problems that stop a lock or a run also carry a code, for a client that treats one kind of
problem apart (the editor does not repeat "has no items" while items are being added)."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic

from ..core import limits
from ..core.errors import ValidationError, model_error_line
from ..core.item_keys import first_repeat
from ..core.limits import (
    MAX_BATCH_CONTENT_BYTES,
    MAX_CONTENT_BYTES,
    MAX_CONTENT_CHARS,
    MAX_NAME_CHARS,
)
from ..core.models import BatchConfig
from ..core.problems import Problem, ProblemCode
from ..core.settings import load_host_settings
from ..core.textsafe import not_utf8
from ..generators import get_generator

if TYPE_CHECKING:
    from ..core.models import Batch


def new_id() -> str:
    """A fresh 12-hex-digit id, never all decimal digits (those read as item positions)."""
    while True:
        candidate = secrets.token_hex(6)
        if not candidate.isdigit():
            return candidate


def clean_name(name: str) -> str:
    """A batch name with runs of whitespace folded; ValidationError if blank or too long."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError("batch name is blank")
    shown = not_utf8(name)
    if shown is not None:
        raise ValidationError(f"batch name '{shown}' is not valid UTF-8 text")
    if len(name) > MAX_NAME_CHARS:
        raise ValidationError(
            f"batch name is too long ({len(name)} characters; at most {MAX_NAME_CHARS})"
        )
    return name


def make_config(**fields: Any) -> BatchConfig:
    """A validated BatchConfig; ValidationError with every problem on one line otherwise."""
    fields = {key: value for key, value in fields.items() if value is not None}
    try:
        return BatchConfig(**fields)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"invalid config: {model_error_line(exc)}") from None


def check_content(content: str) -> None:
    """Refuse item content that cannot be stored and passed on as one argument."""
    if not isinstance(content, str) or not content.strip():
        raise ValidationError("item content is blank; write a prompt or topic")
    if "\x00" in content:
        raise ValidationError("item content contains a NUL character, which no program can receive")
    if len(content) > MAX_CONTENT_CHARS or len(content.encode("utf-8", "surrogatepass")) > (
        MAX_CONTENT_BYTES
    ):
        raise ValidationError(
            f"item content is too long ({len(content):,} characters; at most "
            f"{MAX_CONTENT_CHARS:,} characters and {MAX_CONTENT_BYTES // 1024} KiB)"
        )
    if not_utf8(content) is not None:
        raise ValidationError("item content is not valid text (unpaired surrogate)")


def folder_problem(folder: Path) -> str | None:
    """Why outputs cannot be written under `folder`, or None. A check only reads: nothing is
    created here (the run makes the folder when it writes the first output)."""
    if folder.exists() and not folder.is_dir():
        return f"output folder {folder} is a file, not a folder"
    nearest = folder
    while not nearest.exists():  # the run will create the missing part from here
        if nearest.parent == nearest:
            break
        nearest = nearest.parent
    if not nearest.is_dir():
        return f"output folder {folder} cannot be created: {nearest} is a file"
    if not _writable(nearest):
        if nearest == folder:
            return f"output folder {folder} is not writable"
        return f"output folder {folder} cannot be created: {nearest} is not writable"
    return None


def _writable(folder: Path) -> bool:
    """Whether files can be made in `folder`, found without leaving anything behind: a file
    with no name (O_TMPFILE) is made and let go; where the filesystem cannot make those, a
    virtual one (no blocks at all: /proc, /sys) takes nothing, and any other is asked."""
    flag = getattr(os, "O_TMPFILE", 0)
    if flag:
        try:
            os.close(os.open(folder, flag | os.O_WRONLY, 0o600))
            return True
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                return False  # EACCES, EROFS, EPERM, ENOSPC…: it cannot
    try:
        if os.statvfs(folder).f_blocks == 0:
            return False
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def workdir_problem(workdir: str) -> str | None:
    """Why items cannot run in `workdir` (their working folder), or None."""
    if not os.path.isdir(workdir):
        gone = "is not a folder" if os.path.exists(workdir) else "does not exist (deleted?)"
        return f"working folder {workdir} {gone}; recreate it, or unlock and set --workdir"
    return None


def lock_problems(batch: Batch) -> list[Problem]:
    """Every reason this batch cannot be locked (empty when it can)."""
    problems: list[Problem] = []
    config = batch.config
    if not batch.items:
        problems.append(
            Problem(ProblemCode.NO_ITEMS, f"batch '{batch.name}' has no items; add at least one")
        )
    if len(batch.items) > config.max_items:
        problems.append(
            Problem(
                ProblemCode.TOO_MANY_ITEMS,
                f"{len(batch.items)} items exceed the maximum of {config.max_items}",
            )
        )
    renders = len(batch.items) * config.variants
    if renders > limits.LARGEST_MAX_ITEMS:
        problems.append(
            Problem(
                ProblemCode.TOO_MANY_ITEMS,
                f"{len(batch.items)} items × {config.variants} variants is {renders:,} renders; "
                f"at most {limits.LARGEST_MAX_ITEMS:,}",
            )
        )
    repeated = first_repeat(item.key for item in batch.items)
    if repeated is not None:  # only a hand-edited file gets here: adding and editing refuse it
        rows = [item.label for item in batch.items if item.key == repeated]
        problems.append(
            Problem(
                ProblemCode.ITEM_KEYS,
                f"key {repeated!r} names items {', '.join(rows)}; give each its own",
            )
        )
    preset = config.preset
    if config.duration > preset.max_duration:
        problems.append(
            Problem(
                ProblemCode.TOO_LONG_FOR_PLATFORM,
                f"duration {config.duration:g}s exceeds the {preset.label} limit of "
                f"{preset.max_duration:g}s",
            )
        )
    workdir = workdir_problem(config.workdir)
    if workdir:
        problems.append(Problem(ProblemCode.WORKDIR, workdir))
    problems.extend(generator_problems(config))
    if config.rate_key:  # a host-wide rate must be one this host names
        try:
            load_host_settings().rate_for(config.rate_key)
        except ValidationError as exc:
            problems.append(Problem(ProblemCode.HOST_SETTINGS, str(exc)))
    problem = folder_problem(Path(config.output_dir))
    if problem:
        problems.append(Problem(ProblemCode.OUTPUT_FOLDER, problem))
    problems.extend(Problem(ProblemCode.ITEM_VARS, p) for p in missing_vars(batch))
    return problems


def generator_problems(config: BatchConfig) -> list[Problem]:
    """What the generator (or each pipeline stage's program, and its pool) says against
    `config`, one line each."""
    if not config.stages:
        try:
            generator = get_generator(config.generator)
        except ValidationError as exc:
            return [Problem(ProblemCode.GENERATOR, str(exc))]
        return [Problem(ProblemCode.GENERATOR, p) for p in generator.check(config)]
    from ..core.models.config import for_stage
    from ..generators.command import template_problems

    problems: list[Problem] = []
    for index, stage in enumerate(config.stages):
        earlier = [s.name for s in config.stages[:index]]
        said = f"stage '{stage.name}': "
        if stage.command is not None:
            found = template_problems(stage.command, config.workdir, earlier)
        else:
            try:
                found = get_generator(stage.program).check(for_stage(config, index))
            except ValidationError as exc:
                found = [str(exc)]
        problems.extend(Problem(ProblemCode.GENERATOR, said + p) for p in found)
    return problems


def pool_problems(config: BatchConfig) -> list[Problem]:
    """For a run on this host: the pipeline stages' pools this host's settings do not name.
    Not asked at lock (any well-formed name locks) nor for a run on a render farm, where a
    pool is the workers' Dask resource of that name and needs no setting here."""
    named = [stage for stage in config.stages or [] if stage.pool is not None]
    if not named:
        return []
    try:
        pools = load_host_settings().pools
    except ValidationError as exc:
        return [Problem(ProblemCode.HOST_SETTINGS, str(exc))]
    return [
        Problem(
            ProblemCode.HOST_SETTINGS,
            f"stage '{stage.name}': pool '{stage.pool}' is not one this host names (add "
            f"[slots] {stage.pool} = N to settings.toml; or run it on a render farm whose "
            f"workers offer it: --resources {stage.pool}=1)",
        )
        for stage in named
        if stage.pool not in pools
    ]


def missing_vars(batch: Batch) -> list[str]:
    """One line for each variable the command uses that some items lack (with no default),
    naming those items by position."""
    config = batch.config
    templates: list[str | None]
    if config.stages:
        templates = [stage.command for stage in config.stages]
    elif config.generator == "command":
        templates = [config.command]
    else:
        return []
    from ..generators.command import used_vars

    defaults = config.var_defaults or {}
    lines = []
    names = [name for template in templates for name in used_vars(template)]
    for name in dict.fromkeys(names):
        if name in defaults:
            continue
        lacking = [item.position for item in batch.items if name not in (item.vars or {})]
        if not lacking:
            continue
        shown = ", ".join(map(str, lacking[:10])) + (" …" if len(lacking) > 10 else "")
        which, them = (
            (f"item {shown} has", "it") if len(lacking) == 1 else (f"items {shown} have", "them")
        )
        lines.append(f"{which} no {{{name}}}; give {them} one, or set a default for {name}")
    return lines


def run_problems(batch: Batch, *, on_farm: bool = False) -> list[Problem]:
    """Every reason a run of this batch cannot start now (the generator, the output folder,
    the host settings; for a run on this host, not `on_farm`, its stages' pools)."""
    workdir = workdir_problem(batch.config.workdir)
    if workdir:  # what the generator would say about its tools follows from it
        return [Problem(ProblemCode.WORKDIR, workdir)]
    problems = generator_problems(batch.config)
    folder = folder_problem(Path(batch.config.output_dir))
    if folder:
        problems.append(Problem(ProblemCode.OUTPUT_FOLDER, folder))
    if batch.config.confirm_forecast and not batch.config.canary:
        problems.append(
            Problem(
                ProblemCode.RUN_OPTIONS,
                "confirm_forecast needs canary: the forecast comes from the canary "
                "(--canary, or --no-confirm-forecast)",
            )
        )
    try:
        host = load_host_settings()
        if batch.config.rate_key:  # (also checked at lock: settings.toml may change since)
            host.rate_for(batch.config.rate_key)
    except ValidationError as exc:
        problems.append(Problem(ProblemCode.HOST_SETTINGS, str(exc)))
        return problems  # (the pools would say the same again)
    if not on_farm:
        problems.extend(pool_problems(batch.config))
    return problems


def content_bytes(content: str) -> int:
    """Bytes one item's content takes (as stored and as passed on)."""
    return len(content.encode("utf-8", "surrogatepass"))


def check_batch_size(name: str, kept: Iterable[str], added: Iterable[str]) -> None:
    """Refuse a change that would make one batch's contents, together, larger than
    `MAX_BATCH_CONTENT_BYTES` (a small request must never make a batch of gigabytes)."""
    total = sum(map(content_bytes, kept)) + sum(map(content_bytes, added))
    if total > MAX_BATCH_CONTENT_BYTES:
        raise ValidationError(
            f"batch '{name}' would hold {total / 1024 / 1024:.1f} MiB of item text; at most "
            f"{MAX_BATCH_CONTENT_BYTES // (1024 * 1024)} MiB (split it into several batches)"
        )
