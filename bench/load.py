"""Load test: 50 concurrent clients against a real ``eventwire serve`` on loopback.

    python bench/load.py [--clients 50] [--seconds 30] [--max-requests 200000]
                         [--events 200000] [--db bench/out/load.duckdb] [--rebuild]

Builds a store of generated events once (the generator of ``bench/api.py``: the real schema,
rows made by DuckDB in bulk), starts ``eventwire serve`` in its own process on a free loopback
port, then runs ``--clients`` clients at once, each sending its next request as soon as the
previous one is answered (a closed loop), until ``--seconds`` have passed or ``--max-requests``
were sent. The mix is what the dashboard and API users ask for: event pages filtered by bbox
and dates, by type and country, with cursors, statistics, single events, articles and health.

Prints requests/s, latency percentiles and the error count (a non-2xx answer, a timeout or a
broken connection), overall and per kind of request. Target: zero errors, p95 < 250 ms.
Exits non-zero when the target is missed. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import COUNTRIES, FIRST_DAY, TYPES, bbox_and_dates, build  # noqa: E402

#: Request kinds and their share of the mix.
MIX: dict[str, int] = {
    "events bbox+dates": 30,
    "events type+country": 20,
    "events next page": 10,
    "stats bbox+dates": 15,
    "stats whole store": 5,
    "event by id": 10,
    "article": 5,
    "health": 5,
}


@dataclass
class Results:
    """Latencies and errors collected by all clients."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sent: int = 0


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``eventwire serve`` on loopback, in its own process; returns when it answers.

    Its stderr goes to ``log`` (a pipe nobody reads would stall it once full).
    """
    env = {**os.environ, "XDG_CONFIG_HOME": str(db.parent / "xdg")}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "eventwire.cli", "serve", "--db", str(db), "--host",
             "127.0.0.1", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(errors="replace").strip()
            raise SystemExit(f"eventwire serve exited with {proc.returncode}: {text}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("eventwire serve did not answer within 60 s")


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class Client:
    """One simulated user: picks a request from the mix, sends it, waits, repeats."""

    def __init__(
        self, http: httpx.AsyncClient, rng: random.Random, ids: list[tuple[str, str]]
    ) -> None:
        self.http = http
        self.rng = rng
        self.ids = ids  # (event_id, article_id) pairs that exist
        self.cursor: str | None = None
        self.kinds = list(MIX)
        self.weights = list(MIX.values())

    def request(self) -> tuple[str, str, dict[str, str]]:
        """The next request: (kind, path, params)."""
        kind = self.rng.choices(self.kinds, self.weights)[0]
        rng = self.rng
        if kind == "events bbox+dates":
            return kind, "/api/events", bbox_and_dates(rng)
        if kind == "events type+country":
            params = {"type": rng.choice(TYPES), "country": rng.choice(COUNTRIES), "limit": "50"}
            return kind, "/api/events", params
        if kind == "events next page":
            if self.cursor is None:
                return kind, "/api/events", {"limit": "100"}
            return kind, "/api/events", {"limit": "100", "cursor": self.cursor}
        if kind == "stats bbox+dates":
            return kind, "/api/stats", bbox_and_dates(rng)
        if kind == "stats whole store":
            since = FIRST_DAY - timedelta(days=rng.randrange(0, 3))
            return kind, "/api/stats", {"since": since.isoformat()}
        if kind == "event by id":
            return kind, f"/api/events/{rng.choice(self.ids)[0]}", {}
        if kind == "article":
            return kind, f"/api/articles/{rng.choice(self.ids)[1]}", {}
        return kind, "/api/health", {}

    async def run(self, results: Results, stop_at: float, budget: list[int]) -> None:
        """Send requests until the time is up or the shared budget is spent."""
        while time.monotonic() < stop_at and budget[0] > 0:
            budget[0] -= 1
            kind, path, params = self.request()
            results.sent += 1
            started = time.perf_counter()
            try:
                response = await self.http.get(path, params=params)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    results.errors[kind].append(f"HTTP {response.status_code} {path}")
                    continue
                if kind == "events next page":
                    self.cursor = response.json().get("next_cursor")
            except httpx.HTTPError as exc:
                results.errors[kind].append(f"{type(exc).__name__} {path}")
                continue
            results.latencies[kind].append(elapsed)


async def drive(
    base_url: str, clients: int, seconds: float, max_requests: int, ids: list[tuple[str, str]]
) -> tuple[Results, float]:
    """Run the clients; return what they measured and the wall time."""
    results = Results()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        users = [Client(http, random.Random(i), ids) for i in range(clients)]
        started = time.monotonic()
        budget = [max_requests]
        tasks: list[Awaitable[None]] = [u.run(results, started + seconds, budget) for u in users]
        await asyncio.gather(*tasks)
        return results, time.monotonic() - started


def report(results: Results, wall: float, target_ms: float) -> bool:
    """Print the figures; return whether the target was met."""
    every = [x for values in results.latencies.values() for x in values]
    errors = sum(len(v) for v in results.errors.values())
    if not every:
        print(f"no successful request; {errors} errors")
        return False
    p95 = percentile(every, 0.95) * 1000
    print(
        f"{results.sent:,} requests in {wall:.1f} s: {len(every) / wall:,.1f} requests/s, "
        f"{errors} errors"
    )
    print(
        f"latency ms: p50 {statistics.median(every) * 1000:.1f}  p95 {p95:.1f}  "
        f"p99 {percentile(every, 0.99) * 1000:.1f}  max {max(every) * 1000:.1f}"
    )
    row: Callable[[str, list[float], int], str] = lambda k, v, e: (  # noqa: E731
        f"  {k:22s} n={len(v):6d}  p50 {statistics.median(v) * 1000:7.1f}  "
        f"p95 {percentile(v, 0.95) * 1000:7.1f} ms  errors {e}"
    )
    for kind in MIX:
        values = results.latencies.get(kind, [])
        if values:
            print(row(kind, values, len(results.errors.get(kind, []))))
    for kind, messages in results.errors.items():
        print(f"  errors in {kind}: {', '.join(sorted(set(messages))[:5])}")
    met = errors == 0 and p95 < target_ms
    print(f"target (0 errors, p95 < {target_ms:.0f} ms): {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=200_000,
                        help="Stop after this many requests even if time remains.")  # fmt: skip
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "load.duckdb")
    parser.add_argument("--rebuild", action="store_true", help="Build the store even if present.")
    parser.add_argument("--target-ms", type=float, default=250.0)
    args = parser.parse_args()
    if not 1 <= args.clients <= 1000 or not 0 < args.seconds <= 600:
        parser.error("--clients must be 1..1000 and --seconds 0..600")
    if args.rebuild or not args.db.exists():
        build(args.db, args.events)
    port = free_port()
    log = args.db.with_suffix(".serve.log")
    server = start_server(args.db, port, log)
    try:
        base = f"http://127.0.0.1:{port}"
        sample = httpx.get(f"{base}/api/events", timeout=30,
                           params={"limit": "1000", "fields": "event_id,article_id"})  # fmt: skip
        ids = [(e["event_id"], e["article_id"]) for e in sample.json()["events"]]
        health = httpx.get(f"{base}/api/health", timeout=10).json()
        print(
            f"store {args.db}: {health['events']:,} events, {health['articles']:,} articles; "
            f"{args.clients} clients for {args.seconds:g} s (at most {args.max_requests:,} "
            f"requests) on {os.cpu_count()} cores"
        )
        results, wall = asyncio.run(drive(base, args.clients, args.seconds, args.max_requests,
                                          ids))  # fmt: skip
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    logged = [line for line in log.read_text(errors="replace").splitlines()[1:] if line.strip()]
    if logged:
        print(f"server log ({len(logged)} lines after the start line, {log}):")
        print("\n".join(f"  {line}" for line in logged[-10:]))
    return 0 if report(results, wall, args.target_ms) else 1


if __name__ == "__main__":
    sys.exit(main())
