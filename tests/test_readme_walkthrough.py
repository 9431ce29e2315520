"""The README's CLI walk-through, run as written, in bash, after the TUI's `e` already made a
"Space Facts": a reader who tried the TUI first copies these lines next."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("jq") is None, reason="the walk-through uses jq"),
]

README = Path(__file__).parent.parent / "README.md"


def readme_block(heading: str) -> str:
    """The first ```sh block under `heading` in the README."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found is not None, f"no sh block under {heading}"
    return found.group(1)


def test_the_five_commands_work_after_the_tui_made_a_space_facts(tmp_path: Path) -> None:
    bin_folder = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "BATCHTUI_DB": str(tmp_path / "db.json"),
        "BATCHTUI_OUTPUT": str(tmp_path / "out"),
    }

    def bash(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )  # fmt: skip

    # What `e` in the TUI makes: a "Space Facts" with three items, left as a draft.
    example = bash(
        'E=$(batchtui create "Space Facts" --platform youtube_shorts --json | jq -r .id)\n'
        'batchtui add "$E" "Why is space dark?" "What are black holes?" "How stars die"\n'
    )
    assert example.returncode == 0, example.stderr
    walk = bash(readme_block("Ten Shorts in five commands") + 'echo "ID=$ID"\n')
    assert walk.returncode == 0, walk.stderr
    batch_id = re.search(r"^ID=(\S+)$", walk.stdout, re.M)
    assert batch_id is not None, walk.stdout
    # `outputs "$ID"`: one path per line, of this batch (its folder names a prefix of the id).
    mp4s = [line for line in walk.stdout.splitlines() if line.startswith("/")]
    assert len(mp4s) == 3 and all(Path(path).stat().st_size > 0 for path in mp4s), walk.stdout
    assert all(f"-{batch_id.group(1)[:6]}" in Path(path).parent.name for path in mp4s)
