"""The CLI's verbs: one command module each, registered once, loaded only when used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from batchtui.cli.commands import VERBS, BaseCommand
from batchtui.cli.parser import build_parser


def test_every_registered_verb_has_a_command_and_a_parser() -> None:
    names = [verb.name for verb in VERBS]
    assert len(names) == len(set(names)), "each verb registered once"
    for verb in VERBS:
        assert isinstance(verb.command(), BaseCommand), verb
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert list(choices) == names, "--help lists the verbs in the registry's order"
    create = choices["create"]
    assert any("--retry-on" in action.option_strings for action in create._actions)


def _verb_modules_loaded(*argv: str) -> list[str]:
    """The verb modules a `batchtui` command line imports (run in a fresh interpreter)."""
    code = (
        "import json, sys\n"
        "from batchtui.cli.main import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in sys.modules\n"
        "          if m.startswith('batchtui.cli.commands.') or m == 'anyio']\n"
        "print(json.dumps(sorted(loaded)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("argv", "loaded"),
    [
        (["--help"], ["batchtui.cli.commands.base"]),
        (["list"], ["batchtui.cli.commands.base", "batchtui.cli.commands.list"]),
        (["retry", "--help"], ["batchtui.cli.commands.base", "batchtui.cli.commands.start"]),
    ],
)
def test_a_command_line_loads_only_its_own_verb(argv: list[str], loaded: list[str]) -> None:
    assert _verb_modules_loaded(*argv) == loaded
