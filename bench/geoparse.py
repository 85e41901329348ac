"""Geoparsing cost against spaCy NER, and the gazetteer's build, open, lookup and memory.

    python bench/geoparse.py [--articles 200] [--gazetteer PATH] [--build]

Texts are the GeoWebNews articles from ``../shared/data/geowebnews/GWN.xml``. Prints, from
one run:

* the default index build time (``--build``: into a temporary folder) and its size,
* the time to open the index and the resident memory it adds once warm,
* the mean time of an exact and of a phonetic lookup,
* spaCy NER time (``tok2vec`` + ``ner`` only) and ``find_toponyms`` time on the same texts,
  and their ratio (target: geoparsing adds at most 25 % to NER).

Not run by the tests.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from eventwire.evaluate.geo import load_geowebnews  # noqa: E402
from eventwire.gazetteer import Gazetteer, normalise_name, phonetic_key  # noqa: E402
from eventwire.geoparsing import find_toponyms  # noqa: E402
from eventwire.nlp import load  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--gazetteer", type=Path, default=None,
                        help="an existing index (default: build one in a temporary folder)")
    parser.add_argument("--build", action="store_true", help="time the default build")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="eventwire-geo-"))
    path = args.gazetteer or tmp / "gazetteer.sqlite"
    if args.build or not path.exists():
        start = time.perf_counter()
        Gazetteer.open(path).close()
        print(f"build default index: {time.perf_counter() - start:.1f} s, "
              f"{path.stat().st_size / 1e6:.0f} MB on disk")

    texts = [d.text for d in load_geowebnews()[: args.articles]]
    ner = load(frozenset({"ner"}))
    full = load(frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer", "ner"}))
    # Load the models first so their memory is not counted as the gazetteer's.
    list(full.pipe(texts[:2]))
    list(ner.pipe(texts[:2]))

    before = _rss_mb()
    start = time.perf_counter()
    gaz = Gazetteer.open(path)
    opened = time.perf_counter() - start
    names = [n for n in (line.split("\t")[1] for line in _sample_names(gaz, 2000))]
    for name in names:
        gaz.candidates(name)
    print(f"open index: {opened * 1000:.1f} ms; memory added once warm: "
          f"{_rss_mb() - before:.0f} MB")

    random.seed(7)
    exact = [normalise_name(n) for n in random.sample(names, 500)]
    start = time.perf_counter()
    for key in exact:
        gaz._lookup("norm", key + "q", None, 20)  # uncached: the key is new
    per_exact = (time.perf_counter() - start) / len(exact)
    phon = [phonetic_key(n) + "q" for n in random.sample(names, 500)]
    start = time.perf_counter()
    for key in phon:
        gaz._lookup("phon", key, None, 20)
    per_phon = (time.perf_counter() - start) / len(phon)
    print(f"lookup (index, uncached): exact {per_exact * 1e6:.0f} us, "
          f"phonetic {per_phon * 1e6:.0f} us")

    start = time.perf_counter()
    tokens = sum(len(doc) for doc in ner.pipe(texts))
    ner_time = time.perf_counter() - start
    docs = list(full.pipe(texts))
    gaz._cache.clear()
    start = time.perf_counter()
    found = sum(len(find_toponyms(doc, gaz)) for doc in docs)
    geo_time = time.perf_counter() - start
    print(f"{len(texts)} articles, {tokens:,} tokens: NER {ner_time:.2f} s "
          f"({tokens / ner_time:,.0f} tokens/s); find_toponyms {geo_time:.2f} s "
          f"({found:,} toponyms)")
    print(f"geoparsing / NER time: {geo_time / ner_time:.2f} (target <= 0.25)")


def _sample_names(gaz: Gazetteer, n: int) -> list[str]:
    rows = gaz._db.execute(
        "SELECT id, name FROM places WHERE id % 97 = 0 LIMIT ?", (n,)
    ).fetchall()
    return [f"{pid}\t{name}" for pid, name in rows]


if __name__ == "__main__":
    main()
