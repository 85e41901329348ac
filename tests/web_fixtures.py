"""Small, exact stores for the web tests, written through the real store (eventwire.open).

``build_store(path, options)`` writes :data:`ARTICLES` with their events; the counts the tests
assert are derived from the same data, so one edit here keeps every test consistent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

import eventwire
from eventwire.config import Options
from eventwire.model import Article, Event

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

HOSTILE_TEXT = (
    "Protesters gathered in Homs. <script>window.__pwned = 1</script> "
    '<a href="javascript:window.__pwned=2">click</a> <img src=x onerror="window.__pwned=3"> '
    "'; DROP TABLE events; -- and 100% of _wildcards_ stayed inert."
)
#: The hostile page's event sentence: markup that must show as text, never run.
HOSTILE_SENTENCE = (
    '<script>window.__pwned = 1</script> <a href="javascript:window.__pwned=2">click</a>'
)


@dataclass(frozen=True)
class Spec:
    """One event to write: what the tests filter on."""

    event_type: str
    modality: str
    day: str | None
    place: tuple[str, float, float, str] | None  # name, lat, lon, country
    actor1: str | None
    actor2: str | None
    sentence: str
    confidence: float
    fatalities: int | None = None


#: article title -> (published day, events). Sentences are literal substrings of the text.
ARTICLES: dict[str, tuple[str, list[Spec]]] = {
    "Idlib offensive": ("2020-12-10", [
        Spec("ASSAULT", "ongoing", "2020-12-10", ("Barah", 35.68, 36.53, "SYR"),
             "Syria (military)", "rebels", "The Syrian army shelled Barah.", 0.9, 3),
        Spec("ASSAULT", "reported", "2020-12-09", ("Kafr Uwayd", 35.63, 36.55, "SYR"),
             "Syria (military)", None, "Artillery hit Kafr Uwayd overnight.", 0.8),
        Spec("MOBILIZE", "reported", "2020-12-10", ("Kafr Lusin", 36.22, 36.65, "SYR"),
             "Turkey (military)", None, "Turkey sent a 25-vehicle convoy via Kafr Lusin.", 0.7),
        Spec("THREATEN", "hypothetical", "2020-12-10", ("Ain Issa", 36.38, 38.86, "SYR"),
             "Turkey", "SDF", "Turkey may launch an offensive on Ain Issa.", 0.6),
    ]),
    "Moscow talks": ("2020-12-08", [
        Spec("CONSULT", "reported", "2020-12-07", None, "SDF", "Russia",
             "SDF commanders met General Chayko.", 0.75),
        Spec("AGREE", "reported", "2020-12-08", None, "Syria", "Iran",
             "Damascus and Tehran signed a military agreement.", 0.85),
    ]),
    "Beirut protest": ("2020-11-20", [
        Spec("PROTEST", "reported", "2020-11-20", ("Beirut", 33.89, 35.50, "LBN"),
             "protesters", "Lebanon", "Thousands protested in Beirut.", 0.95),
        Spec("PROTEST", "negated", "2020-11-21", ("Beirut", 33.89, 35.50, "LBN"),
             "protesters", None, "No protest took place in Beirut on Saturday.", 0.5),
        Spec("ACCUSE", "reported", None, None, "Lebanon", "Israel",
             "Lebanon accused Israel of violations.", 0.4),
    ]),
    "Hostile page": ("2020-12-01", [
        Spec("PROTEST", "reported", "2020-12-01", ("Homs", 34.73, 36.71, "SYR"),
             "protesters <b>bold</b>", None, HOSTILE_SENTENCE, 0.55),
    ]),
}


def article_text(title: str, specs: list[Spec]) -> str:
    """The article text: the hostile text for the hostile page, else the sentences joined."""
    if title == "Hostile page":
        return HOSTILE_TEXT
    return " ".join(s.sentence for s in specs)


def make_events(
    text: str, specs: list[Spec], published: datetime, url: str | None = None
) -> list[Event]:
    """Events whose offsets index ``text`` (sentence, trigger = first word, actors, place)."""
    events = []
    for spec in specs:
        start = text.index(spec.sentence)
        end = start + len(spec.sentence)
        first_word = spec.sentence.split()[0]
        ev = Event(spec.event_type, spec.sentence, start, end, modality=spec.modality)
        ev.trigger = first_word
        ev.trigger_start, ev.trigger_end = start, start + len(first_word)
        ev.actor1, ev.actor2 = spec.actor1, spec.actor2
        ev.url = url
        for role, actor in ((1, spec.actor1), (2, spec.actor2)):
            at = text.find(actor, start, end) if actor else -1
            setattr(ev, f"actor{role}_text", actor if at >= 0 else None)
            if at >= 0 and actor:
                setattr(ev, f"actor{role}_start", at)
                setattr(ev, f"actor{role}_end", at + len(actor))
        if spec.place is not None:
            name, lat, lon, country = spec.place
            ev.place, ev.latitude, ev.longitude, ev.country = name, lat, lon, country
            ev.place_text = name
            ev.geo_precision = "exact place"
            at = text.find(name, start, end)
            if at >= 0:
                ev.place_start, ev.place_end = at, at + len(name)
        ev.event_date = date.fromisoformat(spec.day) if spec.day else None
        ev.date_precision = "day" if spec.day else None
        ev.published = published
        ev.confidence = spec.confidence
        ev.fatalities = spec.fatalities
        ev.pipeline_version = "test"
        events.append(ev)
    return events


def build_store(path: Path, options: Options) -> Path:
    """Write :data:`ARTICLES` into a new store at ``path`` through ``eventwire.open``."""
    with eventwire.open(path, options=options) as store:
        for title, (day, specs) in ARTICLES.items():
            text = article_text(title, specs)
            published = datetime.fromisoformat(day).replace(tzinfo=UTC)
            url = f"https://news.example/{title.replace(' ', '-').lower()}"
            if title == "Hostile page":
                url = "javascript:window.__pwned=4"
            article = Article(
                text, title=title, url=url, source="news.example", published=published
            )
            events = make_events(text, specs, published, url)
            store.add(article, events, pipeline_version="test")
    return path


def all_specs() -> list[Spec]:
    """Every event spec, across articles."""
    return [s for _, specs in ARTICLES.values() for s in specs]


def visible(specs: list[Spec]) -> list[Spec]:
    """The events a filter without modality returns (hypothetical and negated left out)."""
    return [s for s in specs if s.modality not in ("hypothetical", "negated")]


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running ``eventwire serve`` process."""

    url: str
    process: subprocess.Popen[bytes] | None = None


