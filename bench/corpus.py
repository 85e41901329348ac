"""Build benchmark corpora of any size from the public texts in ../shared/data/.

Sources: the article bodies of the article-extraction benchmark and the GeoWebNews articles.
Copies beyond the first are made unique (paragraphs rotated, a copy number added) so the
store's content hash does not treat them as duplicates, while token counts stay realistic.

    python bench/corpus.py --articles 10000 --out /tmp/corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

DATA = Path(
    os.environ.get("EVENTWIRE_SHARED") or Path(__file__).resolve().parents[2] / "shared"
) / "data"


def base_texts(data: Path = DATA) -> list[str]:
    """Real article texts available in the shared data folder."""
    texts: list[str] = []
    truth = data / "article-extraction-benchmark" / "ground-truth.json"
    if truth.exists():
        for record in json.loads(truth.read_text(encoding="utf-8")).values():
            body = (record.get("articleBody") or "").strip()
            if len(body) > 400:
                texts.append(body)
    gwn = data / "geowebnews" / "GWN.xml"
    if gwn.exists():
        for article in ET.parse(gwn).getroot().iter("article"):
            node = article.find("text")
            if node is not None and node.text and len(node.text) > 400:
                texts.append(node.text.strip())
    if not texts:
        raise SystemExit(f"no texts found under {data}; is ../shared/data present?")
    return texts


def iter_records(n: int, data: Path = DATA) -> Iterator[dict[str, str]]:
    """``n`` unique article records (url, title, text, published, source)."""
    texts = base_texts(data)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(n):
        base = texts[i % len(texts)]
        copy = i // len(texts)
        if copy:
            paragraphs = [p for p in base.split("\n") if p.strip()]
            k = copy % len(paragraphs)
            base = "\n\n".join(paragraphs[k:] + paragraphs[:k]) + f"\n\n(Copy {copy}.)"
        yield {
            "url": f"https://bench.example/{i}",
            "title": base.split("\n", 1)[0][:80],
            "text": base,
            "published": (start + timedelta(hours=i)).isoformat(),
            "source": "bench",
        }


def write_corpus(n: int, out: Path, data: Path = DATA) -> Path:
    """Write ``n`` records as JSONL to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for record in iter_records(n, data):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_corpus(args.articles, args.out)
    print(f"wrote {args.articles} articles to {args.out}")


if __name__ == "__main__":
    main()
