"""The runner's instructions for N no-op items, counted by valgrind (callgrind): a figure that a
busy machine does not move, for comparing two trees where wall and CPU times are too noisy.

    python bench/dispatch_instructions.py [TREE ...] [--items N] [--profile DIR]
                                                  (default: this checkout, 1000 items)

For each tree (a checkout of batchtui, e.g. `git worktree add /tmp/before main`), makes and
locks an N-item batch of `touch {output}` (3 at a time, `--validate exists`) with that tree's
CLI, then counts the instructions of its `batchtui start` process under callgrind (its
children not traced: they are `touch`). The recorder's timed flushes are turned off in the
measured process: how many there are follows the wall clock, which valgrind stretches by the
machine's load (with them on, two runs of one tree differed by 3%); the run's final write is
made as always. Counts only user-space instructions: the kernel's share (the syscalls) is not
in it. `--profile DIR` keeps each tree's callgrind file there (`callgrind_annotate FILE`).
Each tree runs twice; the first compiles its byte code, the second is counted. A run takes
about a minute.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from common import ROOT, child_env, workspace

# The measured process: `batchtui ARGS` with the recorder's timed flushes off.
_NO_FLUSHES = """
import sys
import anyio
from batchtui.runners import recorder

async def _no_flushes(self, scheduler):
    await anyio.sleep_forever()

recorder.RunRecorder.flush_loop = _no_flushes
sys.argv[0] = "batchtui"
from batchtui.launch import run
run(sys.argv[1:])
"""


def count(tree: Path, items: int, keep: Path | None = None) -> int:
    """Instructions of one `batchtui start` of `tree` on a fresh `items`-item no-op batch."""
    with workspace(f"instructions-{tree.name}") as folder:
        db = str(folder / "db.json")
        env = child_env({"PYTHONPATH": str(tree)})
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: byte code cached

        def cli(*args: str, stdin: str | None = None) -> None:
            subprocess.run(
                [sys.executable, "-m", "batchtui", "--db", db, *args],
                input=stdin, capture_output=True, text=True, check=True, env=env, cwd=folder,
            )  # fmt: skip

        cli(
            "create", "noop", "--generator", "command", "--command", "touch {output}",
            "--ext", "txt", "--validate", "exists", "--concurrency", "3",
            "--max-items", str(items), "--output", str(folder / "out"),
        )  # fmt: skip
        cli("add", "noop", "--file", "-", stdin="".join(f"item {i}\n" for i in range(items)))
        cli("lock", "noop")
        out = folder / "callgrind.out"
        done = subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--trace-children=no",
                f"--callgrind-out-file={out}", sys.executable, "-c", _NO_FLUSHES,
                "--db", db, "start", "noop",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=folder,
        )  # fmt: skip
        found = re.findall(r"Collected : (\d+)", done.stderr)
        if done.returncode != 0 or not found:
            raise SystemExit(f"callgrind run failed:\n{done.stderr[-2000:]}")
        if keep is not None:
            shutil.copy(out, keep)
        return int(found[-1])


def main(trees: list[Path], items: int, profiles: Path | None) -> None:
    print(f"{items} no-op items, concurrency 3: instructions of the start process (callgrind)")
    counts = {}
    for tree in trees:
        count(tree, items)  # byte code compiled and cached
        keep = profiles / f"{tree.name}.callgrind" if profiles else None
        counts[tree] = count(tree, items, keep)
        print(f"  {tree}: {counts[tree] / 1e6:,.1f} M", flush=True)
    first = counts[trees[0]]
    for tree in trees[1:]:
        print(f"  {tree.name}/{trees[0].name}: {counts[tree] / first:.3f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", type=Path, nargs="*")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--profile", type=Path, metavar="DIR")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    trees = [tree.resolve() for tree in args.trees] or [ROOT]
    for tree in trees:
        if not (tree / "batchtui").is_dir():
            sys.exit(f"not a batchtui checkout: {tree}")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    main(trees, args.items, args.profile)