@contextmanager
def running(
    cmd: list[str], port: int, host: str = "127.0.0.1", env: dict[str, str] | None = None
) -> Iterator[Served]:
    """Run a server command until the block ends; yields it once it listens."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EVENTWIRE_")}
    environ.update(env or {})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)
    shown = f"[{host}]" if ":" in host else host
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                _, err = proc.communicate()
                raise RuntimeError(f"server exited with {proc.returncode}: {err.decode()[-2000:]}")
            try:
                with socket.create_connection((host.strip("[]"), port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start listening within 30 s") from None
                time.sleep(0.1)
        yield Served(f"http://{shown}:{port}", proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def serve_process(
    db: Path, *extra: str, host: str = "127.0.0.1", env: dict[str, str] | None = None
) -> Iterator[Served]:
    """Run ``python -m eventwire.web serve`` on a free port until the block ends."""
    port = free_port()
    cmd = [sys.executable, "-m", "eventwire.web", "serve", "--db", str(db), "--host", host,
           "--port", str(port), *extra]  # fmt: skip
    with running(cmd, port, host, env) as served:
        yield served


def get_json(url: str, **kwargs: object) -> tuple[int, dict[str, object]]:
    """GET a URL and decode its JSON body."""
    response = httpx.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
    return response.status_code, response.json()


#: A second outlet's report of the Barah shelling (same sentence, day, place and actors): the
#: store's clustering merges it with the first into one event with two reports.
SECOND_REPORT = ARTICLES["Idlib offensive"][1][0]
SECOND_REPORT_TEXT = SECOND_REPORT.sentence + " Residents fled towards the north."


def add_second_report(path: Path, options: Options) -> None:
    """Add :data:`SECOND_REPORT` to the store at ``path`` as another outlet's article."""
    published = datetime(2020, 12, 10, 6, tzinfo=UTC)
    url = "https://other.example/barah"
    article = Article(
        SECOND_REPORT_TEXT, title="Barah shelled", url=url, source="other.example",
        published=published,
    )  # fmt: skip
    events = make_events(SECOND_REPORT_TEXT, [SECOND_REPORT], published, url)
    for event in events:
        event.source = "other.example"
    with eventwire.open(path, options=options) as store:
        store.add(article, events, pipeline_version="test")


def build_cluster_store(path: Path, options: Options) -> Path:
    """:func:`build_store` plus :data:`SECOND_REPORT`."""
    build_store(path, options)
    add_second_report(path, options)
    return path
