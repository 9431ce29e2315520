"""The suite never reads the developer's environment nor writes to their folders, and CI never
passes quietly when a test it must run skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from batchtui.core.settings import config_dir, load_host_settings
from batchtui.service.templates import templates_dir

REPO = Path(__file__).resolve().parents[1]

HOSTILE_SUBSET = (
    "tests/test_service.py",
    "tests/test_templates.py",
    # The schema's own checks and the stateful client that creates and deletes templates;
    # not the one that starts runs (a minute; runner subprocesses are test_engine's here).
    "tests/test_api_schema.py::test_the_api_keeps_to_its_schema",
    "tests/test_api_schema.py::test_a_stateful_client_following_the_links_never_breaks_the_api",
    "tests/test_slots.py",
    "tests/test_models.py",
    "tests/test_card.py::test_emoji_draw_in_colour_when_the_colour_font_is_installed",
    "tests/test_engine.py::test_never_more_than_the_limit_run_at_once",
    "tests/test_engine.py::test_success_writes_output_and_its_manifest_line",
)
"""Tests that each read one of the variables below when it leaks: run settings, templates (the
schema test creates and deletes them), runner subprocesses, the default output folder, fonts."""


def hostile_env(outer: Path) -> dict[str, str]:
    """Every `BATCHTUI_*` variable the code reads, set to a value that breaks a test that sees
    it, and every per-user folder pointing into `outer`."""
    return {
        "BATCHTUI_SLOTS": "abc",
        "BATCHTUI_SLOTS_DIR": str(outer / "slots"),
        "BATCHTUI_CLUSTER": "tcp://127.0.0.1:1",
        "BATCHTUI_DB": str(outer / "db" / "batchtui.json"),
        "BATCHTUI_OUTPUT": str(outer / "out"),
        "BATCHTUI_FFMPEG": "/bin/false",
        "BATCHTUI_TEMPLATES": str(outer / "templates"),
        "BATCHTUI_CONFIG_DIR": str(outer / "config"),
        "BATCHTUI_EMOJI_FONT": str(outer / "no-such-font.ttf"),
        "BATCHTUI_LOCK_TIMEOUT": "0.01",
        "BATCHTUI_BATCH": "hostile",
        "BATCHTUI_ITEM": "hostile",
        "HOME": str(outer / "home"),
        "XDG_CONFIG_HOME": str(outer / "xdg-config"),
        "XDG_DATA_HOME": str(outer / "xdg-data"),
        "XDG_STATE_HOME": str(outer / "xdg-state"),
        "XDG_CACHE_HOME": str(outer / "xdg-cache"),
        "XDG_VIDEOS_DIR": str(outer / "videos"),
    }


def tree(root: Path) -> dict[str, bytes | None]:
    """Every folder (None) and file (its bytes) under `root`."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def test_a_test_sees_none_of_the_developers_variables_or_folders(tmp_path: Path) -> None:
    # The fixture's own two, pointing into the test's folder; no other.
    assert sorted(name for name in os.environ if name.startswith("BATCHTUI_")) == [
        "BATCHTUI_DB",
        "BATCHTUI_OUTPUT",
    ]
    folders = [
        Path.home(),
        Path(platformdirs.user_config_dir("batchtui")),
        Path(platformdirs.user_data_dir("batchtui")),
        Path(platformdirs.user_state_dir("batchtui")),
        Path(platformdirs.user_cache_dir("batchtui")),
        Path(platformdirs.user_videos_dir()),
        config_dir(),
        templates_dir(),
        load_host_settings().slots_dir,
    ]
    for folder in folders:
        assert folder.is_relative_to(tmp_path), folder
    assert load_host_settings().slots is None


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_suite_passes_with_hostile_variables_and_leaves_their_folders_alone(
    tmp_path: Path,
) -> None:
    outer = tmp_path / "outer"
    env = {**os.environ, **hostile_env(outer)}
    for folder in ("home", "slots", "templates", "xdg-state", "xdg-data", "xdg-cache", "videos"):
        (outer / folder).mkdir(parents=True)
    # Settings no test can run with, and a template no test expects to be listed.
    for config in (outer / "config", outer / "xdg-config" / "batchtui"):
        config.mkdir(parents=True)
        (config / "settings.toml").write_text('slots = "abc"\nslots_dir = 7\n')
    (outer / "templates" / "hostile.toml").write_text('description = "mine"\nitems = ["x"]\n')
    before = tree(outer)

    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}", *HOSTILE_SUBSET,
        ],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=840,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
    assert tree(outer) == before


SKIPPING = """
import pytest

def test_needs_something():
    pytest.skip("no such thing here")
"""


INNER = ("-p", "no:cacheprovider", "-p", "no:textual-snapshot")
"""Options of a pytest run inside this one (the snapshot plugin's report is per process)."""


def make_suite(pytester: pytest.Pytester) -> None:
    """A suite with our CI rule, where the required test and another one both skip."""
    pytester.makeconftest("from tests.conftest import pytest_runtest_makereport  # noqa: F401\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_web.py").write_text(SKIPPING)
    (pytester.path / "tests" / "test_other.py").write_text(SKIPPING)


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_under_ci_a_skip_of_a_required_test_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    make_suite(pytester)
    monkeypatch.setenv("CI", value)
    result = pytester.runpytest(*INNER, "-rfs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["tests/test_web.py::test_needs_something must run in CI*skipped: no such thing here"]
    )


@pytest.mark.parametrize("value", [None, "", "false"])
def test_outside_ci_a_required_test_may_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    make_suite(pytester)
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    pytester.runpytest(*INNER).assert_outcomes(skipped=2)
