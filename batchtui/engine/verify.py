"""Is an output real? "Success" means a valid output, not exit code 0: the file exists, is not
empty, and a video has the locked resolution and duration (that is how a locked config keeps a
series consistent)."""

from __future__ import annotations

import os
from pathlib import Path

from ..core.models import BatchConfig
from ..generators.base import GeneratorError
from ..generators.media import ProbeError, probe_video


def video_hint(config: BatchConfig) -> str:
    """Which setting makes a batch expect videos, and how to change it (in the TUI's words and
    the CLI's): for a command whose outputs are not videos."""
    expects = (
        f"the batch expects .{config.output_ext} videos"
        if config.validate_output == "auto"
        else "the batch's validation is 'video'"
    )
    return f"{expects}: set Ext or Validate in the config (--ext txt, or --validate nonempty)"


def duration_tolerance(config: BatchConfig) -> float:
    """How far a video's duration may stray from the locked one: two frames, at least 0.1s."""
    return max(2.0 / config.fps, 0.1)


async def verify_output(path: Path, config: BatchConfig, *, any_length: bool = False) -> None:
    """Raise GeneratorError unless `path` is a valid output for `config`. `any_length`: a
    video may last any length up to its platform's longest (a pipeline stage whose length
    follows its input, a narrated card)."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise GeneratorError(
                f"the output folder {path.parent} was deleted while the item ran"
            ) from None
        raise GeneratorError("finished without writing its output file") from None
    if config.validate_output == "exists":
        return
    if size == 0:
        raise GeneratorError("wrote an empty output file")
    if not config.expects_video(path.suffix):
        return
    try:
        info = await probe_video(path)
    except ProbeError as exc:
        raise GeneratorError(f"output is not a valid video ({video_hint(config)}): {exc}") from None
    if (info.width, info.height) != (config.width, config.height):
        raise GeneratorError(
            f"output is {info.width}x{info.height}, the batch is locked to "
            f"{config.width}x{config.height}"
        )
    if any_length:
        longest = config.preset.max_duration
        if info.duration > longest + duration_tolerance(config):
            raise GeneratorError(
                f"output lasts {info.duration:.2f}s, longer than {config.preset.label} allows "
                f"({longest:g}s)"
            )
        return
    if abs(info.duration - config.duration) > duration_tolerance(config):
        raise GeneratorError(
            f"output lasts {info.duration:.2f}s, the batch is locked to {config.duration:g}s"
        )
