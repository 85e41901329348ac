"""Where the memory of a single-process ingest goes, batch by batch.

Runs ``Store.ingest`` (or only ``Pipeline.run_many`` with ``--no-store``) over a corpus and
prints, after every write batch: articles done, resident set (VmRSS) and its peak (VmHWM),
what glibc's allocator holds (``mallinfo2``: bytes in use, free bytes kept in the heap, bytes
in mmapped blocks), the Python heap (``--tracemalloc``), the size of spaCy's string store and
DuckDB's own accounting (``duckdb_memory()``).

    python bench/memprobe.py --articles 640 [--repeat 64] [--no-store] [--trim]

``--repeat N`` builds the corpus as ``scale.py``'s memory runs do (the first N texts again
and again, each copy made unique); without it every article is a distinct text
(``corpus.iter_records``). ``--trim`` calls ``malloc_trim(0)`` after every batch.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from chains import bench_chain  # noqa: E402
from corpus import iter_records  # noqa: E402

from eventwire.config import resolve_options  # noqa: E402
from eventwire.memory import malloc_stats, release_free_memory  # noqa: E402
from eventwire.model import Article  # noqa: E402
from eventwire.pipeline import Pipeline  # noqa: E402
from eventwire.sources import iter_articles  # noqa: E402
from eventwire.store import Store  # noqa: E402

_ = ctypes  # the allocator is reached through eventwire.memory


def _status(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def write(path: Path, n: int, repeat: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        if repeat:
            records = list(iter_records(repeat))
            for i in range(n):
                record = records[i % repeat]
                copy = i // repeat
                row = dict(record, text=f"{record['text']}\n\n(Volume copy {copy}.)",
                           url=f"{record['url']}/{copy}")  # fmt: skip
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            for record in iter_records(n):
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=640)
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--no-store", action="store_true")
    parser.add_argument("--trim", action="store_true")
    parser.add_argument(
        "--collect",
        action="store_true",
        help="collect cyclic garbage (gc.collect) after every batch",
    )
    parser.add_argument(
        "--freeze", action="store_true", help="gc.freeze() the loaded pipeline (after the warm-up)"
    )
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--store-memory-mb", type=int, default=0)
    parser.add_argument("--every", type=int, default=1, help="print every Nth batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        options = resolve_options(env={}, config_file=None, db=tmp / "x.duckdb",
                                  store_memory_mb=args.store_memory_mb)  # fmt: skip
        corpus = write(tmp / "c.jsonl", args.articles, args.repeat)
        pipeline = Pipeline(options, stages=bench_chain(options))
        pipeline.run(Article("Warm-up: rebels attacked the town."))
        nlp = pipeline.context.nlp
        if args.freeze:
            gc.collect()
            gc.freeze()
        if args.tracemalloc:
            tracemalloc.start()
        print("articles  rss  hwm  heap_used heap_free mmapped  py_heap strings duckdb  s")
        started = time.perf_counter()
        state: dict[str, Any] = {"n": 0, "batches": 0}

        def sample(done: int, store: Store | None) -> None:
            state["batches"] += 1
            if args.collect:
                gc.collect()
            if args.trim:
                release_free_memory()
            if state["batches"] % args.every:
                return
            m = malloc_stats()
            py = tracemalloc.get_traced_memory()[0] / 2**20 if args.tracemalloc else 0.0
            duck = 0.0
            if store is not None:
                [(b,)] = store.conn.execute(
                    "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
                ).fetchall()
                duck = int(b or 0) / 2**20
            print(f"{done:8d} {_status('VmRSS'):4.0f} {_status('VmHWM'):4.0f} "
                  f"{m['used'] / 2**20:9.0f} {m['free'] / 2**20:9.0f} "
                  f"{m['mmapped'] / 2**20:7.0f} {py:8.0f} {len(nlp.vocab.strings):7d} "
                  f"{duck:6.0f} {time.perf_counter() - started:4.0f}", flush=True)  # fmt: skip

        articles = iter_articles([str(corpus)], options=options)
        if args.no_store:
            done = 0
            for _ in pipeline.run_many(a for a in articles if isinstance(a, Article)):
                done += 1
                if done % options.batch_size == 0:
                    sample(done, None)
        else:
            with Store(tmp / "x.duckdb", options=options) as store:

                def progress(report: Any) -> None:
                    if report.stored != state["n"]:
                        state["n"] = report.stored
                        sample(report.stored, store)

                store.ingest(articles, pipeline, progress=progress)
        print(f"peak (VmHWM) {_status('VmHWM'):.0f} MiB")


if __name__ == "__main__":
    main()
