"""A pipeline's stages as people write them: a TOML file of `[[stages]]` tables, or JSON (a
list of stages, or an object with a `stages` list). One reader for the CLI's `--stages FILE`
and templates; the config checks what the stages say."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models.stages import StageConfig

EXAMPLE = """\
# A narrated Short in four stages, all built in (no download, no key):
#   batchtui create Shorts --stages narrated.toml
# Each item's content is its narration (or give it a `script` variable); `voice` (en-us,
# en-gb, fr, de, es, ja, …) and `wpm` variables change the voice; `loudness` the target.

[[stages]]
name = "script"                  # the narration text
generator = "script"

[[stages]]
name = "voice"                   # spoken offline (eSpeak NG)
generator = "speech"

[[stages]]
name = "card"                    # the title card with captions timed to the voice
generator = "titlecard"

[[stages]]
name = "mux"                     # card and voice, loudness-normalised to -14 LUFS
generator = "mux"
"""
"""A pipeline that works on a fresh install: what `batchtui stages --example` prints and the
TUI's narrated example (E) makes."""


def parse_stages(text: str, source: str = "stages") -> list[dict[str, Any]] | None:
    """The stages `text` lists (None: it clears them, being empty or `none`); ValueError with
    one line saying what is wrong and where."""
    stripped = text.strip().lstrip("\ufeff")
    if not stripped or stripped.lower() == "none":
        return None
    data: Any
    if stripped[0] in "[{" and not stripped.startswith("[["):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise ValueError(f"{source}: not valid JSON ({exc})") from None
    else:
        try:
            data = tomllib.loads(stripped)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{source}: not valid TOML ({exc})") from None
    if isinstance(data, dict):
        if set(data) != {"stages"}:
            extra = ", ".join(sorted(set(data) - {"stages"})) or "no 'stages'"
            raise ValueError(f"{source}: expected only [[stages]] tables (found {extra})")
        data = data["stages"]
    if not isinstance(data, list) or not all(isinstance(stage, dict) for stage in data):
        raise ValueError(f"{source}: stages must be a list of tables, one per stage")
    return data or None


def stages_toml(stages: Sequence[StageConfig] | None) -> str:
    """`stages` as the TOML `parse_stages` reads back (`validate` by its short name, unset
    fields left out); with none, the example to start from."""
    if not stages:
        return EXAMPLE
    import tomli_w

    blocks = []
    for stage in stages:  # as [[stages]] tables, one key a line: what people write
        fields = {k: v for k, v in stage.model_dump(by_alias=True).items() if v is not None}
        blocks.append("[[stages]]\n" + "".join(tomli_w.dumps({k: v}) for k, v in fields.items()))
    return "\n".join(blocks)
