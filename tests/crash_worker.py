"""Fast test stages and a worker process for the store and crash tests.

The stages are registered through the public ``@stage`` mechanism, like any plugin:

- ``test.fail-on-marker.v1`` fails on texts containing ``FAIL`` (a rejection);
- ``test.sentence-events.v1`` makes one ASSAULT event per sentence with the word "attack".

Run as a worker (from the repository root)::

    python -m tests.crash_worker ingest DB N [--sleep SECONDS]   # prints "stored K" per article
    python -m tests.crash_worker hold DB                         # holds DB until stdin closes
"""

from __future__ import annotations

import random
import re
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from eventwire.config import Options, resolve_options
from eventwire.errors import EventwireError
from eventwire.model import Article, Document, Event
from eventwire.pipeline import Context, Pipeline, stage

TEST_STAGES = ("test.fail-on-marker.v1", "test.sentence-events.v1")

#: Seconds each article takes in ``test.sentence-events.v1`` (the worker sets it).
SLEEP = 0.0
#: Articles that reached ``test.sentence-events.v1`` in this process, by article_id.
SEEN: list[str] = []

_SENTENCE = re.compile(r"[^.!?]+[.!?]?")
_ATTACK = re.compile(r"\battack", re.IGNORECASE)


def attack_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence of ``text`` that mentions an attack."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start = match.start() + len(match.group()) - len(match.group().lstrip())
        end = match.end()
        if _ATTACK.search(match.group()):
            spans.append((start, end))
    return spans


@stage("test.fail-on-marker.v1", needs=("text",))
def fail_on_marker(document: Document, context: Context) -> None:
    """Fail, like a buggy stage would, on texts containing FAIL."""
    if "FAIL" in document.text:
        raise ValueError("text contains the FAIL marker")


@stage("test.sentence-events.v1", needs=("text",), adds=("events",))
def sentence_events(document: Document, context: Context) -> None:
    """One ASSAULT event per sentence mentioning an attack, dated on publication."""
    SEEN.append(document.article.article_id)
    if SLEEP:
        time.sleep(SLEEP)
    article = document.article
    for start, end in attack_sentences(article.text):
        document.events.append(
            Event(
                event_type="ASSAULT",
                sentence=article.text[start:end],
                start=start,
                end=end,
                url=article.url,
                published=article.published,
                event_date=article.published.date() if article.published else None,
                country="SYR",
                actor1="Rebels",
                confidence=0.5,
            )
        )


def make_articles(n: int, *, seed: int = 7) -> list[Article]:
    """``n`` distinct articles with 0 to 5 attack sentences each, the same for the same seed."""
    rng = random.Random(seed)
    base = datetime(2020, 12, 1, 8, tzinfo=UTC)
    articles = []
    for i in range(n):
        sentences = [f"Report number {i} from the front."]
        for j in range(rng.randint(0, 5)):
            sentences.append(f"Rebels attack position {j} near village {rng.randint(1, 999)}.")
            sentences.append("Residents said the night was calm.")
        articles.append(
            Article(
                text=" ".join(sentences),
                title=f"Report {i}",
                url=f"https://example.org/report/{i}",
                source="example",
                published=base + timedelta(days=i % 30),
                locator=f"generated:{i}",
            )
        )
    return articles


def worker_options(db: str, **changes: object) -> Options:
    """Options for a test store: no user config, small batches."""
    return replace(resolve_options(env={}, config_file=None, db=db, batch_size=4), **changes)


def worker_pipeline(options: Options) -> Pipeline:
    """The fast test chain."""
    return Pipeline(options, stages=TEST_STAGES)


def main(argv: list[str]) -> int:
    """Worker entry point; see the module docstring."""
    global SLEEP
    from eventwire.store import Store

    mode, db = argv[0], argv[1]
    options = worker_options(db)
    try:
        if mode == "hold":
            with Store(db, options=options):
                print("ready", flush=True)
                sys.stdin.read()
            return 0
        n = int(argv[2])
        if "--sleep" in argv:
            SLEEP = float(argv[argv.index("--sleep") + 1])
        articles = make_articles(n)
        with Store(db, options=options) as store:
            print("ready", flush=True)
            report = store.ingest(
                articles,
                worker_pipeline(options),
                progress=lambda r: print(f"stored {r.stored}", flush=True),
            )
        print(f"done stored={report.stored} duplicates={report.duplicates}", flush=True)
        return 0
    except EventwireError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
