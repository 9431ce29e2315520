"""`script`: a narrated pipeline's first stage — the text to be spoken, as a .txt: the item's
`script` variable when it has one, else its content, made one clean paragraph."""

from __future__ import annotations

import unicodedata

import anyio

from ..core.models import BatchConfig
from .base import Context, Generator, GeneratorError, Job
from .inputs import var_text

SCRIPT_VAR = "script"


def narration_text(job: Job) -> str:
    """The item's narration: its `script` variable, else its content, as one paragraph with
    no control characters (a line break is a space: it is read aloud, not laid out)."""
    raw = var_text(job, SCRIPT_VAR, job.content)
    kept = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in raw
        if unicodedata.category(c) != "Cf" or c in "\u200d"  # (a joiner keeps an emoji whole)
    )
    return " ".join(kept.split())


class ScriptGenerator(Generator):
    """Writes the narration text (a first stage; a later `speech` stage reads it)."""

    name = "script"
    description = "the item's narration text (its `script` variable, else its content) as .txt"

    def check(self, config: BatchConfig) -> list[str]:
        if config.output_ext not in ("txt", "md"):
            return [f"script writes text: its output type must be txt, not '{config.output_ext}'"]
        return []

    async def generate(self, job: Job, ctx: Context) -> None:
        text = narration_text(job)
        if not text:
            raise GeneratorError("the narration is empty (no script variable and no content)")
        await anyio.Path(job.output).write_text(text + "\n", encoding="utf-8")
        ctx.log(f"script: {len(text.split())} words")
        ctx.progress(1.0)
