"""Generators by name: the built-ins plus any registered under entry-point group
`batchtui.generators` (a class or factory returning a `Generator`)."""

from __future__ import annotations

from importlib.metadata import entry_points

from ..core.errors import ValidationError
from .base import Context, Generator, GeneratorError, Job
from .command import CommandGenerator
from .mux import MuxGenerator
from .script import ScriptGenerator
from .speech import SpeechGenerator
from .titlecard import TitlecardGenerator

ENTRY_POINT_GROUP = "batchtui.generators"
BUILTIN: dict[str, type[Generator]] = {
    TitlecardGenerator.name: TitlecardGenerator,
    CommandGenerator.name: CommandGenerator,
    ScriptGenerator.name: ScriptGenerator,
    SpeechGenerator.name: SpeechGenerator,
    MuxGenerator.name: MuxGenerator,
}


def _plugins() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Every generator name this installation knows."""
    return sorted({*BUILTIN, *_plugins()})


def get_generator(name: str) -> Generator:
    """An instance of the generator called `name`; ValidationError if there is none."""
    if name in BUILTIN:
        return BUILTIN[name]()
    plugin = _plugins().get(name)
    if plugin is None:
        raise ValidationError(f"unknown generator '{name}' (known: {', '.join(available())})")
    try:
        factory = plugin.load()  # type: ignore[attr-defined]
        generator = factory()
    except Exception as exc:
        raise ValidationError(f"generator '{name}' failed to load: {exc}") from None
    if not isinstance(generator, Generator):
        raise ValidationError(f"generator '{name}' is not a batchtui Generator")
    return generator


__all__ = ["Context", "Generator", "GeneratorError", "Job", "available", "get_generator"]
