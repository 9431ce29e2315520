"""What a pipeline stage's generator takes from the stages before it: the text, the voice,
the video, picked by file type among `job.inputs` (the previous stage's first), and the item's
own variables with the config's defaults under them."""

from __future__ import annotations

from pathlib import Path

from ..core.item_vars import VarValue, as_text
from ..core.models.config import AUDIO_EXTENSIONS
from .base import GeneratorError, Job

TEXT_TYPES = (".txt", ".md")
AUDIO_TYPES = tuple(f".{ext}" for ext in sorted(AUDIO_EXTENSIONS))
VIDEO_TYPES = (".mp4", ".mov", ".mkv", ".m4v", ".webm")


def find_input(job: Job, types: tuple[str, ...]) -> Path | None:
    """The input of one of `types` (the previous stage's first, then the earlier ones from the
    latest back), or None."""
    candidates = [job.input] if job.input is not None else []
    candidates += reversed(list(job.inputs.values()))
    for path in candidates:
        if path is not None and path.suffix.lower() in types:
            return path
    return None


def need_input(job: Job, types: tuple[str, ...], what: str) -> Path:
    """`find_input`, or a one-line GeneratorError naming what is missing."""
    found = find_input(job, types)
    if found is None:
        given = ", ".join(path.name for path in job.inputs.values()) or "none"
        raise GeneratorError(
            f"needs {what} from an earlier stage ({'/'.join(types)}); its inputs: {given}"
        )
    return found


def var(job: Job, name: str) -> VarValue | None:
    """The item's variable `name`, else the config's default of it, else None."""
    if name in job.vars:
        return job.vars[name]
    return (job.config.var_defaults or {}).get(name)


def var_text(job: Job, name: str, default: str) -> str:
    value = var(job, name)
    return as_text(value) if value is not None else default


def var_number(job: Job, name: str, default: float, low: float, high: float) -> float:
    """A numeric variable within [low, high]; a one-line GeneratorError otherwise."""
    value = var(job, name)
    if value is None:
        return default
    try:
        number = float(as_text(value))
    except ValueError:
        raise GeneratorError(f"{{{name}}} must be a number, not '{as_text(value)}'") from None
    if not low <= number <= high:
        raise GeneratorError(f"{{{name}}} must be between {low:g} and {high:g}, not {number:g}")
    return number


def read_text_input(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise GeneratorError(f"cannot read {path.name}: {exc.strerror or exc}") from None
