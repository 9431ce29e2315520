"""Measuring an output for QA (`core/qa.py` judges): one ffmpeg pass with only the filters the
chosen checks need, and a one-frame pass for the first frame, run at once; argv lists, never a
shell; ffmpeg is killed at the timeout."""

from __future__ import annotations

import subprocess
from collections.abc import Collection
from pathlib import Path

import anyio

from ..core.models import BatchConfig
from ..core.qa import (
    BLACK_PIXEL,
    BLACK_SECONDS,
    FROZEN_NOISE,
    FROZEN_SECONDS,
    MediaStats,
    check_names,
    findings_line,
    judge,
    parse_measurement,
)
from ..generators.base import GeneratorError
from ..generators.media import ffmpeg_exe

QA_SECONDS = 120.0
"""The longest a measurement may take (a long clip decodes at many times real time)."""
_AUDIO_CHECKS = frozenset({"silent", "clipped", "loudness"})


class QaError(Exception):
    """The output could not be measured (unreadable, or ffmpeg took too long)."""


class QaFailed(GeneratorError):
    """An output failed its config's QA checks (the failure kind `qa`)."""


async def check_qa(path: Path, config: BatchConfig) -> None:
    """Raise QaFailed (one line: every failed check's reason) unless `path` passes the
    config's QA checks; nothing to do without any."""
    if not config.qa:
        return
    try:
        stats = await measure(path, config.qa)
    except QaError as exc:
        raise QaFailed(f"qa: could not measure the output: {exc}") from None
    found = judge(
        stats,
        config.qa,
        loudness_target=config.qa_loudness,
        loudness_tolerance=config.qa_tolerance,
    )
    if found:
        raise QaFailed(findings_line(found))


def measure_argv(path: Path, checks: Collection[str]) -> list[str]:
    """The measuring pass for `checks` (the stream summary always comes with it)."""
    chosen = set(check_names(checks))
    video = []
    if "black" in chosen:
        video.append(f"blackdetect=d={BLACK_SECONDS}:pix_th={BLACK_PIXEL:.2f}")
    if "frozen" in chosen:
        video.append(f"freezedetect=n={FROZEN_NOISE:g}:d={FROZEN_SECONDS:g}")
    argv = [ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-i", str(path)]
    if video:
        argv += ["-map", "0:v:0?", "-vf", ",".join(video)]
    else:
        argv += ["-vn"]
    if chosen & _AUDIO_CHECKS:
        argv += ["-map", "0:a:0?", "-af", "ebur128=peak=true:framelog=quiet,volumedetect"]
    else:
        argv += ["-an"]
    return [*argv, "-f", "null", "-"]


def first_frame_argv(path: Path) -> list[str]:
    """Frame 0's luma statistics (signalstats), one frame decoded."""
    return [
        ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-i", str(path),
        "-frames:v", "1", "-vf", "signalstats,metadata=mode=print", "-f", "null", "-",
    ]  # fmt: skip


async def _run(argv: list[str], timeout: float) -> str:
    try:
        with anyio.fail_after(timeout):
            done = await anyio.run_process(argv, check=False, stdin=subprocess.DEVNULL)
    except TimeoutError:
        raise QaError(f"measuring took longer than {timeout:g} s") from None
    except OSError as exc:
        raise QaError(f"cannot run ffmpeg: {exc.strerror or exc}") from None
    text = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        last = next((line for line in reversed(text.splitlines()) if line.strip()), "")
        raise QaError(f"ffmpeg could not read it: {last[:200]}")
    return text


async def measure(
    path: Path, checks: Collection[str], *, timeout: float = QA_SECONDS
) -> MediaStats:
    """Measure `path` for `checks` (QaError: unreadable, or too slow)."""
    if not path.is_file():
        raise QaError(f"{path} is not there")
    wanted = set(check_names(checks))
    texts = {"main": "", "first": ""}

    async def run(name: str, argv: list[str]) -> None:
        texts[name] = await _run(argv, timeout)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(run, "main", measure_argv(path, wanted))
            if "first_frame" in wanted:
                group.start_soon(run, "first", first_frame_argv(path))
    except BaseExceptionGroup as failed:  # one pass's error is the measurement's
        errors = [e for e in failed.exceptions if isinstance(e, QaError)]
        if errors:
            raise errors[0] from None
        raise
    return parse_measurement(texts["main"], texts["first"])


def measure_sync(path: Path, checks: Collection[str], *, timeout: float = QA_SECONDS) -> MediaStats:
    """`measure`, from code with no event loop (the CLI, a thread)."""
    return anyio.run(lambda: measure(path, checks, timeout=timeout))
