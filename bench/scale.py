"""Scaling on one machine: worker processes, a local Dask cluster, memory against corpus size.

Prints, from one run:

1. single-process ``Store.ingest`` of the corpus (the baseline), then ``ingest_parallel``
   with 1 and with 2 worker processes, and the speed-ups (target: 2 workers >= 1.7x the
   single process);
2. ``run_batch`` on a 2-worker local Dask cluster against the single process, with and
   without the cluster start (target >= 1.6x), and whether the events are the same;
3. peak memory (max RSS of the ingesting process and of its largest worker) at 1x and 10x
   corpus size, each measured in a fresh subprocess (target: 10x within 10% of 1x). The 1x
   corpus is 256 articles by default: four write batches of ``ingest --workers 2`` (which
   writes one chunk per worker per transaction; it was one 256-article write batch before)
   and eight ``nlp.pipe`` batches, so the 1x run has gone through everything a longer run
   goes through once; a smaller 1x measures the warm-up of
   the process, not growth with corpus size. ``bench/memprobe.py`` traces memory batch by
   batch over longer runs.

Every timing includes starting the workers and loading the model in them (what a user waits
for), except the single-process baseline, whose model is loaded before the clock starts: the
ratios are conservative; the figures "after the workers were ready" and "on the running
cluster" leave the start out. The modes run interleaved for ``--rounds`` rounds and the best
wall time of each is kept, since the machine may be shared. The package source is frozen
into a temporary copy first (bench/snapshot.py), so every process runs the same code.

    python bench/scale.py [--articles 240] [--rounds 2] [--modes single,dask] [--skip-timing]
                          [--memory-articles 256] [--memory-workers 0,2] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from snapshot import freeze  # noqa: E402

freeze()  # before anything imports eventwire

from chains import bench_chain  # noqa: E402
from corpus import iter_records, write_corpus  # noqa: E402

from eventwire.config import Options, resolve_options  # noqa: E402
from eventwire.memory import freeze_loaded  # noqa: E402
from eventwire.parallel import ProcessPipeline, ingest_parallel  # noqa: E402
from eventwire.pipeline import Pipeline  # noqa: E402
from eventwire.sources import iter_articles  # noqa: E402
from eventwire.store import Store  # noqa: E402


def _options(tmp: Path) -> Options:
    return resolve_options(env={}, config_file=None, db=tmp / "x.duckdb",
                           gazetteer=tmp / "gazetteer.sqlite")  # fmt: skip


def _events(store: Store) -> tuple[set[tuple[object, ...]], Partition]:
    return _rows_and_partition(store.conn.execute("SELECT * FROM events"))


#: Clusters as sets of event ids (None: the output has no clusters, e.g. batch Parquet).
Partition = frozenset[frozenset[object]] | None
_CLUSTER_COLUMNS = ("cluster_id", "report_count")


def _rows_and_partition(cursor: Any) -> tuple[set[tuple[object, ...]], Partition]:
    """Event rows without the clustering columns, and the clustering as a partition of event
    ids: the two are compared apart, since a partition may be the same under other ids."""
    names = [d[0] for d in cursor.description]
    keep = [i for i, n in enumerate(names) if n not in _CLUSTER_COLUMNS]
    rows, groups = set(), defaultdict(set)
    for row in cursor.fetchall():
        rows.add(tuple(row[i] for i in keep))
        groups[row[names.index("cluster_id")]].add(row[names.index("event_id")])
    partition = None if set(groups) <= {None} else frozenset(map(frozenset, groups.values()))
    return rows, partition


@dataclass
class Run:
    """One timed run: wall seconds, CPU seconds (this process and its reaped children),
    the 1-minute load average when it started, and the event rows it produced."""

    wall: float
    cpu: float
    load: float
    rows: set[tuple[object, ...]]
    partition: Partition
    #: Dask: seconds on a running cluster whose workers hold the pipeline already;
    #: worker processes: seconds after every worker was ready.
    steady: float = 0.0
    busy: float = 0.0  # worker processes: wall seconds spent on chunks, summed over workers
    worker_cpu: float = 0.0  # worker processes: CPU seconds spent on chunks
    #: Dask: seconds until the cluster was up with the pipeline loaded on every worker,
    #: and seconds from the end of the run until the cluster was stopped.
    startup: float = 0.0
    stopping: float = 0.0
    #: Dask: wall and CPU seconds of the threads that ran the partitions, summed.
    partition_wall: float = 0.0
    partition_cpu: float = 0.0


class _Clock:
    def __enter__(self) -> _Clock:
        self.load = os.getloadavg()[0]
        self.t0, self.c0 = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = _cpu() - self.c0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def single(options: Options, chain: tuple[str, ...], corpus: Path, db: Path) -> Run:
    """Single-process ``Store.ingest`` (model loaded before the clock starts), prepared as
    ``eventwire ingest`` prepares it: warmed up, then frozen (eventwire.memory)."""
    pipeline = Pipeline(options, stages=chain)
    pipeline.warm_up()
    freeze_loaded()
    with Store(db, options=options) as store:
        with _Clock() as clock:
            store.ingest(iter_articles([str(corpus)], options=options), pipeline)
        return Run(clock.wall, clock.cpu, clock.load, *_events(store))


def parallel(options: Options, chain: tuple[str, ...], corpus: Path, db: Path,
             workers: int) -> Run:  # fmt: skip
    """``ingest_parallel`` with ``workers`` processes (their start and model load included)."""
    runner = ProcessPipeline(options, workers, chain)
    with Store(db, options=options) as store:
        with _Clock() as clock:
            ingest_parallel(store, [str(corpus)], options, workers, runner=runner)
        return Run(clock.wall, clock.cpu, clock.load, *_events(store),
                   clock.wall - runner.startup_seconds, runner.busy_seconds,
                   runner.cpu_seconds)  # fmt: skip


def dask_run(options: Options, chain: tuple[str, ...], corpus: Path, out: Path) -> Run:
    """``run_batch`` on a new 2-worker local cluster (its start and stop included), then on a
    running one whose workers have the pipeline loaded (``steady``)."""
    import duckdb
    from distributed import LocalCluster

    from eventwire.batch import run_batch

    with _Clock() as clock:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster:  # fmt: skip
            up = time.perf_counter() - clock.t0
            report = run_batch([str(corpus)], out, options,
                               scheduler=cluster.scheduler_address,
                               partition_size=options.batch_size, stages=chain)  # fmt: skip
            ran = time.perf_counter() - clock.t0
    # The same run again on a cluster that stays up (workers keep their loaded pipeline):
    # what a long-running cluster spends per batch. run_batch loads the pipeline on every
    # worker first, so the warm-up run leaves both workers loaded.
    few = out.with_name(out.name + "-few.jsonl")
    few.write_text("".join(corpus.read_text("utf-8").splitlines(keepends=True)[:4]), "utf-8")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:  # fmt: skip
        run_batch([str(few)], out.with_name(out.name + "-warm-up"), options,
                  scheduler=cluster.scheduler_address, partition_size=1, stages=chain)
        t1 = time.perf_counter()
        run_batch([str(corpus)], out.with_name(out.name + "-steady"), options,
                  scheduler=cluster.scheduler_address, partition_size=options.batch_size,
                  stages=chain)  # fmt: skip
        running = time.perf_counter() - t1
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        rows, partition = _rows_and_partition(
            conn.execute("SELECT * FROM read_parquet(?)", [str(out / "events" / "*.parquet")])
        )
    return Run(clock.wall, clock.cpu, clock.load, rows, partition, running,
               startup=up + report.startup_seconds, stopping=clock.wall - ran,
               partition_wall=report.worker_seconds,
               partition_cpu=report.worker_cpu_seconds)  # fmt: skip


def _hwm_mib(pid: int | str = "self") -> float:
    """Peak resident memory of one process (VmHWM), in MiB; 0 when it is gone.

    Not ``getrusage``: Linux carries ``ru_maxrss`` over ``fork`` and ``exec``, so a process
    started by a big one reports the big one's peak.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _Sampler(threading.Thread):
    """Samples the peak memory of every child process (the workers) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        me = str(os.getpid())
        while not self.done.wait(0.2):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if stat.rsplit(")", 1)[1].split()[1] == me:  # the parent pid field
                    self.peak = max(self.peak, _hwm_mib(entry.name))


def memory_child(corpus: Path, db: Path, gazetteer: Path, workers: int, store_mb: int) -> None:
    """Subprocess body: ingest, then print peak memory (MiB) of self and largest child, and
    what DuckDB itself accounts for at the end (its cache of the store)."""
    options = resolve_options(env={}, config_file=None, db=db, gazetteer=gazetteer,
                              store_memory_mb=store_mb)  # fmt: skip
    chain = bench_chain(options)
    sampler = _Sampler()
    sampler.start()
    with Store(db, options=options) as store:
        # Prepared as `eventwire ingest` prepares it (see cli.ingest).
        if workers:
            freeze_loaded()
            report = ingest_parallel(store, [str(corpus)], options, workers, stages=chain)
        else:
            pipeline = Pipeline(options, stages=chain)
            pipeline.warm_up()
            freeze_loaded()
            report = store.ingest(iter_articles([str(corpus)], options=options), pipeline)
        [(duckdb_bytes,)] = store.conn.execute(
            "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
        ).fetchall()
    sampler.done.set()
    sampler.join()
    print(json.dumps({"stored": report.stored, "self_mib": _hwm_mib(),
                      "children_mib": sampler.peak,
                      "duckdb_mib": int(duckdb_bytes or 0) / 2**20}))  # fmt: skip


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


def measure_memory(tmp: Path, n: int, copies: int, workers: int,
                   store_mb: int = 0) -> dict[str, float]:  # fmt: skip
    corpus = write_repeated(n, copies, tmp / f"mem-{n}x{copies}.jsonl")
    db = tmp / f"mem-{n}x{copies}-{workers}-{store_mb}.duckdb"
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(corpus), str(db),
         str(tmp / "gazetteer.sqlite"), str(workers), str(store_mb)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


MODES = ("single", "1 worker", "2 workers", "dask")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=240)
    parser.add_argument("--memory-articles", type=int, default=256,
                        help="1x corpus (default: eight parse batches, see the module doc); "
                        "rounded up to a multiple of batch_size so the 10x corpus is cut into "
                        "the same batches")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"timed modes to run, comma-separated among {', '.join(MODES)} "
                        "(the single process always runs: it is the reference)")  # fmt: skip
    parser.add_argument("--skip-dask", action="store_true",
                        help="leave dask out of --modes")  # fmt: skip
    parser.add_argument("--skip-timing", action="store_true", help="run no timed mode")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-workers", default="0,2",
                        help="memory runs, comma-separated: 0 for the single process, N for "
                        "N worker processes")  # fmt: skip
    parser.add_argument("--store-memory-mb", type=int, default=0,
                        help="also measure 2 workers with DuckDB's cache capped at this")
    parser.add_argument("--memory-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        corpus, db, gazetteer, workers, store_mb = args.memory_child
        memory_child(Path(corpus), Path(db), Path(gazetteer), int(workers), int(store_mb))
        return

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        options = _options(tmp)
        chain = bench_chain(options)
        corpus = write_corpus(args.articles, tmp / "corpus.jsonl")
        print(f"corpus: {args.articles} articles; cores: {os.cpu_count()}; "
              f"chain: {', '.join(chain)}")  # fmt: skip

        modes = {m.strip() for m in args.modes.split(",")} | {"single"}
        if unknown := modes - set(MODES):
            parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
        if args.skip_dask:
            modes.discard("dask")
        if not args.skip_timing:
            timed(args, modes, options, chain, corpus, tmp)
        if not args.skip_memory:
            memory(args, options, tmp)


def timed(args: argparse.Namespace, modes: set[str], options: Options,
          chain: tuple[str, ...], corpus: Path, tmp: Path) -> None:  # fmt: skip
    """The timed modes, interleaved for ``args.rounds`` rounds; prints the comparison."""
    n = args.articles
    runs: dict[str, list[Run]] = {mode: [] for mode in MODES}
    # Rounds interleave the modes; the best of each is kept, so a burst of other load on
    # a shared machine hurts every mode alike or none.
    for r in range(args.rounds):
        runs["single"].append(single(options, chain, corpus, tmp / f"s{r}.duckdb"))
        for workers, mode in ((1, "1 worker"), (2, "2 workers")):
            if mode in modes:
                runs[mode].append(
                    parallel(options, chain, corpus, tmp / f"p{workers}{r}.duckdb", workers)
                )
        if "dask" in modes:
            runs["dask"].append(dask_run(options, chain, corpus, tmp / f"batch{r}"))
    reference, ref_partition = runs["single"][0].rows, runs["single"][0].partition
    best = {mode: min(rs, key=lambda x: x.wall) for mode, rs in runs.items() if rs}
    print(f"{'mode':<10} {'articles/s':>10} {'wall s':>8} {'cpu s/article':>14} "
          f"{'cores used':>10} {'load at start':>14}  same as single process: "
          "event rows / clusters (n/a: output has none)")  # fmt: skip
    for mode, run in best.items():
        same = all(x.rows == reference for x in runs[mode])
        same_clusters = ("n/a" if any(x.partition is None for x in runs[mode]) else
                         all(x.partition == ref_partition for x in runs[mode]))  # fmt: skip
        print(f"{mode:<10} {n / run.wall:10.2f} {run.wall:8.1f} {run.cpu / n:14.3f} "
              f"{run.cpu / run.wall:10.2f} {run.load:14.2f}  {same} / "
              f"{same_clusters}")  # fmt: skip
    s = best["single"]
    print(f"events: {len(reference)}; rounds: {args.rounds}, best wall time of each mode")
    if "2 workers" in best:
        p2 = best["2 workers"]
        print(f"speed-up 2 workers / single process: {s.wall / p2.wall:.2f}x, "
              f"{s.wall / p2.steady:.2f}x after the workers were ready  (target >= 1.7)")
        if "1 worker" in best:
            print(f"speed-up 2 workers / 1 worker      : "
                  f"{best['1 worker'].wall / p2.wall:.2f}x")  # fmt: skip
        if p2.busy:
            print(f"2 workers had work {100 * p2.busy / (2 * p2.steady):.0f}% of the time "
                  f"after start, and got {p2.worker_cpu / p2.busy:.2f} of a core each while "
                  "working (below 1: other processes took the CPU)")  # fmt: skip
        print(f"CPU per article, 2 workers / single process: {p2.cpu / s.cpu:.2f} (the "
              "cost of worker start, transfer and batched writes; contention on a busy "
              "machine shows here too)")  # fmt: skip
    if "dask" in best:
        d = best["dask"]
        print(f"speed-up dask 2-worker local cluster / single process: "
              f"{s.wall / d.wall:.2f}x with cluster start, {s.wall / d.steady:.2f}x on "
              "the running cluster  (target >= 1.6)")  # fmt: skip
        print(f"dask fixed costs (best run): {d.startup:.1f} s until the cluster was up "
              f"with the pipeline loaded on both workers, {d.stopping:.1f} s to stop it; "
              f"{d.wall - d.startup - d.stopping:.1f} s of partitions; load average "
              f"{d.load:.2f} at its start, {os.getloadavg()[0]:.2f} now")  # fmt: skip
        if d.partition_wall:
            print(f"dask partitions: {d.partition_cpu / n:.3f} CPU s per article in the "
                  f"threads that ran them (single process: {s.cpu / n:.3f}); they got "
                  f"{d.partition_cpu / d.partition_wall:.2f} of a core while running; the rest "
                  f"of the run's CPU ({(d.cpu - d.partition_cpu) / n:.3f} s per article) is "
                  "worker start, the workers' and the scheduler's bookkeeping")  # fmt: skip

    # What bounds a cluster besides the workers: the client reading the input, the
    # Parquet written per article, and loading it into a store.
    with _Clock() as clock:
        read = sum(1 for _ in iter_articles([str(corpus)], options=options))
    print(f"client reading JSONL input: {read / clock.wall:,.0f} articles/s")
    if "dask" in modes:
        from eventwire.batch import load_parquet

        out = tmp / "batch0"
        sizes = {t: sum(p.stat().st_size for p in (out / t).glob("*.parquet"))
                 for t in ("articles", "events")}  # fmt: skip
        print(f"parquet: {sizes['articles'] / n / 1024:.1f} KiB per article (with its text), "
              f"{sizes['events'] / max(len(reference), 1):.0f} bytes per event "
              f"(at {n} articles; larger partitions compress better)")  # fmt: skip
        with Store(tmp / "loaded.duckdb", options=options) as store, _Clock() as clock:
            loaded = load_parquet(store, out)
        print(f"load_parquet: {loaded.articles / clock.wall:,.0f} articles/s, "
              f"{loaded.events / clock.wall:,.0f} events/s")  # fmt: skip
        with Store(tmp / "loaded.duckdb", options=options) as store:
            rows, partition = _events(store)
        print(f"dask output loaded into a store, same as single process: event rows "
              f"{rows == reference}, clusters {partition == ref_partition}")  # fmt: skip


def memory(args: argparse.Namespace, options: Options, tmp: Path) -> None:
    """Peak memory at 1x and 10x, each in a fresh subprocess; prints the ratios."""
    m = -(-args.memory_articles // options.batch_size) * options.batch_size
    # The writer (the parent) also holds DuckDB's cache of the store, which grows with
    # the data stored, not with articles in flight: a run with the cache capped
    # (store_memory_mb) shows what the streaming itself costs.
    # The gazetteer index is built on first use: build it now, or the first run's peak
    # would be the build's, not the ingest's.
    from eventwire.gazetteer import Gazetteer

    Gazetteer.open(options.gazetteer).close()
    runs = [(int(w), 0) for w in args.memory_workers.split(",") if w.strip()]
    if args.store_memory_mb:
        runs.append((2, args.store_memory_mb))
    for workers, store_mb in runs:
        small = measure_memory(tmp, m, 1, workers, store_mb)
        large = measure_memory(tmp, m, 10, workers, store_mb)
        what = "single process" if not workers else f"--workers {workers}  "
        cap = f", store_memory_mb={store_mb}" if store_mb else ""
        print(f"peak memory {what}{cap}: {m} articles {small['self_mib']:.0f} MiB "
              f"(largest worker {small['children_mib']:.0f}, DuckDB "
              f"{small['duckdb_mib']:.0f}), {10 * m} articles "
              f"{large['self_mib']:.0f} MiB (largest worker "
              f"{large['children_mib']:.0f}, DuckDB {large['duckdb_mib']:.0f}); 10x/1x = "
              f"{large['self_mib'] / small['self_mib']:.3f} parent, "
              f"{large['children_mib'] / max(small['children_mib'], 1):.3f} worker "
              "(target <= 1.10)")  # fmt: skip


if __name__ == "__main__":
    main()
