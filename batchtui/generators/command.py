"""The command generator: run any pipeline as an argv template, never through a shell.

The template is split into argv once (shell-like quoting, `shlex`); each `{placeholder}` is then
replaced inside its own argument, so item content — whatever it holds — is exactly one argument.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import string
from pathlib import Path

from ..core.failures import RateLimited
from ..core.item_vars import VAR_PREFIX, as_text, var_of
from ..core.models import BatchConfig
from .base import Context, Generator, GeneratorError, Job

PLACEHOLDERS: dict[str, str] = {
    "content": "the item's text",
    "output": "the file to write (required)",
    "index": "the item's position, 1-based",
    "total": "how many items the batch has",
    "batch": "the batch name",
    "batch_id": "the batch id",
    "item_id": "the item id",
    "key": "the item's key (its position when it has none)",
    "variant": "which render of the item this is, 1..variants (1 without variants)",
    "seed": "the item's seed variable, else a number of its own per item and variant",
    "take": "which take of the item this is: 1, then 2, 3… as rejected outputs are made again",
    "attempt": "the attempt number, from 1",
    "slot": "the slot the item runs in, 0..N-1 (a GPU each: BATCHTUI_SLOT has it too)",
    "width": "frame width in pixels",
    "height": "frame height in pixels",
    "duration": "duration in seconds",
    "fps": "frames per second",
    "ext": "the output extension",
    "style": "the style preset's name (night, sunrise, …)",
    "background": "background colour (the style's top colour unless one was set)",
    "text_color": "text colour (the style's unless one was set)",
    "scratch": "a private folder for temporary files",
}

STAGE_PREFIX = "stage."
"""`{stage.NAME}`: an earlier pipeline stage's output."""

STAGE_PLACEHOLDERS: dict[str, str] = {
    "in": "the previous stage's output (a pipeline stage after the first)",
    "stage.NAME": "the output of the earlier stage NAME (a pipeline stage)",
}

_PROGRESS_LINE = re.compile(r"^\s*PROGRESS\s+([0-9]*\.?[0-9]+)\s*$")
_RETRY_AFTER_LINE = re.compile(r"^\s*RETRY-AFTER:?\s+([0-9]*\.?[0-9]+)\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*%")
_FORMATTER = string.Formatter()


def split_template(template: str) -> list[str]:
    """Split a template into argv; ValueError with a readable reason when it cannot be."""
    try:
        argv = shlex.split(template)
    except ValueError as exc:
        raise ValueError(f"command template cannot be split: {exc} (unbalanced quotes?)") from None
    if not argv:
        raise ValueError("command template is empty")
    return argv


def _fields(arg: str) -> list[tuple[str, str | None]]:
    try:
        return [(literal, field) for literal, field, _, _ in _FORMATTER.parse(arg)]
    except ValueError as exc:
        raise ValueError(
            f"bad placeholder in '{arg}': {exc} (write {{{{ and }}}} for braces)"
        ) from None


def template_problems(
    template: str | None, workdir: str, earlier: list[str] | None = None
) -> list[str]:
    """Everything wrong with a command template, as readable one-line problems. `earlier`:
    for a pipeline stage, the earlier stages it may take (`{in}` needs one; `{stage.NAME}`
    must name one of them)."""
    if not template or not template.strip():
        return ["the command generator needs a command template (--command)"]
    try:
        argv = split_template(template)
    except ValueError as exc:
        return [str(exc)]
    problems: list[str] = []
    used: set[str] = set()
    for arg in argv:
        try:
            fields = _fields(arg)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        for _, field in fields:
            if field is None:
                continue
            if field == "in" or field.startswith(STAGE_PREFIX):
                problem = _stage_problem(field, earlier)
                if problem:
                    problems.append(problem)
            elif field not in PLACEHOLDERS and var_of(field) is None:
                problems.append(
                    f"unknown placeholder {{{field}}} (known: "
                    + " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
                    + ", and an item variable's {name})"
                )
            used.add(field)
    if "output" not in used:
        problems.append("command template must write to {output}")
    if any(field for _, field in _safe_fields(argv[0])):
        problems.append("the executable (first word) cannot be a placeholder")
    else:
        problem = executable_problem(argv[0], workdir)
        if problem:
            problems.append(problem)
    return problems


