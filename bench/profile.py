"""Where the time goes: spaCy components, each stage, the store writer, and the hottest functions.

From one run over the same corpus, prints

1. spaCy alone: the tokenizer and each loaded component, timed separately over ``nlp.pipe``
   batches (what ``parse.spacy.v1`` costs, and what excluding a component would save), and
   NER alone (tokenizer + ner) for reference;
2. each stage of the chain after parsing, timed around the stage function;
3. the store writer: ``Store.add_many`` of the results;
4. the top functions of a cProfile run of ``Store.ingest``, by own time.

    python bench/profile.py [--articles 150] [--top 25]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

# This file is named like the standard library's ``profile``, which cProfile (and through it
# spaCy) imports. Any script in bench/ has this folder first on sys.path, so ``import profile``
# finds this file: when imported, it puts the standard module in its place. Everything else
# here happens inside main(), so importing this file has no other effect.
if __name__ != "__main__":
    import importlib.util
    import sysconfig

    _spec = importlib.util.spec_from_file_location(
        "profile", Path(sysconfig.get_paths()["stdlib"]) / "profile.py"
    )
    assert _spec is not None and _spec.loader is not None
    _std = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_std)
    sys.modules["profile"] = _std  # what ``import profile`` binds once this file is done
    globals().update({k: v for k, v in vars(_std).items() if not k.startswith("__")})

HERE = Path(__file__).resolve().parent


def spacy_components(nlp: Any, texts: list[str], batch_size: int) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds per pipeline step (tokenizer, then each component) over all texts."""
    timings: dict[str, tuple[float, float]] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    docs = [nlp.make_doc(t) for t in texts]
    timings["tokenizer"] = (time.perf_counter() - t0, time.process_time() - c0)
    for name, proc in nlp.pipeline:
        t0, c0 = time.perf_counter(), time.process_time()
        if hasattr(proc, "pipe"):
            docs = list(proc.pipe(docs, batch_size=batch_size))
        else:
            docs = [proc(d) for d in docs]
        timings[name] = (time.perf_counter() - t0, time.process_time() - c0)
    return timings


