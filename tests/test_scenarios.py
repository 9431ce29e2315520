"""Whole stories through the real `batchtui` command, as a user would type them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from batchtui.generators.media import probe_video

from .helpers import decode_frames

pytestmark = pytest.mark.slow


def batchtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed command in a child process (no terminal: line-per-change output)."""
    return subprocess.run(
        [sys.executable, "-m", "batchtui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def created_id(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["id"]


def test_seed_scenario_space_facts(out_dir):
    """create → add three → lock → start: COMPLETE, three real 1080x1920 MP4s."""
    ref = created_id(
        batchtui(
            "create", "Space Facts", "--platform", "youtube_shorts", "--duration", "2", "--json"
        )
    )
    added = batchtui("add", ref, "Why is space dark?", "What are black holes?", "How stars die")
    assert added.returncode == 0, added.stderr
    assert "3/10" in added.stdout
    locked = batchtui("lock", ref)
    assert locked.returncode == 0 and "locked 'Space Facts'" in locked.stdout
    started = batchtui("start", ref)
    assert started.returncode == 0, started.stdout + started.stderr
    assert started.stdout.count("SUCCEEDED") == 3
    assert "COMPLETE: 3/3 succeeded" in started.stdout

    progress = json.loads(batchtui("progress", ref, "--json").stdout)
    assert progress["status"] == "COMPLETE" and progress["percent"] == 100.0
    outputs = json.loads(batchtui("outputs", ref, "--json").stdout)
    assert [o["content"] for o in outputs] == [
        "Why is space dark?",
        "What are black holes?",
        "How stars die",
    ]
    for output in outputs:
        path = Path(output["output_path"])
        assert path.is_file() and path.is_relative_to(out_dir)
        assert path.suffix == ".mp4"
        info = anyio.run(probe_video, path)
        assert (info.codec, info.width, info.height) == ("h264", 1080, 1920)
        assert info.duration == pytest.approx(2.0, abs=0.05)
        assert decode_frames(path) == 60


@pytest.fixture
def flaky_script(make_script, tmp_path) -> tuple[Path, Path]:
    """A renderer that fails for topics containing 'moon' until a fix file exists."""
    fixed = tmp_path / "fixed"
    script = make_script(
        "render.py",
        f"""
        import os, sys
        content, out = sys.argv[1], sys.argv[2]
        if "moon" in content and not os.path.exists({str(fixed)!r}):
            sys.stderr.write(f"no moon texture for {{content!r}}\\n")
            sys.exit(1)
        open(out, "w").write(content.upper())
        """,
    )
    return script, fixed


def test_partial_batch_then_retry_only_the_failed(flaky_script):
    script, fixed = flaky_script
    topics = ["sun", "moon phases", "mars", "blue moon", "venus", "saturn"]
    ref = created_id(
        batchtui(
            "create",
            "Planets",
            "--generator",
            "command",
            "--ext",
            "txt",
            "--command",
            f"{script} {{content}} {{output}}",
            "--json",
        )
    )
    assert batchtui("add", ref, *topics).returncode == 0
    assert batchtui("lock", ref).returncode == 0

    first = batchtui("start", ref)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "PARTIAL: 4/6 succeeded" in first.stdout
    failed = json.loads(batchtui("failed", ref, "--json").stdout)
    assert [f["content"] for f in failed] == ["moon phases", "blue moon"]
    assert [f["error"] for f in failed] == [
        "exit code 1: no moon texture for 'moon phases'",
        "exit code 1: no moon texture for 'blue moon'",
    ]
    before = {i["content"]: i for i in json.loads(batchtui("show", ref, "--json").stdout)["items"]}
    for topic in ("sun", "mars", "venus", "saturn"):
        assert Path(before[topic]["output_path"]).read_text() == topic.upper()

    fixed.touch()
    second = batchtui("retry", ref)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("RUNNING") == 2, "retry runs only the two that failed"
    after = {i["content"]: i for i in json.loads(batchtui("show", ref, "--json").stdout)["items"]}
    assert json.loads(batchtui("show", ref, "--json").stdout)["status"] == "COMPLETE"
    for topic in ("sun", "mars", "venus", "saturn"):
        assert after[topic]["attempts"] == 1
        assert after[topic]["finished_at"] == before[topic]["finished_at"]
    for topic in ("moon phases", "blue moon"):
        assert after[topic]["attempts"] == 2
        assert Path(after[topic]["output_path"]).read_text() == topic.upper()


def test_start_refused_for_a_draft_changes_nothing(db_path):
    ref = created_id(batchtui("create", "Draft", "--json"))
    before = db_path.read_bytes()
    result = batchtui("start", ref)
    assert result.returncode == 2
    assert result.stderr == (
        "batchtui: error: batch 'Draft' is DRAFT; starting needs LOCKED — add items and lock "
        "it first\n"
    )
    assert db_path.read_bytes() == before
    assert oct(db_path.stat().st_mode & 0o777) == "0o600"