def _stage_problem(field: str, earlier: list[str] | None) -> str | None:
    """Why `{in}` or `{stage.NAME}` cannot be used here, or None."""
    if earlier is None:
        return f"{{{field}}} is a pipeline stage's placeholder (this batch has no stages)"
    if not earlier:
        return f"{{{field}}}: the first stage has no earlier stage to take"
    if field == "in":
        return None
    name = field[len(STAGE_PREFIX) :]
    if name not in earlier:
        return f"{{{field}}}: no earlier stage named '{name}' (earlier: {', '.join(earlier)})"
    return None


def used_vars(template: str | None) -> list[str]:
    """The item variables a command template uses (`{voice}`, `{vars.content}`), in order
    (none when it cannot be parsed: its own problems say why)."""
    if not template:
        return []
    try:
        argv = split_template(template)
    except ValueError:
        return []
    names: list[str] = []
    for arg in argv:
        for _, field in _safe_fields(arg):
            if field is None or (field in PLACEHOLDERS and not field.startswith(VAR_PREFIX)):
                continue
            if field == "in" or field.startswith(STAGE_PREFIX):  # a pipeline's, not a var
                continue
            name = var_of(field)
            if name is not None and name not in names:
                names.append(name)
    return names


def _safe_fields(arg: str) -> list[tuple[str, str | None]]:
    try:
        return _fields(arg)
    except ValueError:
        return []


def executable_problem(program: str, workdir: str) -> str | None:
    """Why `program` cannot be run from `workdir`, or None if it can."""
    if os.sep in program:
        path = Path(workdir, program) if not os.path.isabs(program) else Path(program)
        if not path.exists():
            return f"executable not found: {path}"
        if not path.is_file():
            return f"executable is not a file: {path}"
        if not os.access(path, os.X_OK):
            return f"executable is not executable (chmod +x?): {path}"
        return None
    if shutil.which(program) is None:
        return f"executable '{program}' not found on PATH"
    return None


def render_argv(argv: list[str], values: dict[str, str]) -> list[str]:
    """Substitute placeholders inside each argument; values are never re-parsed or split."""
    return _render(tuple(tuple(_fields(arg)) for arg in argv), values)


Parsed = tuple[tuple[tuple[str, str | None], ...], ...]


def _render(parsed: Parsed, values: dict[str, str]) -> list[str]:
    out = []
    for fields in parsed:
        parts = []
        for literal, field in fields:
            parts.append(literal)
            if field is not None:
                if field not in values:  # the lock checks this; a guard for the rest
                    raise GeneratorError(f"the item has no {{{field}}} (and no default)")
                parts.append(values[field])
        out.append("".join(parts))
    return out


def render_argv_parsed(parsed: Parsed, values: dict[str, str]) -> list[str]:
    """A template parsed once (`parsed_template`) rendered with `values`."""
    return _render(parsed, values)


@functools.lru_cache(maxsize=32)
def parsed_template(template: str) -> tuple[Parsed, bool]:
    """A template split and parsed once per run, not once per item (with whether it uses
    `{scratch}`); ValueError when it cannot be."""
    argv = split_template(template)
    parsed = tuple(tuple(_fields(arg)) for arg in argv)
    return parsed, any("{scratch}" in arg for arg in argv)


