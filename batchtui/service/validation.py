"""What the service checks before it changes anything: names, item content, configs, and
whether a batch can be locked or run. Each problem is one line a person can act on; the
problems that stop a lock or a run also carry a code, for a client that treats one kind of
problem apart (the editor does not repeat "has no items" while items are being added)."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic

from ..core.errors import ValidationError, model_error_line
from ..core.limits import MAX_CONTENT_BYTES, MAX_CONTENT_CHARS, MAX_NAME_CHARS
from ..core.models import BatchConfig
from ..core.problems import Problem, ProblemCode
from ..core.settings import load_host_settings
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
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise ValidationError(f"batch name '{shown}' is not valid UTF-8 text") from None
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
    try:
        content.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("item content is not valid text (unpaired surrogate)") from None


def folder_problem(folder: Path) -> str | None:
    """Why outputs cannot be written under `folder` (created if missing), or None."""
    if folder.exists() and not folder.is_dir():
        return f"output folder {folder} is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"output folder {folder} cannot be created: {exc.strerror}"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".batchtui-write-test-"):
            pass
    except OSError:
        return f"output folder {folder} is not writable"
    return None


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
    try:
        generator = get_generator(config.generator)
    except ValidationError as exc:
        problems.append(Problem(ProblemCode.GENERATOR, str(exc)))
    else:
        problems.extend(Problem(ProblemCode.GENERATOR, p) for p in generator.check(config))
    problem = folder_problem(Path(config.output_dir))
    if problem:
        problems.append(Problem(ProblemCode.OUTPUT_FOLDER, problem))
    return problems


def run_problems(batch: Batch) -> list[Problem]:
    """Every reason a run of this batch cannot start now (the generator, the output folder,
    the host settings)."""
    workdir = workdir_problem(batch.config.workdir)
    if workdir:  # what the generator would say about its tools follows from it
        return [Problem(ProblemCode.WORKDIR, workdir)]
    generator = get_generator(batch.config.generator)
    problems = [Problem(ProblemCode.GENERATOR, p) for p in generator.check(batch.config)]
    folder = folder_problem(Path(batch.config.output_dir))
    if folder:
        problems.append(Problem(ProblemCode.OUTPUT_FOLDER, folder))
    try:
        load_host_settings()
    except ValidationError as exc:
        problems.append(Problem(ProblemCode.HOST_SETTINGS, str(exc)))
    return problems
