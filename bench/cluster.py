"""A render farm's overhead: batches on a real Dask cluster (a scheduler and 3 workers of 2
slots, all on this machine) next to the same batch run locally and to `xargs -P6`.

    python bench/cluster.py [--rounds 3] [--noop 200]

1. 30 items of `sleep 1`, 6 at a time: the ideal is 5 s (30 / 6 × 1 s); the wall time of
   `batchtui start ID --cluster ADDR` (the whole command: start-up, the cluster check, the
   run, the final write) against it (target ≤ 1.2x), against the same batch run locally and
   against `xargs -P6` running the same 30 commands.
2. Dispatch: N no-op items (`touch {output}`), 6 at a time, on the cluster and locally: the
   per-item overhead of an item over Dask, against a local item.

The variants take turns in each round; every figure is a median of rounds with its range.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import Spread, machine, timed, workspace

from batchtui.service import BatchService
from batchtui.store import Repository

SLOTS = 6
WORKERS = 3
SLEEP_ITEMS = 30
IDEAL = SLEEP_ITEMS / SLOTS * 1.0
DASK = str(Path(sys.executable).with_name("dask"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Farm:
    """`dask scheduler` and `dask worker` processes for the whole benchmark."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.folder = folder

    def _spawn(self, name: str, argv: list[str]) -> None:
        with open(self.folder / f"{name}.log", "ab") as log:
            self.procs.append(
                subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )

    def __enter__(self) -> Farm:
        self._spawn("scheduler", [DASK, "scheduler", "--port", str(self.port), "--no-dashboard"])
        for n in range(1, WORKERS + 1):
            argv = [DASK, "worker", self.address, "--name", f"box{n}"]
            self._spawn(f"box{n}", [*argv, "--nthreads", str(SLOTS // WORKERS), "--no-dashboard"])
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(WORKERS, timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def batch_run(command: str, n: int, cluster: str | None) -> float:
    """Wall seconds of `batchtui start` of an n-item batch of `command`, 6 at a time."""
    with workspace("cluster") as folder:
        db = folder / "db.json"
        service = BatchService(Repository(db))
        batch = service.create(
            "farm bench",
            generator="command",
            command=command,
            output_ext="txt",
            validate_output="exists",
            concurrency=SLOTS,
            max_items=n,
            output_dir=str(folder / "out"),
        )
        service.add_items(batch.id, [f"item {i}" for i in range(n)])
        service.lock(batch.id)
        argv = [sys.executable, "-m", "batchtui", "--db", str(db), "start", batch.id]
        argv += ["--cluster", cluster or "local"]
        elapsed = timed(argv)
        assert service.get(batch.id).status.value == "COMPLETE"
        return elapsed


def xargs_sleep() -> float:
    with workspace("xargs") as folder:
        files = "\n".join(str(folder / f"{i:03d}.txt") for i in range(SLEEP_ITEMS)) + "\n"
        argv = ["xargs", f"-P{SLOTS}", "-I{}", "sh", "-c", "sleep 1; touch {}"]
        return timed(argv, stdin=files)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--noop", type=int, default=200, help="items in the dispatch test")
    args = parser.parse_args(argv)
    print(machine())
    sleep_cmd = 'sh -c "sleep 1; touch {output}"'
    with workspace("farm") as folder, Farm(folder) as farm:
        batch_run("touch {output}", 6, farm.address)  # warm up: workers import batchtui
        times: dict[str, list[float]] = {
            k: [] for k in ("farm", "local", "xargs", "farm-noop", "local-noop")
        }
        for round_no in range(1, args.rounds + 1):
            times["farm"].append(batch_run(sleep_cmd, SLEEP_ITEMS, farm.address))
            times["local"].append(batch_run(sleep_cmd, SLEEP_ITEMS, None))
            times["xargs"].append(xargs_sleep())
            times["farm-noop"].append(batch_run("touch {output}", args.noop, farm.address))
            times["local-noop"].append(batch_run("touch {output}", args.noop, None))
            print(
                f"round {round_no}: " + " · ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()),
                flush=True,
            )
    spread = {k: Spread(tuple(v)) for k, v in times.items()}
    ideal = Spread(tuple(t / IDEAL for t in times["farm"]))
    # Wall time per item (6 run at once): what an item costs the batch, start-up included.
    per_farm = Spread(tuple(t / args.noop * 1000 for t in times["farm-noop"]))
    per_local = Spread(tuple(t / args.noop * 1000 for t in times["local-noop"]))
    added = Spread(
        tuple(
            (f - loc) / args.noop * 1000
            for f, loc in zip(times["farm-noop"], times["local-noop"], strict=True)
        )
    )
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = {
        "when": started,
        "farm": spread["farm"].text(),
        "vs_ideal": ideal.text("x"),
        "vs_ideal_median": ideal.median,
        "local": spread["local"].text(),
        "xargs": spread["xargs"].text(),
        "farm_vs_local": spread["farm"].ratio_to(spread["local"]).text("x"),
        "farm_vs_xargs": spread["farm"].ratio_to(spread["xargs"]).text("x"),
        "noop_farm": spread["farm-noop"].text(),
        "noop_local": spread["local-noop"].text(),
        "per_item_farm_ms": per_farm.text(" ms", 1),
        "per_item_local_ms": per_local.text(" ms", 1),
        "per_item_added_ms": added.text(" ms", 1),
    }
    met = "met" if ideal.median <= 1.2 else "MISSED"
    print(
        f"{SLEEP_ITEMS} × sleep 1 on {WORKERS} workers × {SLOTS // WORKERS} slots: "
        f"{result['farm']} vs ideal {IDEAL:.0f}s → {result['vs_ideal']} (target ≤ 1.2x: {met}); "
        f"locally {result['local']}, xargs -P{SLOTS} {result['xargs']}; farm vs local "
        f"{result['farm_vs_local']}, vs xargs {result['farm_vs_xargs']}"
    )
    print(
        f"dispatch, {args.noop} no-op items 6 at a time: farm {result['noop_farm']}, local "
        f"{result['noop_local']}; wall per item: farm {result['per_item_farm_ms']}, local "
        f"{result['per_item_local_ms']}; Dask adds {result['per_item_added_ms']} per item"
    )
    return result


if __name__ == "__main__":
    main()