def job_values(job: Job, slot: int = 0) -> dict[str, str]:
    """The placeholder values for one job (running in slot `slot`)."""
    from ..core.styles import DEFAULT_STYLE, STYLES

    config = job.config
    style = STYLES[config.style or DEFAULT_STYLE]
    return (
        {
            "content": job.content,
            "output": str(job.output),
            "index": str(job.index),
            "total": str(job.total),
            "batch": job.batch_name,
            "batch_id": job.batch_id,
            "item_id": job.item_id,
            "key": job.key or str(job.index),
            "variant": str(job.variant or 1),
            "seed": job.seed,
            "take": str(job.take),
            "attempt": str(job.attempt),
            "slot": str(slot),
            "width": str(config.width),
            "height": str(config.height),
            "duration": f"{config.duration:g}",
            "fps": str(config.fps),
            "ext": config.output_ext,
            "style": style.key,
            "background": config.background or style.top,  # the style's, unless one was set
            "text_color": config.text_color or style.text,
            "scratch": str(job.scratch),
        }
        | _var_values(job)
        | _stage_values(job)
    )


def _stage_values(job: Job) -> dict[str, str]:
    """A pipeline stage's inputs: `{in}` (the previous stage's output) and `{stage.NAME}`."""
    if not job.inputs:
        return {}
    values = {f"{STAGE_PREFIX}{name}": str(path) for name, path in job.inputs.items()}
    if job.input is not None:
        values["in"] = str(job.input)
    return values


def _var_values(job: Job) -> dict[str, str]:
    """The item's variables (the config's defaults under its own), as placeholders: `{NAME}`
    unless a built-in has that name, and `{vars.NAME}` always."""
    values: dict[str, str] = {}
    merged = {**(job.config.var_defaults or {}), **job.vars}
    for name, value in merged.items():
        text = as_text(value)
        values[f"{VAR_PREFIX}{name}"] = text
        if name not in PLACEHOLDERS:
            values[name] = text
    return values


def parse_progress(line: str) -> float | None:
    """A fraction from `PROGRESS 0.42` or `42%`, else None."""
    match = _PROGRESS_LINE.match(line)
    if match:
        return float(match.group(1))
    match = _PERCENT.search(line)
    if match:
        value = float(match.group(1))
        if value <= 100:
            return value / 100.0
    return None


def parse_retry_after(line: str) -> float | None:
    """The seconds a `RETRY-AFTER 20` line asks to wait (the item is rate-limited), else
    None."""
    match = _RETRY_AFTER_LINE.match(line)
    return float(match.group(1)) if match else None


class CommandGenerator(Generator):
    """Runs `config.command` per item; success is judged by the output file, not the exit code
    alone."""

    name = "command"
    description = "run any program per item: an argv template with {content}, {output}, …"

    def check(self, config: BatchConfig) -> list[str]:
        return template_problems(config.command, config.workdir)

    async def generate(self, job: Job, ctx: Context) -> None:
        if not job.config.command:
            raise GeneratorError("no command template configured")
        parsed, uses_scratch = parsed_template(job.config.command)
        if uses_scratch:
            job.make_scratch()
        argv = _render(parsed, job_values(job, ctx.slot))

        retry_after: list[float] = []

        def on_line(stream: str, line: str) -> None:
            seconds = parse_retry_after(line)  # on either stream: it is the item's last word
            if seconds is not None:
                retry_after.append(seconds)
            elif stream == "stdout":
                fraction = parse_progress(line)
                if fraction is not None:
                    ctx.progress(fraction)

        try:
            await ctx.run(argv, on_line=on_line)
        except GeneratorError as exc:
            if retry_after:  # (its last words, the RETRY-AFTER line, are said once)
                said = "RETRY-AFTER" in str(exc).upper()
                reason = str(exc) if said else f"{exc} (RETRY-AFTER {retry_after[-1]:g})"
                raise RateLimited(reason, retry_after[-1]) from exc
            raise
        if retry_after:  # it said "later", whatever its exit status: its output is not used
            raise RateLimited(f"asked to retry after {retry_after[-1]:g}s", retry_after[-1])
