"""Load test: 50 concurrent clients against a real ``eventwire serve`` on loopback.

    python bench/load.py [--clients 50] [--seconds 30] [--max-requests 200000]
                         [--events 200000] [--db bench/out/load.duckdb] [--rebuild]
                         [--workers N] [--httpx]

Builds a store of generated events once (the generator of ``bench/api.py``: the real schema,
rows made by DuckDB in bulk), starts ``eventwire serve`` in its own process on a free loopback
port, then runs ``--clients`` clients at once, each sending its next request as soon as the
previous one is answered (a closed loop), until ``--seconds`` have passed or ``--max-requests``
were sent. The mix is what the dashboard and API users ask for: event pages filtered by bbox
and dates, by type and country, with cursors, statistics, single events, articles and health.

Prints requests/s, latency percentiles and the error count (a non-2xx answer, a timeout or a
broken connection), overall and per kind of request, then the CPU time the server processes and
the load generator used per request and the share of answers the server had remembered (its
``X-Eventwire-Cache`` header). Target: zero errors, p95 < 250 ms.

Each client keeps one HTTP/1.1 connection open and sends its requests with a small client
written on asyncio streams: httpx costs about 2 ms of CPU per request, more than the server,
on the same cores (``--httpx`` uses it anyway, for comparison).
Exits non-zero when the target is missed. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

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
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    db: Path, port: int, log: Path, workers: int | None = None
) -> subprocess.Popen[bytes]:
    """``eventwire serve`` on loopback, in its own process; returns when it answers.

    Its stderr goes to ``log`` (a pipe nobody reads would stall it once full).
    """
    env = {**os.environ, "XDG_CONFIG_HOME": str(db.parent / "xdg")}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "eventwire.cli", "serve", "--db", str(db), "--host",
             "127.0.0.1", "--port", str(port),
             *(["--workers", str(workers)] if workers else [])],
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


def wait_ready(base: str, timeout: float = 300) -> dict[str, Any]:
    """Health once the server answers from its serving copy of the store (a plain copy
    answers first, while the sorted, indexed one is built)."""
    started = time.monotonic()
    while True:
        health: dict[str, Any] = httpx.get(f"{base}/api/health", timeout=30).json()
        if health.get("snapshot", "ready") == "ready" or time.monotonic() > started + timeout:
            print(f"serving copy ready {time.monotonic() - started:.1f} s after the first answer")
            return health
        time.sleep(0.5)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its child processes (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class ProtocolError(Exception):
    """The server's answer is not valid HTTP/1.1."""


@dataclass
class Answer:
    """What :class:`Connection` received."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Connection:
    """A minimal HTTP/1.1 client over one keep-alive connection (GET only).

    The load generator runs on the same 2 cores as the server: httpx spends about 2 ms of CPU
    per request here, more than the server does, which would measure the client. This sends
    the same requests (same headers that matter: Host, Accept-Encoding: gzip) and reads
    Content-Length, chunked and gzip answers.
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, params: dict[str, str] | None = None) -> Answer:
        try:
            return await asyncio.wait_for(self._get(path, params or {}), self.timeout)
        except BaseException:
            self.close()  # the connection's state is unknown: start a new one next time
            raise

    async def _get(self, path: str, params: dict[str, str]) -> Answer:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        target = path + ("?" + urlencode(params) if params else "")
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: */*\r\n"
            "Accept-Encoding: gzip\r\nUser-Agent: eventwire-load\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ProtocolError(f"bad status line {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(c[:-2] for c in chunks)
        else:
            body = await self.reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        if headers.get("content-encoding") == "gzip":
            body = zlib.decompress(body, 31)
        return Answer(int(parts[1]), headers, body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


Errors = (httpx.HTTPError, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
          asyncio.LimitOverrunError, ProtocolError, ValueError)  # fmt: skip


class Client:
    """One simulated user: picks a request from the mix, sends it, waits, repeats."""

    def __init__(
        self, http: httpx.AsyncClient | Connection, rng: random.Random,
        ids: list[tuple[str, str]],
    ) -> None:  # fmt: skip
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
            except Errors as exc:
                results.errors[kind].append(f"{type(exc).__name__} {path}")
                continue
            results.latencies[kind].append(elapsed)
            if response.headers.get("x-eventwire-cache") == "hit":
                results.hits[kind] += 1


async def drive(
    base_url: str,
    clients: int,
    seconds: float,
    max_requests: int,
    ids: list[tuple[str, str]],
    use_httpx: bool = False,
) -> tuple[Results, float]:
    """Run the clients (each on its own keep-alive connection); return what they measured and
    the wall time."""
    results = Results()
    budget = [max_requests]
    if use_httpx:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
            users = [Client(http, random.Random(i), ids) for i in range(clients)]
            started = time.monotonic()
            tasks: list[Awaitable[None]] = [
                u.run(results, started + seconds, budget) for u in users
            ]
            await asyncio.gather(*tasks)
            return results, time.monotonic() - started
    url = urlsplit(base_url)
    conns = [Connection(url.hostname or "127.0.0.1", url.port or 80, 30) for _ in range(clients)]
    users = [Client(conn, random.Random(i), ids) for i, conn in enumerate(conns)]
    started = time.monotonic()
    await asyncio.gather(*(u.run(results, started + seconds, budget) for u in users))
    wall = time.monotonic() - started
    for conn in conns:
        conn.close()
    return results, wall


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
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="Server processes (eventwire serve --workers; default: its own).",
    )
    parser.add_argument(
        "--httpx",
        action="store_true",
        help="Send the requests with httpx (uses more CPU beside the server).",
    )
    # fmt: skip
    args = parser.parse_args()
    if not 1 <= args.clients <= 1000 or not 0 < args.seconds <= 600:
        parser.error("--clients must be 1..1000 and --seconds 0..600")
    if args.rebuild or not args.db.exists():
        build(args.db, args.events)
    port = free_port()
    log = args.db.with_suffix(".serve.log")
    server = start_server(args.db, port, log, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        sample = httpx.get(f"{base}/api/events", timeout=30,
                           params={"limit": "1000", "fields": "event_id,article_id"})  # fmt: skip
        ids = [(e["event_id"], e["article_id"]) for e in sample.json()["events"]]
        health = wait_ready(base)
        print(
            f"store {args.db}: {health['events']:,} events, {health['articles']:,} articles; "
            f"{args.clients} clients for {args.seconds:g} s (at most {args.max_requests:,} "
            f"requests) on {os.cpu_count()} cores"
        )
        server_cpu = cpu_seconds(server.pid)
        client_cpu = time.process_time()
        results, wall = asyncio.run(drive(base, args.clients, args.seconds, args.max_requests,
                                          ids, args.httpx))  # fmt: skip
        server_cpu = cpu_seconds(server.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
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
    met = report(results, wall, args.target_ms)
    done = max(1, sum(len(v) for v in results.latencies.values()))
    print(
        f"CPU: server {server_cpu:.1f} s ({server_cpu / done * 1000:.2f} ms/request), "
        f"load generator {client_cpu:.1f} s ({client_cpu / done * 1000:.2f} ms/request), "
        f"{(server_cpu + client_cpu) / wall:.2f} of {os.cpu_count()} cores; cache hits "
        + ", ".join(
            f"{kind} {results.hits.get(kind, 0) / max(1, len(v)):.0%}"
            for kind, v in results.latencies.items()
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
