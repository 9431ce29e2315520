"""The README's CLI walk-through, run as written, in bash, after the TUI's `e` already made a
"Space Facts": a reader who tried the TUI first copies these lines next."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("jq") is None, reason="the walk-through uses jq"),
]

README = Path(__file__).parent.parent / "README.md"


def readme_block(heading: str, language: str = "sh") -> str:
    """The first ```sh (or other `language`) block under `heading` in the README."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found is not None, f"no sh block under {heading}"
    return found.group(1)


Bash = Callable[[str], "subprocess.CompletedProcess[str]"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A shell's environment with this interpreter's batchtui first on PATH and a database
    and output folder of the test's own."""
    bin_folder = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}",
        "BATCHTUI_DB": str(tmp_path / "db.json"),
        "BATCHTUI_OUTPUT": str(tmp_path / "out"),
    }


@pytest.fixture
def bash(env: dict[str, str], tmp_path: Path) -> Bash:
    """Run a script in bash (stopping at the first failing line), after the TUI's `e` made
    its example: a "Space Facts" with three items, left as a draft."""

    def run(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )  # fmt: skip

    example = run(
        'E=$(batchtui create "Space Facts" --platform youtube_shorts --json | jq -r .id)\n'
        'batchtui add "$E" "Why is space dark?" "What are black holes?" "How stars die"\n'
    )
    assert example.returncode == 0, example.stderr
    return run


def test_the_five_commands_work_after_the_tui_made_a_space_facts(bash: Bash) -> None:
    walk = bash(readme_block("Ten Shorts in five commands") + 'echo "ID=$ID"\n')
    assert walk.returncode == 0, walk.stderr
    batch_id = re.search(r"^ID=(\S+)$", walk.stdout, re.M)
    assert batch_id is not None, walk.stdout
    # `outputs "$ID"`: one path per line, of this batch (its folder names a prefix of the id).
    mp4s = [line for line in walk.stdout.splitlines() if line.startswith("/")]
    assert len(mp4s) == 3 and all(Path(path).stat().st_size > 0 for path in mp4s), walk.stdout
    assert all(f"-{batch_id.group(1)[:6]}" in Path(path).parent.name for path in mp4s)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_curl_walk_through_works_after_the_tui_made_a_space_facts(
    bash: Bash, env: dict[str, str]
) -> None:
    server = subprocess.Popen(
        ["batchtui", "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"http://[\d.]+:\d+", line)
        assert found is not None, line
        walk = readme_block("The HTTP API", "bash").replace("batchtui serve &\n", "")
        walk = walk.replace("http://localhost:8000", found.group(0))
        done = bash(walk + 'printf "\\nID=%s\\n" "$ID"\n')  # after curl's last line
        assert done.returncode == 0, done.stderr
        batch_id = re.search(r"^ID=([0-9a-f]+)$", done.stdout, re.M)
        assert batch_id is not None, done.stdout
        ended = bash(f"batchtui attach {batch_id.group(1)} >/dev/null || true\n"
                     f"batchtui show {batch_id.group(1)} --json")  # fmt: skip
        shown = json.loads(ended.stdout)
        assert shown["name"] == "Space Facts" and shown["status"] == "COMPLETE", shown
        assert [item["content"] for item in shown["items"]] == [
            "Why is space dark?", "What are black holes?", "How stars die",
        ]  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
