"""Event coding cost against spaCy NER alone, on the same texts, in one run.

Times (a) spaCy's small English model with NER only (tok2vec + ner, ``nlp.pipe``),
(b) the full parse the coder needs (tagger, parser, lemmatizer, NER) and (c) the event-coding
stages (actors.aliases.v1, events.lexicon.v1, dates.relative.v1) over the parsed documents.
The issue's target: event coding adds at most 50% to the time of NER, i.e. c / a <= 0.5.

    python bench/coding.py [--articles 150]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

# bench/ holds scripts named like stdlib modules (profile.py): keep it off sys.path and load
# the corpus helper by path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("bench_corpus", HERE / "corpus.py")
assert _spec is not None and _spec.loader is not None
_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_corpus)
base_texts = _corpus.base_texts

from eventwire.config import resolve_options  # noqa: E402
from eventwire.dates import parse_published  # noqa: E402
from eventwire.model import Article, Document  # noqa: E402
from eventwire.nlp import find_model, load  # noqa: E402
from eventwire.pipeline import Pipeline  # noqa: E402

STAGES = ("parse.spacy.v1", "actors.aliases.v1", "events.lexicon.v1", "dates.relative.v1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=150)
    args = parser.parse_args()
    texts = (base_texts() * (args.articles // 100 + 1))[: args.articles]
    options = resolve_options(env={}, config_file=None)
    pipeline = Pipeline(options, stages=STAGES)
    nlp = pipeline.context.nlp
    ner = load(frozenset({"ner"}), options.model)
    pipeline.context.aliases  # noqa: B018  load outside the timing
    list(ner.pipe(texts[:4]))
    pipeline.run(Article(texts[0]))
    print(f"corpus: {len(texts)} articles, {sum(map(len, texts)):,} characters; "
          f"model {find_model(options.model)}")  # fmt: skip

    t0 = time.perf_counter()
    tokens = sum(len(doc) for doc in ner.pipe(texts, batch_size=options.batch_size))
    ner_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=options.batch_size))
    parse_s = time.perf_counter() - t0

    published = parse_published("2020-12-10")
    coding = [st for st in pipeline.chain if st.name != "parse.spacy.v1"]
    events = 0
    t0 = time.perf_counter()
    for text, doc in zip(texts, docs, strict=True):
        document = Document(Article(text, published=published), doc=doc)
        for st in coding:
            st.fn(document, pipeline.context)
        events += len(document.events)
    coding_s = time.perf_counter() - t0

    print(f"spaCy NER alone     : {ner_s:7.2f} s  {tokens / ner_s:9.0f} tokens/s")
    print(f"full parse          : {parse_s:7.2f} s  {tokens / parse_s:9.0f} tokens/s")
    print(f"event coding stages : {coding_s:7.2f} s  {tokens / coding_s:9.0f} tokens/s  "
          f"({events} events)")  # fmt: skip
    print(f"coding / NER        : {coding_s / ner_s:.2f}  (target <= 0.50)")
    extra = (parse_s + coding_s - ner_s) / ner_s
    print(f"(parse + coding - NER) / NER: {extra:.2f}  (what the parser adds counted too)")


if __name__ == "__main__":
    main()
