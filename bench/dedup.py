"""Scale of report clustering: 100,000 vs 1,000,000 events, and one article into a big store.

    python bench/dedup.py [--small 100000] [--large 1000000] [--articles 30]
                          [--db bench/out/dedup.duckdb] [--paired] [--skip-store]

Events are generated (no ACLED, no NLP) at a constant density of about 1,000 reports a day
over 50 countries, so the large run covers ten times the days of the small one, as a store
that keeps growing does. Each real event has one to four reports (spelling-varied places,
coarser places now and then, shared and own wording), so clustering does real work.

Prints

* the time of clustering both sizes with :class:`eventwire.cluster.Clusterer` (what
  :func:`eventwire.cluster.cluster_events` does) and their ratio, in CPU time of this process
  (wall time is printed too, but on a shared machine it measures the neighbours) (target:
  under 10x for 10x the events, i.e. near-linear), with the rate of each tenth of the run
  (flat rates: the work per event does not grow with the events already clustered); the
  small size runs before and after the large one, and the ratio takes their mean;
* with ``--paired``, the ratio again with the small size clustered over and over in a second
  process for as long as the large run lasts (the median of the small runs that started and
  ended within it): both sizes then run under the same load (on this shared machine, CPU
  seconds of one run vary by a third with the neighbours' load). A diagnostic, not the
  target's measure: the small runs after the first find the name caches warm, and their heap
  stays small while the large run's grows, so it shows what costs more per report once a
  million are stored (memory: caches, the collector's walks), which the sequential ratio
  mixes with the load's drift. 25 Nov 2026: 10.8x and 11.1x where the sequential runs gave
  9.6x and 10.4x;
* the time to build a DuckDB store of the large set (bulk insert, then the clusters
  migration, which clusters every stored event);
* the time to add one article's events to that store: insert article and events and
  :func:`eventwire.cluster.assign` in one transaction, i.e. ``Store.add`` on a store with the
  clustering schema (target: under 100 ms), as median and worst of ``--articles`` articles.

Not run by the tests.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from eventwire.cluster import Clusterer  # noqa: E402
from eventwire.config import resolve_options  # noqa: E402
from eventwire.model import Article, Event  # noqa: E402
from eventwire.store import (  # noqa: E402
    ARTICLE_COLUMNS,
    BASE_MIGRATIONS,
    CLUSTERING_MIGRATIONS,
    EVENT_COLUMNS,
    Store,
    insert_rows,
)

COUNTRIES = 50
PLACES = 400  # per country
PER_DAY = 1000  # reports a day, all countries
START = date(2015, 1, 1)
TYPES = ("ASSAULT", "ASSAULT", "ASSAULT", "PROTEST", "PROTEST", "COERCE", "MOBILIZE", "CONSULT")
WORDS = (
    "mortar rocket convoy checkpoint market bridge school clinic warehouse airstrip border "
    "village district barracks hospital mosque church fuel depot truck ambush drone sniper "
    "tank artillery grenade roadside landmine patrol curfew strike sit-in march rally union "
    "students farmers traders teachers workers wages prices election ballot court detention"
).split()


class World:
    """Countries with places and actors, fixed by the seed."""

    def __init__(self, rng: random.Random) -> None:
        self.countries = []
        for c in range(COUNTRIES):
            lat0, lon0 = rng.uniform(-35, 55), rng.uniform(-100, 120)
            places = [
                (f"Place{c}x{p}", lat0 + rng.uniform(-3, 3), lon0 + rng.uniform(-3, 3),
                 f"Prov{c}x{p // 40}", f"Dist{c}x{p // 8}")
                for p in range(PLACES)
            ]  # fmt: skip
            actors = [(f"Force {c}-{a}", "state military" if a < 3 else "rebels")
                      for a in range(10)]  # fmt: skip
            self.countries.append((f"C{c:02d}", places, actors))


def generate(n: int, seed: int = 7) -> list[Event]:
    """About ``n`` reports of real events, in publication order."""
    rng = random.Random(seed)
    world = World(rng)
    events: list[Event] = []
    real = 0
    while len(events) < n:
        real += 1
        day = START + timedelta(days=len(events) // PER_DAY)
        code, places, actors = rng.choice(world.countries)
        name, lat, lon, admin1, admin2 = rng.choice(places)
        etype = rng.choice(TYPES)
        a1, a2 = rng.sample(actors, 2)
        details = rng.sample(WORDS, 4)
        for k in range(rng.choice((1, 1, 2, 2, 3, 4))):
            roll = rng.random()
            geo, plat, plon, place = "exact place", lat, lon, name
            if roll < 0.05:
                geo, place = "admin1", admin1
            elif roll < 0.15:
                geo, place = "admin2", admin2
            elif roll < 0.45:
                plat, plon = lat + rng.uniform(-0.004, 0.004), lon + rng.uniform(-0.004, 0.004)
            words = rng.sample(details, 3) + rng.sample(WORDS, 2)
            sentence = f"{a1[0]} {etype.lower()} {' '.join(words)} near {place}."
            article = f"a{real}x{k}"
            events.append(
                Event(
                    event_type=etype,
                    sentence=sentence,
                    start=0,
                    end=len(sentence),
                    event_id=f"e{real}x{k}",
                    article_id=article,
                    url=f"https://o{k}.example/{real}",
                    source=f"Outlet {k}",
                    actor1=a1[0],
                    actor1_text=a1[0],
                    actor1_kind=a1[1],
                    actor1_country=code,
                    actor2=a2[0] if rng.random() < 0.6 else None,
                    place=place,
                    place_text=place,
                    latitude=plat,
                    longitude=plon,
                    admin1=admin1,
                    admin2=admin2 if geo != "admin1" else None,
                    country=code,
                    geo_precision=geo,
                    event_date=day,
                    date_precision="day",
                    published=datetime.combine(day, datetime.min.time(), UTC)
                    + timedelta(hours=rng.uniform(6, 40)),
                    confidence=0.8,
                    fatalities=rng.choice((None, 0, 1, 2, 5)),
                )  # fmt: skip
            )
    events = events[:n]
    events.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC))
    return events


def time_clustering(n: int) -> tuple[float, float]:
    """Cluster ``n`` generated events; returns (wall, CPU) seconds and prints the CPU rate of
    each tenth of the run (flat rates mean linear time)."""
    events = generate(n)
    gc.collect()
    # The generated input is the harness's, not the clusterer's: keep the garbage collector
    # from re-scanning it on every full collection (with 1,000,000 events that alone grows
    # the per-event time with the size of the run).
    gc.freeze()
    wall, cpu = time.perf_counter(), time.process_time()
    clusterer = Clusterer()
    step = max(n // 10, 1)
    rates = []
    last = cpu
    for i, event in enumerate(events, 1):
        clusterer.add(event)
        if i % step == 0:
            now = time.process_time()
            rates.append(step / max(now - last, 1e-9))
            last = now
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    found = len(clusterer.members)
    del clusterer, events
    gc.unfreeze()
    gc.collect()
    print(f"clustering {n:,} events: {wall:.1f}s wall, {cpu:.1f}s CPU, "
          f"{found:,} clusters, {n / cpu:,.0f} events/CPU-s; per tenth: "
          + " ".join(f"{r / 1000:.1f}k" for r in rates))  # fmt: skip
    return wall, cpu


def build_store(path: Path, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    options = resolve_options(env={}, db=path)
    events = generate(n)
    started = time.perf_counter()
    # Schema v1 only (stores cluster by default now): bulk load first, then the clusters
    # migration clusters everything stored. Opened with every migration, the store would be
    # at v2 already, skip that migration and leave the loaded events unclustered.
    with Store(path, options=options, migrations=BASE_MIGRATIONS) as store:
        conn = store.conn
        articles = {}
        for e in events:
            articles.setdefault(e.article_id, {"article_id": e.article_id, "url": e.url,
                                               "source": e.source, "published": e.published,
                                               "text": e.sentence, "n_events": 1})  # fmt: skip
        conn.execute("BEGIN TRANSACTION")
        insert_rows(conn, "articles", ARTICLE_COLUMNS, list(articles.values()))
        insert_rows(conn, "events", EVENT_COLUMNS, [e.to_record() for e in events])
        conn.execute("COMMIT")
    loaded = time.perf_counter()
    print(f"bulk load of {n:,} events: {loaded - started:.1f}s")
    del events, articles
    gc.collect()
    with Store(path, options=options, migrations=CLUSTERING_MIGRATIONS) as store:
        clusters = store.conn.execute("SELECT count(*) FROM clusters").fetchone()
    seconds = time.perf_counter() - loaded
    found = clusters[0] if clusters else 0
    print(f"clusters migration (clusters all {n:,} stored events): {seconds:.1f}s, "
          f"{found:,} clusters")  # fmt: skip
    if not found:
        raise SystemExit("the clusters migration did not run: the timings would be meaningless")


def time_article_adds(path: Path, n: int, articles: int) -> list[float]:
    """Add articles carrying new reports of stored real events (and of new ones)."""
    options = resolve_options(env={}, db=path)
    rng = random.Random(11)
    pool = generate(n)  # the same world and events as the store
    times = []
    joined_total = 0
    with Store(path, options=options, migrations=CLUSTERING_MIGRATIONS) as store:
        for i in range(articles):
            picks = rng.sample(pool[-20000:], 4)  # recent events, as news arrives
            text = f"bench article {i} " + " ".join(p.sentence for p in picks)
            article = Article(text=text, url=f"https://new.example/{i}", source="New Outlet",
                              published=datetime.now(UTC))  # fmt: skip
            events = [
                replace(p, event_id=f"n{i}x{j}", article_id=article.article_id,
                        url=article.url, source="New Outlet", cluster_id=None,
                        report_count=None)
                for j, p in enumerate(picks)
            ]  # fmt: skip
            started = time.perf_counter()
            assert store.add(article, events)
            times.append(time.perf_counter() - started)
            joined = store.conn.execute(
                "SELECT count(*) FROM events WHERE article_id = ? AND report_count > 1",
                [article.article_id],
            ).fetchone()[0]
            joined_total += joined
            if i < 3:
                print(f"  article {i}: {len(events)} events, {joined} joined stored clusters, "
                      f"{times[-1] * 1000:.1f} ms")  # fmt: skip
    print(f"  {joined_total} of {4 * articles} new events joined a stored cluster")
    return times


def compare_sizes(small_n: int, large_n: int) -> None:
    """Print the clustering times of both sizes and their ratio.

    The small size runs before and after the large one and the ratio uses their mean: on a
    shared machine the load drifts during the minutes the large run takes, and CPU time
    too grows with the neighbours' load (caches, hyper-threads); a drift then moves both
    small runs in opposite directions around the large one instead of into the ratio.
    """
    runs = []
    for n in (small_n, large_n, small_n):
        load = os.getloadavg()[0]
        wall, cpu = time_clustering(n)
        runs.append((wall, cpu))
        print(f"  (load average {load:.1f} at the start of that run)")
    (w1, c1), (large_wall, large_cpu), (w2, c2) = runs
    small_cpu, small_wall = (c1 + c2) / 2, (w1 + w2) / 2
    size = large_n / small_n
    cpu_ratio, wall_ratio = large_cpu / small_cpu, large_wall / small_wall
    verdict = "OK" if cpu_ratio < size else "TOO SLOW"
    print(f"ratio {cpu_ratio:.2f}x CPU ({wall_ratio:.2f}x wall) for {size:.0f}x the events "
          f"(against each small run: {large_cpu / c1:.2f}x, {large_cpu / c2:.2f}x; "
          f"n log n would be {size * math.log(large_n) / math.log(small_n):.1f}x): "
          f"{verdict}")  # fmt: skip


def _small_runs(n: int, conn: Any) -> None:
    """Child process of :func:`compare_paired`: cluster ``n`` events again and again, sending
    each run's CPU seconds and end time, until the parent says stop."""
    events = generate(n)
    gc.collect()
    gc.freeze()
    conn.send("ready")
    while not conn.poll():
        for event in events:  # the same input as the first run, outside the timing
            event.cluster_id = None
        started = time.time()
        cpu = time.process_time()
        clusterer = Clusterer()
        for event in events:
            clusterer.add(event)
        conn.send((started, time.time(), time.process_time() - cpu))
        del clusterer
    conn.close()


