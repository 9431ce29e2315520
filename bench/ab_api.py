"""A/B: the HTTP API of this checkout against another one (say, the commit before a change),
in interleaved rounds: 50 wrk clients polling `GET /v1/batch/{id}/progress` while a batch runs
under each server, with keep-alive and with `Connection: close` (every request a new
connection: what curl and most scripts do).

    python bench/ab_api.py OTHER_TREE [--rounds 5] [--seconds 4]

Each tree serves its own database (`python -m batchtui serve` run with that tree first on
PYTHONPATH). Prints, per tree and mode, the median requests/s and the server's CPU per request
(user + system of the server process over the round: on a busy machine it moves far less than
throughput) with their ranges, and the ratios of the medians. Needs wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, Spread, child_env, workspace

MODES = {"keep-alive": [], "close": ["-H", "Connection: close"]}


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One tree's `batchtui serve` on its own database."""

    tree: Path
    folder: Path

    def __post_init__(self) -> None:
        self.env = child_env({"PYTHONPATH": str(self.tree)})
        self.db = str(self.folder / "db.json")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "batchtui", "--db", self.db, "serve", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env,
            cwd=self.folder,
        )  # fmt: skip
        assert self.process.stdout is not None
        found = re.search(r"http://([\d.]+):(\d+)/", self.process.stdout.readline())
        assert found, "serve did not start"
        self.base = f"http://{found.group(1)}:{found.group(2)}"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [sys.executable, "-m", "batchtui", "--db", self.db, *args],
            input=stdin, capture_output=True, text=True, check=True, env=self.env,
            cwd=self.folder,
        ).stdout  # fmt: skip

    def running_batch(self, seconds: float) -> str:
        """A 1,000-item batch of short sleeps, started under this server: its progress URL."""
        made = json.loads(
            self.cli(
                "create", "ab load", "--generator", "command", "--command",
                f"python3 -c 'import sys,time; time.sleep({seconds * 3 / 1000}); "
                "open(sys.argv[1], \"w\")' {output}",
                "--ext", "txt", "--validate", "exists", "--max-items", "1000",
                "--output", str(self.folder / "out"), "--json",
            )
        )  # fmt: skip
        batch = made["id"]
        self.cli("add", batch, "--file", "-", stdin="".join(f"i {n}\n" for n in range(1000)))
        self.cli("lock", batch)
        self.cli("start", batch, "--detach")
        return f"{self.base}/v1/batch/{batch}/progress"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def poll(server: Server, url: str, mode: str, seconds: float) -> tuple[float, float]:
    """(requests/s, server CPU µs per request) of one wrk round."""
    before = _cpu(server.process.pid)
    out = subprocess.run(
        ["wrk", "-t2", "-c50", f"-d{seconds:g}s", *MODES[mode], url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    spent = _cpu(server.process.pid) - before
    if "Non-2xx or 3xx responses" in out:
        raise AssertionError(f"errors while polling {url}:\n{out}")
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return done / seconds, spent / max(done, 1) * 1e6


def main(other: Path, rounds: int, seconds: float) -> None:
    trees = {"this": ROOT, "other": other.resolve()}
    rates = {(t, m): [] for t in trees for m in MODES}
    costs = {(t, m): [] for t in trees for m in MODES}
    with ExitStack() as stack:
        servers = {}
        for name, tree in trees.items():
            folder = stack.enter_context(workspace(f"ab-api-{name}"))
            servers[name] = Server(tree, folder)
            stack.callback(servers[name].stop)
        for round_ in range(rounds + 1):  # round 0 warms both up
            for name, server in servers.items():
                url = server.running_batch(seconds * len(MODES))
                for mode in MODES:
                    rate, cost = poll(server, url, mode, seconds)
                    if round_:
                        rates[(name, mode)].append(rate)
                        costs[(name, mode)].append(cost)
                server.cli("cancel", url.split("/")[-2])
    print(f"50 clients polling progress while a 1,000-item batch runs, {rounds} interleaved rounds")
    for mode in MODES:
        print(f" {mode}:")
        for label, table, digits in (("requests/s", rates, 0), ("server µs/request", costs, 0)):
            this = Spread(tuple(table[("this", mode)]))
            that = Spread(tuple(table[("other", mode)]))
            ratios = this.ratio_to(that)
            print(
                f"  {label}: this {this.text('', digits)} · other {that.text('', digits)}"
                f" → this/other {this.median / that.median:.3f}x "
                f"(rounds {ratios.low:.2f}–{ratios.high:.2f}x)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    if not args.other.is_dir():
        parser.error(f"{args.other} is not a folder")
    main(args.other, args.rounds, args.seconds)
