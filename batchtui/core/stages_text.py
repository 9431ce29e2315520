"""A pipeline's stages as people write them: a TOML file of `[[stages]]` tables, or JSON (a
list of stages, or an object with a `stages` list). One reader for the CLI's `--stages FILE`
and templates; the config checks what the stages say."""

from __future__ import annotations

import json
import tomllib
from typing import Any

EXAMPLE = """\
[[stages]]
name = "script"
command = "python write.py {content} {output}"
pool = "cpu"

[[stages]]
name = "render"
command = "blender -b scene.blend -P render.py -- {in} {output}"
ext = "mp4"
pool = "gpu"
"""


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
