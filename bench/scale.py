"""Scaling on one machine: worker processes, a local Dask cluster, memory against corpus size.

Prints, from one run:

1. single-process ``Store.ingest`` of the corpus (the baseline), then ``ingest_parallel``
   with 1 and with 2 worker processes, and the speed-ups (target: 2 workers >= 1.7x the
   single process);
2. ``run_batch`` on a 2-worker local Dask cluster against the single process, with and
   without the cluster start (target >= 1.6x), and whether the events are the same;
3. peak memory (max RSS of the ingesting process and of its largest worker) at 1x and 10x
   corpus size, each measured in a fresh subprocess (target: 10x within 10% of 1x).

Every timing includes loading the model in the workers (what a user waits for), except the
single-process baseline, whose model is loaded before the clock starts: the ratios are
therefore conservative.

    python bench/scale.py [--articles 120] [--memory-articles 40] [--skip-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from chains import bench_chain  # noqa: E402
from corpus import iter_records, write_corpus  # noqa: E402

from eventwire.config import Options, resolve_options  # noqa: E402
from eventwire.model import Article  # noqa: E402
from eventwire.parallel import ingest_parallel  # noqa: E402
from eventwire.pipeline import Pipeline  # noqa: E402
from eventwire.sources import iter_articles  # noqa: E402
from eventwire.store import Store  # noqa: E402


def _options(tmp: Path) -> Options:
    return resolve_options(env={}, config_file=None, db=tmp / "x.duckdb",
                           gazetteer=tmp / "gazetteer.sqlite")  # fmt: skip


def _events(store: Store) -> set[tuple[object, ...]]:
    return set(store.conn.execute("SELECT * FROM events").fetchall())


def single(
    options: Options, chain: tuple[str, ...], corpus: Path, db: Path
) -> tuple[float, int, set]:
    """Seconds, articles stored and event rows of a single-process ingest (model preloaded)."""
    pipeline = Pipeline(options, stages=chain)
    pipeline.run(Article("Warm-up: rebels attacked the town."))  # load the model untimed
    with Store(db, options=options) as store:
        t0 = time.perf_counter()
        report = store.ingest(iter_articles([str(corpus)], options=options), pipeline)
        seconds = time.perf_counter() - t0
        return seconds, report.stored, _events(store)


def parallel(options: Options, chain: tuple[str, ...], corpus: Path, db: Path,
             workers: int) -> tuple[float, int, set]:  # fmt: skip
    """Seconds (worker start included), articles stored and event rows with ``workers``."""
    with Store(db, options=options) as store:
        t0 = time.perf_counter()
        report = ingest_parallel(store, [str(corpus)], options, workers, stages=chain)
        seconds = time.perf_counter() - t0
        return seconds, report.stored, _events(store)


def dask_run(options: Options, chain: tuple[str, ...], corpus: Path, out: Path,
             partitions: int, n: int) -> tuple[float, float, set]:  # fmt: skip
    """Seconds with cluster start, seconds on a running cluster, and the event rows."""
    import duckdb
    from distributed import LocalCluster

    from eventwire.batch import run_batch

    size = max(1, -(-n // partitions))
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:  # fmt: skip
        t1 = time.perf_counter()
        run_batch([str(corpus)], out, options, scheduler=cluster.scheduler_address,
                  partition_size=size, stages=chain)  # fmt: skip
        t2 = time.perf_counter()
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        rows = set(conn.execute("SELECT * FROM read_parquet(?)",
                                [str(out / "events" / "*.parquet")]).fetchall())  # fmt: skip
    return t2 - t0, t2 - t1, rows


def memory_child(corpus: Path, db: Path, gazetteer: Path, workers: int) -> None:
    """Subprocess body: ingest, then print peak RSS (MiB) of self and largest child as JSON."""
    options = resolve_options(env={}, config_file=None, db=db, gazetteer=gazetteer)
    chain = bench_chain(options)
    with Store(db, options=options) as store:
        if workers:
            report = ingest_parallel(store, [str(corpus)], options, workers, stages=chain)
        else:
            report = store.ingest(iter_articles([str(corpus)], options=options),
                                  Pipeline(options, stages=chain))  # fmt: skip
    print(json.dumps({
        "stored": report.stored,
        "self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))  # fmt: skip


def write_repeated(n: int, copies: int, out: Path) -> Path:
    """``copies`` times the same ``n`` articles, each copy made unique by one added line.

    The 10x corpus thus has the same texts (and the same longest text) as the 1x corpus:
    any growth of peak memory comes from the volume, not from meeting a longer article.
    """
    records = list(iter_records(n))
    with out.open("w", encoding="utf-8") as fh:
        for copy in range(copies):
            for record in records:
                row = dict(record, text=f"{record['text']}\n\n(Volume copy {copy}.)",
                           url=f"{record['url']}/{copy}")  # fmt: skip
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out


def measure_memory(tmp: Path, n: int, copies: int, workers: int) -> dict[str, float]:
    corpus = write_repeated(n, copies, tmp / f"mem-{n}x{copies}.jsonl")
    db = tmp / f"mem-{n}x{copies}-{workers}.duckdb"
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(corpus), str(db),
         str(tmp / "gazetteer.sqlite"), str(workers)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--memory-articles", type=int, default=40)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        corpus, db, gazetteer, workers = args.memory_child
        memory_child(Path(corpus), Path(db), Path(gazetteer), int(workers))
        return

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        options = _options(tmp)
        chain = bench_chain(options)
        corpus = write_corpus(args.articles, tmp / "corpus.jsonl")
        print(f"corpus: {args.articles} articles; cores: {os.cpu_count()}; "
              f"chain: {', '.join(chain)}")  # fmt: skip

        s_sec, s_n, s_rows = single(options, chain, corpus, tmp / "single.duckdb")
        print(f"single process      : {s_n / s_sec:7.2f} articles/s ({s_sec:.1f}s, "
              f"{len(s_rows)} events)")  # fmt: skip
        p1_sec, p1_n, p1_rows = parallel(options, chain, corpus, tmp / "p1.duckdb", 1)
        print(f"1 worker process    : {p1_n / p1_sec:7.2f} articles/s ({p1_sec:.1f}s)")
        p2_sec, p2_n, p2_rows = parallel(options, chain, corpus, tmp / "p2.duckdb", 2)
        print(f"2 worker processes  : {p2_n / p2_sec:7.2f} articles/s ({p2_sec:.1f}s)")
        print(f"speed-up 2 workers / single process: {s_sec / p2_sec:.2f}x  (target >= 1.7)")
        print(f"speed-up 2 workers / 1 worker      : {p1_sec / p2_sec:.2f}x")
        print(f"same events as single process: 1 worker {p1_rows == s_rows}, "
              f"2 workers {p2_rows == s_rows}")  # fmt: skip

        if not args.skip_dask:
            with_start, running, d_rows = dask_run(
                options, chain, corpus, tmp / "batch", partitions=8, n=args.articles
            )
            print(f"dask 2-worker local : {args.articles / with_start:7.2f} articles/s "
                  f"({with_start:.1f}s with cluster start, {running:.1f}s on a running "
                  "cluster)")  # fmt: skip
            print(f"speed-up dask / single process: {s_sec / with_start:.2f}x with cluster "
                  f"start, {s_sec / running:.2f}x on a running cluster  (target >= 1.6)")
            print(f"same events as single process: {d_rows == s_rows}")

        if not args.skip_memory:
            m = args.memory_articles
            for workers in (0, 2):
                small = measure_memory(tmp, m, 1, workers)
                large = measure_memory(tmp, m, 10, workers)
                what = "single process" if not workers else f"{workers} workers    "
                print(f"peak memory {what}: {m} articles {small['self_mib']:.0f} MiB "
                      f"(largest worker {small['children_mib']:.0f}), {10 * m} articles "
                      f"{large['self_mib']:.0f} MiB (largest worker "
                      f"{large['children_mib']:.0f}); 10x/1x = "
                      f"{large['self_mib'] / small['self_mib']:.3f} parent, "
                      f"{large['children_mib'] / max(small['children_mib'], 1):.3f} worker "
                      "(target <= 1.10)")  # fmt: skip


if __name__ == "__main__":
    main()
