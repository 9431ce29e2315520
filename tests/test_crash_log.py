"""A crash (a bug) in a command: its traceback, a crash log under the state folder, the path
said on stderr, and a non-zero status (the TUI's crash: tests/test_tui_dialog_keys.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batchtui.cli.reporting import EXIT_CRASH
from batchtui.service import BatchService


def test_a_crashing_command_writes_a_crash_log_and_says_where(
    run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, *args, **kwargs):
        raise RuntimeError("a bug, on purpose")

    monkeypatch.setattr(BatchService, "create", broken)
    result = run_cli("create", "Cats")
    assert result.code == EXIT_CRASH != 0
    logs = list((Path(os.environ["XDG_STATE_HOME"]) / "batchtui" / "crashes").glob("*.log"))
    assert len(logs) == 1
    assert "RuntimeError: a bug, on purpose" in logs[0].read_text(encoding="utf-8")
    assert "Traceback" in result.err
    assert result.err.rstrip().endswith(f"the crash log is {logs[0]}")
