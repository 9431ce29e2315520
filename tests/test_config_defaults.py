"""The command generator's output type: one default rule (core), the same for the CLI and
the service (and so the TUI and the API); a command batch works on its first run; a
"not a valid video" failure names the setting to change."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from batchtui.core.models import BatchConfig, BatchStatus
from batchtui.engine.verify import verify_output
from batchtui.generators.base import GeneratorError
from batchtui.service import BatchService

from .conftest import CliResult


def test_a_command_config_defaults_to_a_plain_file() -> None:
    assert BatchConfig(generator="command", command="x {output}").output_ext == "txt"
    assert BatchConfig(generator="command", output_ext="mp4").output_ext == "mp4"
    assert BatchConfig().output_ext == "mp4"
    assert BatchConfig(generator="titlecard").output_ext == "mp4"


def test_the_cli_and_the_service_make_the_same_command_config(
    service: BatchService, run_cli: Callable[..., CliResult]
) -> None:
    made = run_cli("create", "Cli", "--generator", "command", "--command", "x {output}", "--json")
    assert made.code == 0, made.err
    by_service = service.create("Svc", generator="command", command="x {output}")
    assert json.loads(made.out)["config"]["output_ext"] == by_service.config.output_ext == "txt"


def test_choosing_the_command_generator_later_changes_a_default_output_type(
    service: BatchService,
) -> None:
    batch = service.create("Later")
    assert batch.config.output_ext == "mp4"
    switched = service.update_config(batch.id, generator="command", command="x {output}")
    assert switched.config.output_ext == "txt"
    back = service.update_config(batch.id, generator="titlecard")
    assert back.config.output_ext == "mp4"
    chosen = service.update_config(batch.id, output_ext="webm")
    kept = service.update_config(chosen.id, generator="command")
    assert kept.config.output_ext == "webm"  # the user's choice is never replaced


@pytest.mark.anyio
async def test_a_command_batch_works_on_its_first_run(
    service: BatchService, make_script: Callable[[str, str], Path], anyio_backend: str
) -> None:
    script = make_script("write.py", "import sys\nopen(sys.argv[2], 'w').write(sys.argv[1])\n")
    batch = service.create("Notes", generator="command", command=f"{script} {{content}} {{output}}")
    service.add_items(batch.id, ["hello", "world"])
    service.lock(batch.id)
    ended = await service.start(batch.id)
    assert ended.status is BatchStatus.COMPLETE, [item.error for item in ended.items]


@pytest.mark.anyio
async def test_not_a_valid_video_names_the_setting(tmp_path: Path, anyio_backend: str) -> None:
    output = tmp_path / "01.mp4"
    output.write_text("just text")
    config = BatchConfig(generator="command", command="x {output}", output_ext="mp4")
    with pytest.raises(GeneratorError) as info:
        await verify_output(output, config)
    message = str(info.value)
    assert message.startswith("output is not a valid video (the batch expects .mp4 videos")
    assert "Ext" in message and "--ext" in message and "--validate" in message


# ------------------------------------------------------------------ delete's words


def test_deleting_a_draft_says_nothing_about_output_files(
    service: BatchService, run_cli: Callable[..., CliResult]
) -> None:
    batch = service.create("Draft")
    service.add_items(batch.id, ["a"])
    result = run_cli("delete", batch.id)
    assert result.code == 0, result.err
    assert "output" not in result.out and "0 " not in result.out


def test_kept_files_are_counted_on_disk(service: BatchService, tmp_path: Path) -> None:
    from batchtui.core.kept_files import kept_note

    batch = service.create("Ran")
    service.add_items(batch.id, ["a", "b", "c"])
    stored = service.get(batch.id)
    there = tmp_path / "01.mp4"
    there.write_text("x")
    stored.items[0].output_path = str(there)
    stored.items[1].output_path = str(tmp_path / "gone.mp4")  # moved away since
    assert kept_note(stored) == "1 output file on disk is kept"
    stored.items[0].output_path = None
    assert kept_note(stored) == ""
