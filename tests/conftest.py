"""Shared fixtures: every test gets its own database and output folder, never the user's."""

from __future__ import annotations

import io
import os
import stat
import sys
import textwrap
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from batchtui.cli.main import main as cli_main
from batchtui.generators import BUILTIN
from batchtui.generators.card.coverage import MissingGlyphs
from batchtui.generators.card.fonts import emoji_font_path
from batchtui.service import BatchService
from batchtui.store import Repository

from .fakes import FakeGenerator

pytest_plugins = ["pytester"]  # tests/test_isolation.py runs pytest on a made-up suite

REQUIRED_IN_CI = (
    "tests/test_web.py::",
    "tests/test_card.py::test_emoji_draw_in_colour_when_the_colour_font_is_installed",
    "tests/test_cluster_placement.py::test_an_older_scheduler_is_one_line_in_the_cli_and_the_api",
)
"""Tests that skip when the machine lacks something (Chromium, the colour emoji font, an older
Dask). CI installs those, so there (`CI=true`) a skip of one of them is a failure, never a quiet
pass. Likewise a card test that draws emoji skips without the colour emoji font, except in CI."""


def in_ci() -> bool:
    """Whether this run is CI's (`CI=true`, as CI services and `.ci/run` set it)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Under CI, a skip of a test CI is expected to run turns into that test's failure."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and item.nodeid.startswith(REQUIRED_IN_CI)
        and in_ci()
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        reason = str(reason).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} must run in CI (CI is set), but it skipped: {reason}"
    elif (
        report.failed
        and call.excinfo is not None
        and call.excinfo.errisinstance(MissingGlyphs)
        and not in_ci()
        and emoji_font_path() is None
    ):
        # A card with emoji needs the colour emoji font, which this machine lacks (CI
        # installs it, and there this stays a failure): a skip that says what to install.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {call.excinfo.value}")


ENV_PREFIX = "BATCHTUI_"
XDG_HOMES = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
    "XDG_CACHE_HOME": ".cache",
}
"""Every per-user folder platformdirs reads (config: settings and templates; data: the default
database; state: the slot locks), as their usual place under the test's own home."""


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test sees none of the developer's environment: no `BATCHTUI_*` variable, and a home,
    config, data, state and cache folder of its own. Processes it starts (the CLI, `serve`,
    runners, Dask workers) inherit this environment, so they are isolated too."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for name, below in XDG_HOMES.items():
        monkeypatch.setenv(name, str(home / below))
    # The default output folder is the user's videos folder: never a configured one.
    monkeypatch.delenv("XDG_VIDEOS_DIR", raising=False)
    monkeypatch.setenv("BATCHTUI_DB", str(tmp_path / "data" / "batchtui.json"))
    monkeypatch.setenv("BATCHTUI_OUTPUT", str(tmp_path / "out"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "batchtui.json"


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.fixture
def repo(db_path: Path) -> Repository:
    return Repository(db_path)


@pytest.fixture
def service(repo: Repository) -> BatchService:
    return BatchService(repo, flush_interval=0.02)


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> type[FakeGenerator]:
    """Register the in-process fake generator under the name 'fake'."""
    FakeGenerator.reset()
    monkeypatch.setitem(BUILTIN, "fake", FakeGenerator)
    return FakeGenerator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(db_path: Path) -> Callable[..., CliResult]:
    """Run `batchtui --db <test db> ARGS…` in-process and capture what it prints."""

    def run(*args: str, stdin: str | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        old_stdin = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = cli_main(["--db", str(db_path), *args])
                except SystemExit as exc:  # argparse usage errors
                    code = int(exc.code or 0)
        finally:
            sys.stdin = old_stdin
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def make_script(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write an executable Python script (for the command generator) and return its path."""

    def make(name: str, body: str) -> Path:
        path = tmp_path / "bin" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return path

    return make


def file_bytes(path: Path) -> object:
    """What a database holds on disk, for unchanged-database checks: the file's bytes (None
    when it does not exist) and, once it has any, every batch file beside it."""
    main = path.read_bytes() if os.path.exists(path) else None
    folder = path.parent / f"{path.stem}.batches"
    if not folder.is_dir():
        return main
    batches = {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".locks" not in p.parts
    }
    return (main, batches) if batches else main


@pytest.fixture
def own_slots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A slot folder and a config folder of the test's own (host slots tests)."""
    folder = tmp_path / "slots"
    monkeypatch.setenv("BATCHTUI_SLOTS_DIR", str(folder))
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(tmp_path / "config"))
    return folder
