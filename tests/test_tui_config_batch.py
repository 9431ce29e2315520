"""The whole config in the TUI: a command batch typed into the form from scratch works on
its first run; every field `create` takes is in the form, refused values are said under their
box and never saved, the name cannot be emptied; a FAILED batch is unlocked from the list."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import Collapsible, Input, Select, Static

from batchtui.core.models import BatchStatus, ItemStatus
from batchtui.service import BatchService
from batchtui.store import Repository
from batchtui.tui.screens.batch_list import BatchListScreen
from batchtui.tui.screens.item_editor import ItemEditorScreen
from batchtui.tui.screens.progress import ProgressScreen
from batchtui.tui.widgets.config_form import FIELD_LABELS

from .fakes import FakeGenerator
from .helpers import wait_until
from .tui_support import make_app, type_text

pytestmark = pytest.mark.anyio

CREATE_FIELDS = {
    "platform", "generator", "command", "duration", "fps", "concurrency", "max_items",
    "timeout", "output_dir", "workdir", "output_ext", "style", "background", "text_color",
    "validate_output", "retries", "backoff", "backoff_max", "retry_on", "max_failures",
    "canary", "var_defaults", "variants", "rate", "rate_key", "stages",
    "webhooks", "webhook_secret", "notify", "on_end", "hook_timeout", "events", "budget",
    "confirm_forecast", "qa", "qa_loudness", "qa_tolerance",
}  # fmt: skip
"""Every config field `batchtui create --help` offers."""


def test_every_field_create_takes_is_in_the_form() -> None:
    from batchtui.cli.config_options import _CONFIG_KEYS

    assert set(_CONFIG_KEYS) == CREATE_FIELDS
    assert set(FIELD_LABELS) >= CREATE_FIELDS


@pytest.mark.slow
async def test_a_command_batch_made_in_the_form_completes_on_its_first_run(
    db_path: Path, tmp_path: Path
) -> None:
    """n, a name, the generator `command`, a command line that writes a text file, an item,
    lock, start: COMPLETE (before, every item failed: "not a valid video")."""
    script = tmp_path / "write.py"
    script.write_text("import sys\nopen(sys.argv[2], 'w').write(sys.argv[1])\n")
    service = BatchService(Repository(db_path), flush_interval=0.02)
    app = make_app(service, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await type_text(pilot, "Notes")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        editor = app.screen

        generator = editor.query_one("#f-generator", Select)
        generator.focus()
        await pilot.press("enter")  # the list opens on the current choice
        await pilot.pause()
        names = service.generator_names()
        moves = names.index("command") - names.index("titlecard")
        await pilot.press(*(["down"] * moves if moves > 0 else ["up"] * -moves), "enter")
        await pilot.pause()
        assert service.get("Notes").config.generator == "command"
        assert editor.query_one("#f-output_ext", Input).value == "txt"  # the command's default

        command = editor.query_one("#f-command", Input)
        command.focus()
        await type_text(pilot, f"{sys.executable} {script} {{content}} {{output}}")
        await pilot.press("enter")
        await pilot.pause()
        assert service.get("Notes").config.command is not None
        assert editor.query_one("#f-workdir", Input).value  # the working folder is shown

        editor.query_one("#items").focus()
        await pilot.press("a")
        await type_text(pilot, "hello world")
        await pilot.press("enter", "escape", "l")
        await pilot.pause()
        assert service.get("Notes").status is BatchStatus.LOCKED
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        await wait_until(
            lambda: service.get("Notes").status not in (BatchStatus.LOCKED, BatchStatus.PROCESSING),
            limit=60,
        )
        ended = service.get("Notes")
        assert ended.status is BatchStatus.COMPLETE, [i.error for i in ended.items]
        assert Path(ended.items[0].output_path or "").read_text() == "hello world"


async def _type_into(pilot, field: str, text: str) -> None:
    box = pilot.app.screen.query_one(f"#f-{field}", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


def _error(app, field: str) -> str:
    shown = app.screen.query_one(f"#e-{field}", Static)
    return str(shown.render()) if shown.has_class("shown") else ""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("field", "typed", "said"),
    [
        ("retries", "-1", "retries: Input should be greater than or equal to 0"),
        ("retries", "two", "Retries: 'two' is not a whole number"),
        ("backoff", "9999", "backoff: Input should be less than or equal to 3600"),
        ("max_failures", "150%", "max_failures: a percentage of at most 100%"),
        ("output_ext", "m.p4", "output_ext: String should match pattern"),
        ("retry_on", "sometimes", "retry_on.0: Input should be"),
        ("timeout", "0", "timeout: Input should be greater than 0"),
    ],
)
async def test_a_refused_value_is_said_under_its_box_and_not_saved(
    db_path: Path, field: str, typed: str, said: str
) -> None:
    service = BatchService(Repository(db_path))
    made = service.create("Form")
    before = service.get(made.id).config
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        await _type_into(pilot, field, typed)
        assert said in _error(app, field)
        group = app.screen.query_one(f"#row-{field}").parent
        assert group is not None and not group.parent.collapsed  # type: ignore[union-attr]
    assert service.get(made.id).config == before


@pytest.mark.slow
async def test_the_other_fields_save_as_the_cli_would(db_path: Path) -> None:
    service = BatchService(Repository(db_path))
    made = service.create("Form")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        await _type_into(pilot, "retries", "oops")
        assert _error(app, "retries")
        await _type_into(pilot, "retries", "2")
        assert not _error(app, "retries")  # a saved value clears what was said
        await _type_into(pilot, "retry_on", "timeout, EXIT")
        await _type_into(pilot, "max_failures", "20%")
        await _type_into(pilot, "backoff_max", "60")
        app.screen.query_one("#f-validate_output", Select).value = "exists"
        app.screen.query_one("#f-canary", Select).value = "yes"
        await pilot.pause()
        config = service.get(made.id).config
        assert (config.retries, config.retry_on, config.max_failures) == (
            2,
            ["timeout", "exit"],
            "20%",
        )
        assert (config.backoff_max, config.validate_output, config.canary) == (60, "exists", True)
        title = str(app.screen.query_one("#group-retries", Collapsible).title)
        assert title.startswith("Retries: 2 retries, waits ≤6")
        await _type_into(pilot, "max_failures", "none")
        assert service.get(made.id).config.max_failures is None


@pytest.mark.slow
async def test_the_name_cannot_be_emptied(db_path: Path) -> None:
    service = BatchService(Repository(db_path))
    made = service.create("Keep Me")
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_batch(made.id)
        await pilot.pause()
        await _type_into(pilot, "name", "   ")
        assert "batch name is blank: the name stays 'Keep Me'" in _error(app, "name")
        assert app.screen.query_one("#f-name", Input).value == "Keep Me"
    assert service.get(made.id).name == "Keep Me"


@pytest.mark.slow
async def test_a_failed_batch_is_unlocked_from_the_list(
    db_path: Path, fake_generator: type[FakeGenerator]
) -> None:
    service = BatchService(Repository(db_path))
    made = service.create("Broken", generator="fake", output_ext="txt")
    service.add_items(made.id, ["FAIL a"])
    service.lock(made.id)
    await service.start(made.id)
    assert service.get(made.id).status is BatchStatus.FAILED
    app = make_app(service)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, BatchListScreen)
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        stored = service.get(made.id)
        assert stored.status is BatchStatus.DRAFT
        assert stored.items[0].status is ItemStatus.PENDING
        await pilot.press("enter")  # a DRAFT again: its editor, config editable
        await pilot.pause()
        assert isinstance(app.screen, ItemEditorScreen)
        assert not app.screen.query_one("#f-timeout", Input).disabled
