"""Dump or compare what the default pipeline makes of a bench corpus: every event (all
fields, evidence included), every toponym and actor mention, per article.

A speed change must not change output: dump before, change, dump after, compare.

    python bench/same_output.py dump --articles 150 --out /tmp/before.json
    python bench/same_output.py compare /tmp/before.json /tmp/after.json

``dump`` runs :meth:`Pipeline.run_many` (the batched path ingest uses) and, with
``--single``, also :meth:`Pipeline.run` per article and checks both agree. To compare code
versions while other files change in the tree, run each dump with ``PYTHONPATH`` pointing
at a frozen copy of the package source (see ``bench/snapshot.py``), and give both the same
private ``--gazetteer`` path: the default index is rebuilt whenever the code that builds it
changes, so a dump made with an older copy of the source would rebuild it (for every
other process using it too) and compare against other gazetteer data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _record(document: Any) -> dict[str, Any]:
    from eventwire.model import _jsonable

    return {
        "toponyms": [t.to_dict() for t in document.toponyms],
        "actors": [
            {k: getattr(m, k) for k in ("text", "start", "end", "name", "country", "kind")}
            for m in document.actors
        ],
        "events": [
            {k: _jsonable(v) for k, v in sorted(e.to_record().items()) if k != "published"}
            for e in document.events
        ],
    }


def dump(articles_n: int, out: Path, single: bool, gazetteer: Path | None = None) -> None:
    """Run the default chain over the corpus and write one record per article."""
    from corpus import iter_records

    import eventwire
    from eventwire.config import resolve_options
    from eventwire.model import Article, Document
    from eventwire.pipeline import Pipeline

    extra = {"gazetteer": gazetteer} if gazetteer else {}
    options = resolve_options(env={}, config_file=None, **extra)
    pipeline = Pipeline(options)
    documents: dict[str, Any] = {}
    original = pipeline._run_stages

    def keep(document: Document, stages: Any) -> None:  # record the finished documents
        original(document, stages)
        documents[document.article.article_id] = document

    pipeline._run_stages = keep  # type: ignore[method-assign]
    articles = [
        Article(r["text"], title=r["title"], url=r["url"], source=r["source"],
                published=eventwire.dates.parse_published(r["published"]))
        for r in iter_records(articles_n)
    ]  # fmt: skip
    t0 = time.perf_counter()
    result: dict[str, Any] = {}
    for article, events in pipeline.run_many(articles):
        if isinstance(events, list):
            result[article.article_id] = _record(documents[article.article_id])
        else:
            result[article.article_id] = {"rejected": f"{events}"}
    took = time.perf_counter() - t0
    if single:
        for article in articles:
            documents.clear()
            try:
                pipeline.run(article)
                one = _record(documents[article.article_id])
            except eventwire.errors.StageError as exc:
                one = {"rejected": f"{exc}"}
            if one != result[article.article_id]:
                raise SystemExit(f"run and run_many differ on {article.url}")
    out.write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")
    n_events = sum(len(r.get("events", ())) for r in result.values())
    n_top = sum(len(r.get("toponyms", ())) for r in result.values())
    print(f"{len(result)} articles, {n_events} events, {n_top} toponyms in {took:.1f}s "
          f"-> {out} (eventwire from {Path(eventwire.__file__).parent})")  # fmt: skip


def compare(a: Path, b: Path) -> int:
    """Print the articles whose records differ; the exit status is their number (capped)."""
    left = json.loads(a.read_text(encoding="utf-8"))
    right = json.loads(b.read_text(encoding="utf-8"))
    differ = sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))
    for key in differ[:10]:
        one, two = left.get(key) or {}, right.get(key) or {}
        for part in ("rejected", "toponyms", "actors", "events"):
            if one.get(part) != two.get(part):
                print(f"{key}: {part} differ")
    print(f"{len(left)} vs {len(right)} articles; {len(differ)} differ")
    return min(len(differ), 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--articles", type=int, default=150)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--single", action="store_true", help="also check run() against run_many()")
    d.add_argument("--gazetteer", type=Path, default=None,
                   help="gazetteer index to use (built there if missing) instead of the "
                   "default one, which other code versions may rebuild meanwhile")  # fmt: skip
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.articles, args.out, args.single, args.gazetteer)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
