"""What the stage cache saves: a 3-stage pipeline made once, then made again with only its
last stage changed (a new batch of the same items on the same output folder).

    python bench/pipeline_cache.py [ROUNDS]        (default 5)

Stage 1 sleeps 0.3 s, stage 2 0.6 s (on a pool of one slot, like a GPU), stage 3 0.2 s; six
items, concurrency 3. Each round times, as whole `batchtui start` commands: the first run
(every stage made), the run after changing stage 3 (stages 1 and 2 should come from the
cache), and — for comparison — a batch whose only stage is that stage 3 (what "stage 3 alone"
costs, with the same start-up). Prints the medians with their ranges and the ratio of the
changed run to stage 3 alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from common import Spread, child_env, workspace

from batchtui.service import BatchService
from batchtui.store import Repository

ITEMS = [f"topic {n}" for n in range(1, 7)]


def _stages(tag: str) -> list[dict]:
    sleep = f"{sys.executable} -c"
    write = (
        "import sys,time; time.sleep(float(sys.argv[1])); open(sys.argv[2],'w').write(sys.argv[3])"
    )
    return [
        {"name": "script", "command": f'{sleep} "{write}" 0.3 {{output}} {{content}}',
         "pool": "cpu"},
        {"name": "render", "command": f'{sleep} "{write}" 0.6 {{output}} {{in}}', "pool": "gpu"},
        {"name": "mux", "command": f'{sleep} "{write}" 0.2 {{output}} {tag}', "pool": "cpu"},
    ]  # fmt: skip


def _run(db: Path, ref: str, env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), "start", ref],
        check=True, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    return time.perf_counter() - began


def one_round(round_number: int) -> tuple[float, float, float]:
    with workspace("pipeline") as folder:
        config = folder / "config"
        config.mkdir()
        (config / "settings.toml").write_text("[slots]\ncpu = 3\ngpu = 1\n")
        env = child_env({"BATCHTUI_CONFIG_DIR": str(config),
                         "BATCHTUI_SLOTS_DIR": str(folder / "slots")})  # fmt: skip
        os.environ.update(env)  # (the service below reads the same settings)
        db = folder / "db.json"
        service = BatchService(Repository(db))
        out = str(folder / "out")

        def batch(name: str, stages: list[dict]) -> str:
            made = service.create(name, generator="command", command="true {output}",
                                  stages=stages, concurrency=3, output_dir=out)  # fmt: skip
            service.add_items(made.id, ITEMS)
            service.lock(made.id)
            return made.id

        first = _run(db, batch(f"first{round_number}", _stages("warm")), env)
        changed = _run(db, batch(f"changed{round_number}", _stages("cool")), env)
        alone = _run(db, batch(f"alone{round_number}", _stages("alone")[2:]), env)
        return first, changed, alone


def main(rounds: int) -> None:
    one_round(0)  # warm up
    firsts, changes, alones, ratios = [], [], [], []
    for n in range(1, rounds + 1):
        first, changed, alone = one_round(n)
        firsts.append(first)
        changes.append(changed)
        alones.append(alone)
        ratios.append(changed / alone)
    print(
        f"6 items, 3 stages (0.3 s, 0.6 s on a 1-slot pool, 0.2 s), {rounds} rounds:\n"
        f"  first run (every stage made)        {Spread(tuple(firsts)).text()}\n"
        f"  last stage changed (1-2 cached)     {Spread(tuple(changes)).text()}\n"
        f"  the last stage alone (one stage)    {Spread(tuple(alones)).text()}\n"
        f"  changed / alone: {Spread(tuple(ratios)).text(unit='x')}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