def compare_paired(small_n: int, large_n: int) -> None:
    """Print the ratio with the small size clustered over and over in a second process while
    the large one runs, so both see the same load.

    On a machine shared with other jobs, CPU seconds too grow with the neighbours' load
    (shared caches, hyper-threads): minutes apart, the same run may cost a third more. Small
    runs timed alongside the large one (only those that started and ended within it count;
    their median is used) are measured under the load it had.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    events = generate(large_n)
    parent, child = ctx.Pipe()
    worker = ctx.Process(target=_small_runs, args=(small_n, child))
    worker.start()
    child.close()  # the parent's copy: the pipe ends (EOFError below) when the worker exits
    parent.recv()
    gc.collect()
    gc.freeze()
    load = os.getloadavg()[0]
    started = time.time()
    cpu = time.process_time()
    clusterer = Clusterer()
    for event in events:
        clusterer.add(event)
    large_cpu = time.process_time() - cpu
    ended = time.time()
    parent.send("stop")
    runs = []
    while True:
        try:
            runs.append(parent.recv())
        except (EOFError, OSError):  # the worker has exited
            break
    worker.join()
    gc.unfreeze()
    inside = [c for s, e, c in runs if s >= started and e <= ended]
    if not inside:
        raise SystemExit("no small run fitted within the large one: use a larger --large")
    small_cpu = statistics.median(inside)
    size = large_n / small_n
    ratio = large_cpu / small_cpu
    print(
        f"paired: clustering {large_n:,} events: {large_cpu:.1f}s CPU (load average {load:.1f} "
        f"at its start); {len(inside)} runs of {small_n:,} alongside it: "
        + " ".join(f"{c:.2f}" for c in inside)
        + f"s CPU, median {small_cpu:.2f}s"
    )
    verdict = "OK" if ratio < size else "TOO SLOW"
    print(f"paired ratio {ratio:.2f}x CPU for {size:.0f}x the events "
          f"(against the fastest and slowest small run: {large_cpu / min(inside):.2f}x, "
          f"{large_cpu / max(inside):.2f}x): {verdict}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "dedup.duckdb")
    parser.add_argument("--skip-store", action="store_true", help="Only time clustering.")
    parser.add_argument("--skip-clustering", action="store_true", help="Only time the store.")
    parser.add_argument(
        "--paired",
        action="store_true",
        help="Also time the small size over and over alongside the large one (same load).",
    )
    args = parser.parse_args()
    if not args.skip_clustering:
        compare_sizes(args.small, args.large)
        if args.paired:
            compare_paired(args.small, args.large)
    if args.skip_store:
        return
    build_store(args.db, args.large)
    times = time_article_adds(args.db, args.large, args.articles)
    median, worst = statistics.median(times) * 1000, max(times) * 1000
    verdict = "OK" if median < 100 else "TOO SLOW"
    print(f"add one article (4 events) to a {args.large:,}-event store: median {median:.1f} ms, "
          f"worst {worst:.1f} ms over {len(times)} articles: {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
