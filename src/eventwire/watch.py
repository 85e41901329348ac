"""Continuous monitoring: poll RSS/Atom feeds and URL lists, ingest only what is new.

:class:`Watcher` keeps the state of a monitoring run: for every source, when it is next due
and how many times in a row it failed. One :meth:`Watcher.poll` is one cycle:

1. every source that is due is read (an ``http(s)`` URL is fetched, a path is read from
   disk) and parsed as an RSS/Atom feed or a URL list (one URL per line, ``#`` comments);
2. links already stored (``Store.has_url``) or already handled in this run are skipped
   before anything is fetched, so an unchanged feed costs one request;
3. new entries become articles (the entry's own text when it holds a full article, the
   page at its link otherwise) and go through :meth:`Store.ingest`, which skips articles
   whose *content* is already stored and records every failure as a rejection;
4. a source that times out, answers an error or serves something that is neither a feed
   nor a URL list is recorded as a rejection (stage ``watch``) and retried with exponential
   backoff: after ``k`` failures in a row it sits out ``2**k - 1`` cycles (so it waits
   ``every * 2**k``, at most :data:`MAX_BACKOFF_FACTOR` intervals); a success resets it.

Given a way to open the store rather than an open store (what ``eventwire watch`` does), the
watcher opens it for each cycle and closes it in between, so ``eventwire serve``, ``ingest``
and other readers and writers can use the store while the watcher sleeps. When another
process holds the store at cycle time, the cycle says so and its new links are tried again
in the next cycle.

:meth:`Watcher.run` repeats cycles every ``every`` seconds and hands one
:class:`CycleReport` per cycle to a callback; the ``eventwire watch`` command prints each as
one line.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import click

from .config import Options, resolve_options
from .errors import InputError, OptionsError, StoreError
from .model import Article, Rejection

if TYPE_CHECKING:
    from .fetch import Fetcher
    from .pipeline import Pipeline
    from .store import Store

__all__ = ["MAX_BACKOFF_FACTOR", "CycleReport", "Watcher", "parse_interval", "watch"]

#: A failing source waits at most this many intervals between attempts.
MAX_BACKOFF_FACTOR = 64
#: An article page whose fetch failed is tried again in this many later cycles at most.
MAX_LINK_ATTEMPTS = 3

_URL = re.compile(r"^https?://", re.IGNORECASE)
_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)


def parse_interval(text: str) -> float:
    """Seconds in an interval such as ``15m``, ``1h30m``, ``90s``, ``2h`` or ``45``.

    Raises:
        OptionsError: The text is not an interval.
    """
    value = text.strip()
    parts = list(_INTERVAL.finditer(value))
    if not value or not parts or "".join(p.group(0) for p in parts) != value.replace(" ", ""):
        raise OptionsError(f"--every {text!r}: expected an interval such as 15m, 1h30m, 90s or 2h")
    return sum(float(p.group(1)) * _UNITS[p.group(2).lower()] for p in parts)


@dataclass
class CycleReport:
    """What one polling cycle did.

    Attributes:
        cycle: Cycle number, from 1.
        polled: Sources read this cycle.
        failed: Sources that failed this cycle (recorded as rejections).
        waiting: Sources skipped because they are backing off after failures.
        links: Links found in the sources read.
        new: Links not seen before, turned into articles or rejections.
        stored: Articles stored.
        events: Events stored with them.
        duplicates: New links whose article text was already stored.
        rejected: Articles and sources rejected (fetch, read or stage failures).
        seconds: Duration of the cycle.
        failures: Source -> reason, for the sources that failed.
        busy: Why the store could not be opened this cycle (another process holds it);
            the new links wait for the next cycle.
    """

    cycle: int
    polled: int = 0
    failed: int = 0
    waiting: int = 0
    links: int = 0
    new: int = 0
    stored: int = 0
    events: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)
    busy: str | None = None

    def line(self) -> str:
        """The cycle as one log line."""
        text = (
            f"cycle {self.cycle}: polled {self.polled} source(s), {self.failed} failed, "
            f"{self.waiting} backing off; {self.links} links, {self.new} new; "
            f"stored {self.stored} articles ({self.events} events), "
            f"{self.duplicates} duplicate, {self.rejected} rejected in {self.seconds:.1f}s"
        )
        if self.busy:
            text += f" | store busy, new links kept for the next cycle: {self.busy}"
        if self.failures:
            text += " | " + "; ".join(f"{s}: {r}" for s, r in self.failures.items())
        return text


@dataclass
class _SourceState:
    failures: int = 0
    next_cycle: int = 0


@dataclass
class _Entry:
    link: str | None
    title: str | None
    text: str
    published: Any
    source: str | None
    locator: str


class Watcher:
    """Polls feeds and URL lists and ingests new articles into a store.

    Args:
        sources: Feed URLs, URL-list URLs, or paths of feed / ``.urls`` files.
        store: The open store articles go to, or a function that opens it: then it is
            opened for each cycle and closed in between.
        pipeline: The stage chain run over new articles.
        options: Resolved options (fetch limits, User-Agent).
        every: Seconds between cycles; also the unit of the backoff.
        fetcher: Fetcher to use; one is made from ``options`` (and closed by
            :meth:`close`) when None.
        clock: Monotonic clock, in seconds.

    Raises:
        OptionsError: No sources, or a negative interval.
    """

    def __init__(
        self,
        sources: Sequence[str],
        store: Store | Callable[[], Store],
        pipeline: Pipeline,
        *,
        options: Options,
        every: float,
        fetcher: Fetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not sources:
            raise OptionsError("give at least one feed or URL list to watch")
        if every < 0:
            raise OptionsError(f"the interval must not be negative, not {every}")
        from .fetch import Fetcher

        self.sources = list(dict.fromkeys(str(s).strip() for s in sources))
        self.store = store
        self.pipeline = pipeline
        self.options = options
        self.every = every
        self.clock = clock
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher or Fetcher(options)
        self.state = {s: _SourceState() for s in self.sources}
        self.cycles = 0
        self._handled: set[str] = set()
        self._attempts: dict[str, int] = {}

    def close(self) -> None:
        """Close the fetcher if this watcher made it."""
        if self._own_fetcher:
            self.fetcher.close()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one cycle ----------------------------------------------------------------------

    def poll(self) -> CycleReport:
        """Run one cycle: read the sources that are due and ingest their new articles.

        Raises:
            StoreError: The store cannot be written (every other failure is recorded; a
                store held by another process is reported in the cycle's ``busy``).
        """
        self.cycles += 1
        report = CycleReport(self.cycles)
        started = self.clock()
        try:
            with self._open_store() as store:
                self._cycle(store, report)
        except StoreError as exc:
            if "in use by another process" not in str(exc):
                raise
            report.busy = str(exc)
        report.seconds = self.clock() - started
        return report

    @contextmanager
    def _open_store(self) -> Iterator[Store]:
        from .store import Store

        if isinstance(self.store, Store):
            yield self.store
            return
        with self.store() as store:
            yield store

    def _cycle(self, store: Store, report: CycleReport) -> None:
        items: list[Article | Rejection] = []
        handled: list[str] = []  # marked handled only once their articles are stored
        for source in self.sources:
            state = self.state[source]
            if self.cycles < state.next_cycle:
                report.waiting += 1
                continue
            report.polled += 1
            try:
                entries = self._read_source(source)
            except InputError as exc:
                state.failures += 1
                state.next_cycle = self.cycles + min(2**state.failures, MAX_BACKOFF_FACTOR)
                report.failed += 1
                report.failures[source] = exc.reason
                items.append(Rejection(source, "watch", exc.reason, url=_url_or_none(source)))
                continue
            state.failures, state.next_cycle = 0, 0
            report.links += len(entries)
            for entry in entries:
                key = entry.link or entry.locator
                if key in self._handled or (entry.link and store.has_url(entry.link)):
                    self._handled.add(key)
                    continue
                report.new += 1
                item = self._article(entry)
                if isinstance(item, Rejection) and item.stage == "fetch":
                    tries = self._attempts[key] = self._attempts.get(key, 0) + 1
                    if tries >= MAX_LINK_ATTEMPTS:
                        handled.append(key)
                else:
                    handled.append(key)
                items.append(item)
        ingest = store.ingest(items, self.pipeline)
        self._handled.update(handled)
        report.stored = ingest.stored
        report.events = ingest.events
        report.duplicates = ingest.duplicates
        report.rejected = ingest.rejected

    def run(
        self,
        *,
        cycles: int | None = None,
        on_cycle: Callable[[CycleReport], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> list[CycleReport]:
        """Poll every ``every`` seconds, ``cycles`` times (forever when None).

        Returns:
            The report of every cycle run.
        """
        reports: list[CycleReport] = []
        while cycles is None or len(reports) < cycles:
            started = self.clock()
            report = self.poll()
            reports.append(report)
            if on_cycle is not None:
                on_cycle(report)
            if cycles is not None and len(reports) >= cycles:
                break
            sleep(max(0.0, started + self.every - self.clock()))
        return reports

    # -- reading --------------------------------------------------------------------------

    def _read_source(self, source: str) -> list[_Entry]:
        """Entries of one feed or URL list. Raises InputError when it cannot be read."""
        if _URL.match(source):
            result = self.fetcher.get(source)  # FetchError is an InputError
            data, base, media = result.content, result.final_url, result.content_type
        else:
            from .sources import read_file_bytes

            # A local feed is held to the cap of a fetched one.
            path = Path(source).expanduser()
            data = read_file_bytes(path, path.name.lower().endswith(".gz"),
                                   self.options.fetch_max_bytes)  # fmt: skip
            base, media = None, ""
        if not data.strip():
            raise InputError(source, "empty response: expected an RSS/Atom feed or a URL list")
        head = data[:2048]
        if _FEED_ROOT.search(head) or media.endswith(("rss+xml", "atom+xml", "rdf+xml")):
            return _feed_entries(data, source, base)
        urls = _url_list(data, source, base)
        if urls is None:
            raise InputError(
                source,
                f"neither an RSS/Atom feed nor a URL list (content type {media or 'unknown'!r}, "
                f"starts with {bytes(head[:40])!r})",
            )
        return urls

    def _article(self, entry: _Entry) -> Article | Rejection:
        """The entry as an article: its own text when complete, the linked page otherwise."""
        from .htmltext import article_from_text
        from .sources import FULL_CONTENT_CHARS, iter_articles

        if len(entry.text) >= FULL_CONTENT_CHARS or not entry.link:
            if len(entry.text) < FULL_CONTENT_CHARS:
                return Rejection(
                    entry.locator, "read",
                    f"feed entry holds only {len(entry.text)} characters of text and no link",
                )  # fmt: skip
            return article_from_text(
                entry.text, url=entry.link, published=entry.published, title=entry.title,
                source=entry.source, locator=entry.locator,
            )  # fmt: skip
        found = list(iter_articles([entry.link], options=self.options, fetcher=self.fetcher))
        first = found[0] if found else Rejection(entry.link, "read", "no article at this link")
        if isinstance(first, Article):
            first.title = entry.title or first.title
            first.published = entry.published or first.published
            first.source = entry.source or first.source
            first.url = entry.link
        return first


def _url_or_none(source: str) -> str | None:
    return source if _URL.match(source) else None


def _feed_entries(data: bytes, source: str, base: str | None) -> list[_Entry]:
    import feedparser

    from .htmltext import fragment_to_text
    from .sources import parse_date

    parsed = feedparser.parse(io.BytesIO(data))
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception") or "no <rss>, <feed> or <rdf:RDF> element"
        raise InputError(source, f"malformed feed, no entries could be read ({problem})")
    title = (parsed.get("feed") or {}).get("title") or None
    out = []
    for index, entry in enumerate(entries, 1):
        link = entry.get("link") or None
        if link and base:
            link = urljoin(base, link)
        texts = [c.get("value") or "" for c in entry.get("content") or []]
        texts.append(entry.get("summary") or "")
        published = None
        for key in ("published", "updated", "created"):
            if entry.get(key):
                try:
                    published = parse_date(entry.get(key), f"{source}#{index}")
                except InputError:
                    published = None
                if published is not None:
                    break
        out.append(
            _Entry(
                link=link if link and _URL.match(link) else None,
                title=entry.get("title") or None,
                text=max((fragment_to_text(t) for t in texts), key=len, default=""),
                published=published,
                source=title,
                locator=f"{source}#{index}",
            )
        )
    return out


def _url_list(data: bytes, source: str, base: str | None) -> list[_Entry] | None:
    """Entries of a URL list, or None when the data is not one."""
    from .htmltext import decode_bytes

    try:
        text = decode_bytes(data, source)
    except InputError:
        return None
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        url = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not url:
            continue
        if not _URL.match(url):
            return None  # one line that is not a URL: this is not a URL list
        out.append(_Entry(url, None, "", None, None, f"{source}:{lineno}"))
    return out or None


# ---------------------------------------------------------------------------- command


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="FEED_OR_LIST...")
@click.option("--every", default="15m", show_default=True,
              help="Time between polls: 90s, 15m, 1h30m, 2h.")  # fmt: skip
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB store (default ./eventwire.duckdb).")  # fmt: skip
@click.option("--cycles", type=click.IntRange(min=1), default=None,
              help="Stop after N polls (default: until interrupted).")  # fmt: skip
@click.pass_context
def watch(
    ctx: click.Context, sources: tuple[str, ...], every: str, db: Path | None, cycles: int | None
) -> None:
    """Poll RSS/Atom feeds and URL lists, storing only new articles; one line per poll.

    A source that times out or serves garbage is recorded as a rejection and retried with
    exponential backoff; the others go on.
    """
    from .api import open as open_store
    from .api import pipeline_for

    root_options = getattr(ctx.obj, "options", None)
    options: Options = root_options if root_options is not None else resolve_options()
    if db is not None:
        options = replace(options, db=db)
    seconds = parse_interval(every)
    pipeline = pipeline_for(options)
    # Opened once now, so a bad --db fails at once, then once per cycle.
    open_store(options.db, options=options).close()
    with Watcher(
        sources, lambda: open_store(options.db, options=options), pipeline,
        options=options, every=seconds,
    ) as watcher:  # fmt: skip
        watcher.run(cycles=cycles, on_cycle=lambda r: click.echo(r.line()))
