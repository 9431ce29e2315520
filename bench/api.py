"""The HTTP API under load: 50 clients polling `GET /v1/batch/{id}/progress` while a 1,000-item
batch runs, next to a bare FastAPI endpoint returning a constant (same client, same machine,
interleaved rounds); then 100 Server-Sent-Event clients following one batch.

    python bench/api.py [--seconds 10] [--rounds 3] [--clients 50] [--sse 100]

Needs wrk (`apt-get install wrk`) for the polling. Prints requests/s and p50/p99 latency
of each, the throughput ratio (target ≥ 0.5x the bare
endpoint) and our p99 (target < 100 ms), medians over the rounds with their range; and whether
every SSE client received every item's end and the batch's end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from common import Spread, child_env, workspace

BARE = """
from fastapi import FastAPI
import uvicorn, sys
app = FastAPI()
@app.get("/constant")
def constant():
    return {"status": "PROCESSING", "percent": 42.0}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(db: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "batchtui", "--db", str(db), *args],
        input=stdin, capture_output=True, text=True, check=True, env=child_env(),
    ).stdout  # fmt: skip


def sleepy_batch(db: Path, out: Path, items: int, seconds: float) -> str:
    made = json.loads(
        cli(
            db, "create", "api load", "--generator", "command",
            "--command", f"python3 -c 'import sys,time; time.sleep({seconds}); "
            "open(sys.argv[1], \"w\")' {output}",
            "--ext", "txt", "--validate", "exists", "--max-items", str(items),
            "--output", str(out), "--json",
        )
    )  # fmt: skip
    cli(db, "add", made["id"], "--file", "-", stdin="".join(f"item {i}\n" for i in range(items)))
    cli(db, "lock", made["id"])
    return made["id"]


def start_server(db: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "--db", str(db), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env(),
    )  # fmt: skip
    assert process.stdout is not None
    found = re.search(r"http://([\d.]+):(\d+)/", process.stdout.readline())
    assert found, "serve did not start"
    return process, f"http://{found.group(1)}:{found.group(2)}"


def start_bare() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BARE, str(port)], env=child_env())
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/constant", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the bare FastAPI app did not start")


def poll(url: str, clients: int, seconds: float) -> tuple[float, float, float]:
    """(requests per second, p50 s, p99 s) of `clients` concurrent keep-alive pollers for
    `seconds`, measured by wrk (a C load generator: a Python client was the bottleneck,
    ~150 req/s even against the bare endpoint)."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx or 3xx responses" in out:
        raise AssertionError(f"errors while polling {url}:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rate is not None, out

    def latency(label: str) -> float:
        found = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        assert found is not None, out
        return float(found.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[found.group(2)]

    return float(rate.group(1)), latency("50%"), latency("99%")


async def follow(url: str) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    kind = ""
    async with httpx.AsyncClient(timeout=120) as client, client.stream("GET", url) as response:
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                kind = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                events.append((kind, json.loads(line.partition(":")[2])))
    return events


async def sse_clients(base: str, batch_id: str, clients: int) -> list[list[tuple[str, dict]]]:
    url = f"{base}/v1/batch/{batch_id}/events"
    tasks = [asyncio.create_task(follow(url)) for _ in range(clients)]
    await asyncio.sleep(0.5)  # every client connected before the run starts
    async with httpx.AsyncClient() as client:
        await client.post(f"{base}/v1/batch/{batch_id}/start")
    return await asyncio.gather(*tasks)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sse", type=int, default=100)
    args = parser.parse_args(argv)
    result: dict = {}
    with workspace("api") as folder:
        db = folder / "db.json"
        bare, bare_url = start_bare()
        server, base = start_server(db)
        try:
            ours_rate, bare_rate, ours_p99, bare_p99, ours_p50, bare_p50 = [], [], [], [], [], []
            for round_ in range(args.rounds):
                # 1,000 tiny items at concurrency 3 last about as long as the polling does;
                # one runs under each measurement, so both servers share the machine with a
                # running batch alike.
                seconds = args.seconds * 3 / 1000
                background = sleepy_batch(db, folder / f"bg{round_}", 1000, seconds)
                httpx.post(f"{base}/v1/batch/{background}/start", timeout=30)
                rate, p50, p99 = poll(f"{bare_url}/constant", args.clients, args.seconds)
                bare_rate.append(rate)
                bare_p50.append(p50)
                bare_p99.append(p99)
                batch_id = sleepy_batch(db, folder / f"out{round_}", 1000, seconds)
                httpx.post(f"{base}/v1/batch/{batch_id}/start", timeout=30)
                url = f"{base}/v1/batch/{batch_id}/progress"
                rate, p50, p99 = poll(url, args.clients, args.seconds)
                status = httpx.get(url).json()["status"]
                ours_rate.append(rate)
                ours_p50.append(p50)
                ours_p99.append(p99)
                print(
                    f"round {round_ + 1}: ours {rate:.0f} req/s p99 {ours_p99[-1] * 1000:.0f} ms"
                    f" (batch {status} at the end) · bare {bare_rate[-1]:.0f} req/s p99 "
                    f"{bare_p99[-1] * 1000:.0f} ms", flush=True,
                )  # fmt: skip
            ours, theirs = Spread(tuple(ours_rate)), Spread(tuple(bare_rate))
            ratio = ours.median / theirs.median
            p99 = statistics.median(ours_p99) * 1000
            print(
                f"progress polling, {args.clients} clients: batchtui {ours.median:.0f} req/s "
                f"({ours.low:.0f}–{ours.high:.0f}), p50 {statistics.median(ours_p50) * 1000:.1f}"
                f" ms, p99 {p99:.0f} ms · bare FastAPI {theirs.median:.0f} req/s "
                f"({theirs.low:.0f}–{theirs.high:.0f}), p99 "
                f"{statistics.median(bare_p99) * 1000:.0f} ms → {ratio:.2f}x its throughput "
                f"(target ≥ 0.5x), p99 {'<' if p99 < 100 else '≥'} 100 ms", flush=True,
            )  # fmt: skip
            result.update(ratio=ratio, p99_ms=p99, ours=ours, bare=theirs)

            items = 60
            batch_id = sleepy_batch(db, folder / "sse-out", items, 0.05)
            started = time.perf_counter()
            streams = asyncio.run(sse_clients(base, batch_id, args.sse))
            took = time.perf_counter() - started
            complete = 0
            for events in streams:
                ended = {
                    d["item_id"] for k, d in events if k == "item" and d["status"] == "SUCCEEDED"
                }
                if len(ended) == items and events and events[-1][0] == "end":
                    complete += 1
            print(
                f"SSE: {args.sse} clients on one {items}-item batch: {complete}/{args.sse} "
                f"received every item's end and the batch's end ({took:.1f}s)", flush=True,
            )  # fmt: skip
            result.update(sse_complete=complete, sse_clients=args.sse)
        finally:
            server.terminate()
            bare.terminate()
            server.wait(10)
            bare.wait(10)
    return result


if __name__ == "__main__":
    main()
