"""End-to-end ingest throughput against spaCy NER alone, on the same texts, in one run.

Prints articles/s and tokens/s for (a) spaCy's small English model running NER only
(tok2vec + ner, nlp.pipe) and (b) ``Store.ingest`` with the default pipeline into a fresh
DuckDB file, and the ratio (b)/(a). The issue's target is a ratio >= 0.6.

    python bench/throughput.py [--articles 150]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import iter_records  # noqa: E402

import eventwire  # noqa: E402
from eventwire.config import resolve_options  # noqa: E402
from eventwire.model import Article  # noqa: E402
from eventwire.nlp import find_model, load  # noqa: E402
from eventwire.pipeline import Pipeline  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=150)
    args = parser.parse_args()

    records = list(iter_records(args.articles))
    texts = [r["text"] for r in records]
    print(f"corpus: {len(texts)} articles, {sum(map(len, texts)):,} characters; "
          f"model {find_model()}")

    with tempfile.TemporaryDirectory() as tmp:
        options = resolve_options(db=Path(tmp) / "bench.duckdb")
        pipeline = Pipeline(options)
        pipeline.context.gazetteer  # noqa: B018  build/open outside the timing
        pipeline.context.aliases  # noqa: B018
        ner = load(frozenset({"ner"}), options.model)
        # warm up both so model loading is not timed
        list(ner.pipe(texts[:4]))
        pipeline.run(Article(texts[0]))

        t0 = time.perf_counter()
        tokens = sum(len(doc) for doc in ner.pipe(texts, batch_size=options.batch_size))
        ner_s = time.perf_counter() - t0

        articles = [
            Article(r["text"], title=r["title"], url=r["url"], source=r["source"],
                    published=eventwire.dates.parse_published(r["published"]))
            for r in records
        ]
        with eventwire.open(options.db, options=options) as store:
            t0 = time.perf_counter()
            report = store.ingest(articles, pipeline)
            ingest_s = time.perf_counter() - t0

    print(f"spaCy NER alone : {len(texts) / ner_s:8.2f} articles/s {tokens / ner_s:10.0f} tokens/s")
    print(f"eventwire ingest: {len(texts) / ingest_s:8.2f} articles/s "
          f"{tokens / ingest_s:10.0f} tokens/s  ({report.stored} stored, {report.events} events, "
          f"{report.rejected} rejected)")
    print(f"ratio ingest/NER: {ner_s / ingest_s:.2f}  (target >= 0.6)")


if __name__ == "__main__":
    main()
