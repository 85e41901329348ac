"""Benchmark of the event store: insert rate and query latency at two sizes.

Usage::

    python bench/store.py                 # 100,000 and 1,000,000 events
    python bench/store.py --events 20000  # one size (repeat --events for more)

For each size it reports the bulk insert rate (:meth:`Store.add_many`, 1,000 articles per
transaction), the per-article insert rate of :meth:`Store.add` (one transaction per article,
what ``ingest`` does) on a sample, and the p50/p95 latency of a date-range + country query
through :meth:`Store.events` (all matches, the first 100, and a bare SQL count to separate
DuckDB's time from building the Event objects). Generation of the events is not timed.
Not run by the tests.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from eventwire.config import resolve_options
from eventwire.model import Article, Event
from eventwire.store import Store

EVENTS_PER_ARTICLE = 8
BATCH_ARTICLES = 1000
SAMPLE_ARTICLES = 1000
QUERIES = 60
START = date(2019, 1, 1)
DAYS = 730
COUNTRIES = [
    ("SYR", 35.0, 38.0), ("IRQ", 33.0, 44.0), ("TUR", 39.0, 35.0), ("LBN", 33.9, 35.7),
    ("JOR", 31.2, 36.5), ("YEM", 15.5, 47.5), ("UKR", 49.0, 32.0), ("MLI", 17.0, -4.0),
    ("SDN", 15.0, 30.0), ("AFG", 34.0, 66.0), ("NGA", 9.0, 8.0), ("COD", -2.0, 23.0),
]  # fmt: skip
TYPES = ["ASSAULT", "PROTEST", "MOBILIZE", "THREATEN", "ACCUSE", "AGREE", "CONSULT", "COERCE"]
ACTORS = ["Syria (military)", "Turkey (military)", "Russia", "Rebels", "SDF", "Iran", "Protesters"]
MODALITIES = ["reported"] * 6 + ["ongoing", "planned", "threatened", "hypothetical", "negated"]


def generate(n_events: int, seed: int, prefix: str) -> Iterator[list[tuple[Article, list[Event]]]]:
    """Batches of (article, events), ``EVENTS_PER_ARTICLE`` events per article."""
    rng = random.Random(seed)
    n_articles = max(1, n_events // EVENTS_PER_ARTICLE)
    batch: list[tuple[Article, list[Event]]] = []
    for i in range(n_articles):
        day = START + timedelta(days=rng.randrange(DAYS))
        published = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        text = f"{prefix} article {i}: " + "Rebels attacked a checkpoint. " * EVENTS_PER_ARTICLE
        article = Article(text, title=f"Report {i}", url=f"https://example.org/{prefix}/{i}",
                          source="bench", published=published, locator=f"bench:{i}")  # fmt: skip
        events = []
        for j in range(EVENTS_PER_ARTICLE):
            country, lat, lon = rng.choice(COUNTRIES)
            events.append(
                Event(
                    event_type=rng.choice(TYPES),
                    sentence="Rebels attacked a checkpoint near the town, residents said.",
                    start=30 * j,
                    end=30 * j + 29,
                    modality=rng.choice(MODALITIES),
                    actor1=rng.choice(ACTORS),
                    actor1_text="the rebels",
                    actor2=rng.choice(ACTORS),
                    place=f"Place {rng.randrange(5000)}",
                    latitude=lat + rng.uniform(-2, 2),
                    longitude=lon + rng.uniform(-2, 2),
                    country=country,
                    geo_precision="exact place",
                    event_date=day - timedelta(days=rng.randrange(3)),
                    date_precision="day",
                    published=published,
                    fatalities=rng.choice([None, None, 0, 1, 2, 5, 12]),
                    confidence=rng.random(),
                    pipeline_version="bench",
                    source="bench",
                    trigger="attacked",
                    trigger_start=30 * j + 7,
                    trigger_end=30 * j + 15,
                )
            )
        batch.append((article, events))
        if len(batch) >= BATCH_ARTICLES:
            yield batch
            batch = []
    if batch:
        yield batch


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, by linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def run(n_events: int, folder: Path) -> dict[str, float]:
    """Fill a fresh store with ``n_events`` events and time inserts and queries."""
    path = folder / f"bench-{n_events}.duckdb"
    options = resolve_options(env={}, config_file=None, db=path)
    result: dict[str, float] = {"events": n_events}
    with Store(path, options=options) as store:
        seconds = 0.0
        stored_events = 0
        for batch in generate(n_events, seed=n_events, prefix="bulk"):
            started = time.perf_counter()
            store.add_many(batch, batch_articles=BATCH_ARTICLES)
            seconds += time.perf_counter() - started
            stored_events += sum(len(events) for _, events in batch)
        result["bulk_events_per_s"] = stored_events / seconds

        sample = [
            pair
            for batch in generate(SAMPLE_ARTICLES * EVENTS_PER_ARTICLE, seed=1, prefix="single")
            for pair in batch
        ]
        started = time.perf_counter()
        for article, events in sample:
            store.add(article, events)
        elapsed = time.perf_counter() - started
        result["add_articles_per_s"] = len(sample) / elapsed
        result["add_events_per_s"] = len(sample) * EVENTS_PER_ARTICLE / elapsed

        rng = random.Random(42)
        latencies = []
        page_latencies = []
        sql_latencies = []
        hits = []
        for _ in range(QUERIES):
            since = START + timedelta(days=rng.randrange(DAYS - 30))
            country = rng.choice(COUNTRIES)[0]
            started = time.perf_counter()
            found = store.events(country=country, since=since, until=since + timedelta(days=30))
            latencies.append((time.perf_counter() - started) * 1000)
            hits.append(len(found))
            started = time.perf_counter()
            store.events(country=country, since=since, until=since + timedelta(days=30), limit=100)
            page_latencies.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            store.conn.execute(
                "SELECT count(*) FROM events WHERE country = ? AND event_date BETWEEN ? AND ?",
                [country, since, since + timedelta(days=30)],
            ).fetchone()
            sql_latencies.append((time.perf_counter() - started) * 1000)
        result["query_p50_ms"] = percentile(latencies, 0.5)
        result["query_p95_ms"] = percentile(latencies, 0.95)
        result["query_rows"] = statistics.mean(hits)
        result["page_p50_ms"] = percentile(page_latencies, 0.5)
        result["page_p95_ms"] = percentile(page_latencies, 0.95)
        result["count_p50_ms"] = percentile(sql_latencies, 0.5)
        result["count_p95_ms"] = percentile(sql_latencies, 0.95)
    result["file_mb"] = path.stat().st_size / 1e6
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one block per size, then the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, action="append", help="events to insert (repeatable)")
    parser.add_argument("--dir", type=Path, help="folder for the databases (default: a temp one)")
    args = parser.parse_args(argv)
    sizes = args.events or [100_000, 1_000_000]
    if any(n < EVENTS_PER_ARTICLE for n in sizes):
        parser.error(f"--events must be at least {EVENTS_PER_ARTICLE}")
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in sizes:
            r = run(n, Path(tmp))
            results.append(r)
            print(f"{n:>12,} events  ({r['file_mb']:.0f} MB on disk)")
            print(f"  bulk insert (add_many)     {r['bulk_events_per_s']:>10,.0f} events/s")
            print(
                f"  per-article add            {r['add_events_per_s']:>10,.0f} events/s"
                f"  ({r['add_articles_per_s']:,.0f} articles/s, one transaction each)"
            )
            print(
                f"  30-day + country query     p50 {r['query_p50_ms']:.1f} ms"
                f"  p95 {r['query_p95_ms']:.1f} ms  ({r['query_rows']:.0f} events returned)"
            )
            print(
                f"  same, limit=100            p50 {r['page_p50_ms']:.1f} ms"
                f"  p95 {r['page_p95_ms']:.1f} ms"
            )
            print(
                f"  same filter, count(*) only p50 {r['count_p50_ms']:.1f} ms"
                f"  p95 {r['count_p95_ms']:.1f} ms"
            )
            sys.stdout.flush()
    if len(results) >= 2:
        small, large = results[0], results[-1]
        print(f"ratio {int(large['events']):,} / {int(small['events']):,} events:")
        for key, label in (
            ("bulk_events_per_s", "bulk insert rate"),
            ("add_events_per_s", "per-article insert rate"),
            ("query_p50_ms", "query p50"),
            ("query_p95_ms", "query p95"),
            ("page_p50_ms", "query limit=100 p50"),
            ("count_p50_ms", "count(*) p50"),
        ):
            print(f"  {label:<26} x{large[key] / small[key]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