def main() -> None:
    """Run every measurement and print it (imports here: see the top of this file)."""
    import argparse
    import cProfile
    import io
    import pstats
    import tempfile
    from collections import defaultdict
    from dataclasses import replace
    sys.path.insert(0, str(HERE))
    from chains import bench_chain
    from corpus import iter_records

    from eventwire.config import resolve_options
    from eventwire.dates import parse_published
    from eventwire.model import Article, Document, Event
    from eventwire.nlp import load
    from eventwire.pipeline import Context, Pipeline
    from eventwire.store import Store

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        options = resolve_options(env={}, config_file=None, db=tmp / "p.duckdb")
        chain = bench_chain(options)
        records = list(iter_records(args.articles))
        articles = [
            Article(r["text"], title=r["title"], url=r["url"], source=r["source"],
                    published=parse_published(r["published"]), locator=r["url"])
            for r in records
        ]  # fmt: skip
        texts = [a.text for a in articles]
        pipeline = Pipeline(options, stages=chain)
        pipeline.run(Article("Warm-up: rebels attacked the town of Idlib on Monday."))
        nlp = pipeline.context.nlp
        print(f"corpus: {len(texts)} articles, {sum(map(len, texts)):,} characters; "
              f"chain: {', '.join(chain)}")  # fmt: skip
        print(f"spaCy components loaded: {', '.join(nlp.pipe_names)}")

        # 1. spaCy, component by component (a second pass: the lemma and ruler caches warm)
        print(f"load average {os.getloadavg()[0]:.2f}; times are wall seconds, CPU seconds "
              "of this process in brackets (they move less on a shared machine)")
        spacy_components(nlp, texts, options.batch_size)
        parts = spacy_components(nlp, texts, options.batch_size)
        tokens = sum(len(d) for d in nlp.tokenizer.pipe(texts))
        spacy_total = sum(w for w, _ in parts.values())
        spacy_cpu = sum(c for _, c in parts.values())
        print(f"\n1. spaCy ({tokens:,} tokens), {spacy_total:.1f}s ({spacy_cpu:.1f}) in all, "
              f"{tokens / spacy_total:,.0f} tokens/s:")  # fmt: skip
        for step, (sec, cpu) in parts.items():
            print(f"   {step:<16} {sec:7.2f}s ({cpu:6.2f})  {100 * cpu / spacy_cpu:5.1f}% of CPU")
        ner = load(frozenset({"ner"}), options.model)
        list(ner.pipe(texts[:4]))
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in ner.pipe(texts, batch_size=options.batch_size):
            pass
        ner_s, ner_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"   NER alone (tokenizer + ner, which has its own tok2vec): {ner_s:.2f}s "
              f"({ner_cpu:.2f}), {tokens / ner_s:,.0f} tokens/s; all components / NER alone: "
              f"{spacy_cpu / ner_cpu:.2f} CPU")  # fmt: skip

        # 2. each stage after parsing, timed around the stage function
        per_stage: dict[str, float] = defaultdict(float)
        per_stage_cpu: dict[str, float] = defaultdict(float)
        timed = []
        for st in pipeline.chain:
            def wrapped(document: Document, context: Context, fn: Any = st.fn,
                        stage_name: str = st.name) -> None:  # fmt: skip
                t, c = time.perf_counter(), time.process_time()
                try:
                    fn(document, context)
                finally:
                    per_stage[stage_name] += time.perf_counter() - t
                    per_stage_cpu[stage_name] += time.process_time() - c
            timed.append(replace(st, fn=wrapped))
        pipeline.chain = timed
        results: list[tuple[Article, list[Event]]] = []
        t0, c0 = time.perf_counter(), time.process_time()
        rejected = 0
        for article, result in pipeline.run_many(articles):
            if isinstance(result, list):
                results.append((article, result))
            else:
                rejected += 1
        run_s, run_cpu = time.perf_counter() - t0, time.process_time() - c0
        parse_s = run_s - sum(per_stage.values())
        parse_cpu = run_cpu - sum(per_stage_cpu.values())
        print(f"\n2. Pipeline.run_many: {run_s:.1f}s ({run_cpu:.1f}), "
              f"{len(texts) / run_s:.2f} articles/s, {tokens / run_s:,.0f} tokens/s "
              f"({rejected} rejected; the stages' first pass):")  # fmt: skip
        print(f"   {'nlp.pipe (batched)':<24} {parse_s:7.2f}s ({parse_cpu:6.2f})  "
              f"{100 * parse_cpu / run_cpu:5.1f}% of CPU")  # fmt: skip
        for stage_name, sec in per_stage.items():
            cpu = per_stage_cpu[stage_name]
            share = 100 * cpu / run_cpu
            print(f"   {stage_name:<24} {sec:7.2f}s ({cpu:6.2f})  {share:5.1f}% of CPU")

        # 3. the store writer
        n_events = sum(len(e) for _, e in results)
        with Store(tmp / "write.duckdb", options=options) as store:
            t0 = time.perf_counter()
            store.add_many(results, pipeline_version=pipeline.version)
            batch_s = time.perf_counter() - t0
        with Store(tmp / "write1.duckdb", options=options) as store:
            t0 = time.perf_counter()
            for article, events in results:
                store.add(article, events, pipeline_version=pipeline.version)
            single_s = time.perf_counter() - t0
        print(f"\n3. store writer, {len(results)} articles / {n_events} events: add_many "
              f"{batch_s:.2f}s ({100 * batch_s / run_s:.1f}% of the pipeline time), add per "
              f"article {single_s:.2f}s ({100 * single_s / run_s:.1f}%)")  # fmt: skip

        # 4. cProfile of the whole ingest
        fresh = Pipeline(options, stages=chain)
        fresh.run(Article("Warm-up: rebels attacked the town of Idlib on Monday."))
        profiler = cProfile.Profile()
        with Store(tmp / "profiled.duckdb", options=options) as store:
            profiler.enable()
            store.ingest(list(articles), fresh)
            profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        print(f"\n4. cProfile of Store.ingest, top {args.top} by own time:")
        lines = out.getvalue().splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        for line in lines[start:]:
            if line.strip():
                print("   " + line.strip()[:150])


if __name__ == "__main__":
    main()
