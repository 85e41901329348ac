"""``eventwire watch``: polling feeds and URL lists served by a real local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from eventwire.config import Options
from eventwire.errors import OptionsError
from eventwire.pipeline import Pipeline
from eventwire.store import Store
from eventwire.watch import Watcher, parse_interval, watch

from .http_server import LocalServer, Response

STORY = (
    "{place} ({outlet}) - Security forces reported an exchange of fire near the market of "
    "{place} on Tuesday morning. Residents said the shooting lasted about an hour before the "
    "area was sealed off. Officials gave no figure for casualties. Story number {n}."
)


def page(n: int, place: str = "Kidal", outlet: str = "Wire") -> Response:
    """A plain-text article page."""
    body = STORY.format(place=place, outlet=outlet, n=n).encode()
    return Response(body=body, content_type="text/plain; charset=utf-8")


def rss(server: LocalServer, *items: tuple[str, str], full: str | None = None) -> Response:
    """An RSS 2.0 feed whose items link to pages of ``server``; ``full`` adds an item that
    carries a whole article in its description and links to a page that must not be fetched."""
    entries = "".join(
        f"<item><title>{title}</title><link>{server.url(path)}</link>"
        f"<description>Short teaser.</description>"
        f"<pubDate>Tue, 05 May 2020 08:00:00 +0000</pubDate></item>"
        for path, title in items
    )
    if full is not None:
        entries += (
            f"<item><title>Full</title><link>{server.url('/never')}</link>"
            f"<description>{full}</description></item>"
        )
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Test Wire</title>'
        f"<link>{server.url('/')}</link><description>d</description>{entries}</channel></rss>"
    )
    return Response(body=body.encode(), content_type="application/rss+xml")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def store(options: Options) -> Iterator[Store]:
    with Store(options.db, options=options) as opened:
        yield opened


@pytest.fixture
def bare(options: Options) -> Pipeline:
    """A real pipeline with no stages: articles are stored without events (no NLP needed)."""
    return Pipeline(options, stages=())


def watcher(sources: list[str], store: Store, pipeline: Pipeline, options: Options) -> Watcher:
    return Watcher(sources, store, pipeline, options=options, every=0)


def urls(store: Store) -> set[str]:
    return {row[0] for row in store.conn.execute("SELECT url FROM articles").fetchall()}


# ---------------------------------------------------------------------------- feeds


def test_only_new_articles_are_fetched_and_stored(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    for n in (1, 2, 3):
        server.route(f"/a{n}", page(n))
    server.sequence(
        "/feed",
        [rss(server, ("/a1", "one"), ("/a2", "two")),
         rss(server, ("/a1", "one"), ("/a2", "two"), ("/a3", "three"))],
    )  # fmt: skip
    with watcher([server.url("/feed")], store, bare, options) as w:
        first, second, third = w.poll(), w.poll(), w.poll()
    assert (first.stored, first.new, first.links) == (2, 2, 2)
    assert (second.stored, second.new, second.links) == (1, 1, 3)
    assert (third.stored, third.new, third.links) == (0, 0, 3)
    assert urls(store) == {server.url(f"/a{n}") for n in (1, 2, 3)}
    # Each page was fetched once; the unchanged feed costs one request per cycle.
    assert [len(server.requests_to(f"/a{n}")) for n in (1, 2, 3)] == [1, 1, 1]
    assert len(server.requests_to("/feed")) == 3
    assert "cycle 2: polled 1 source(s), 0 failed" in second.line()
    assert "stored 1 articles (0 events)" in second.line()


def test_known_urls_are_not_fetched_again_by_a_new_run(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    server.route("/a1", page(1))
    server.route("/feed", rss(server, ("/a1", "one")))
    with watcher([server.url("/feed")], store, bare, options) as w:
        assert w.poll().stored == 1
    with watcher([server.url("/feed")], store, bare, options) as w:  # a restart
        again = w.poll()
    assert (again.new, again.stored) == (0, 0)
    assert len(server.requests_to("/a1")) == 1


def test_the_same_text_at_a_new_url_is_a_duplicate(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    server.route("/a1", page(1))
    server.route("/copy", page(1))  # syndicated: same text, another URL
    server.sequence(
        "/feed", [rss(server, ("/a1", "one")), rss(server, ("/a1", "one"), ("/copy", "again"))]
    )
    with watcher([server.url("/feed")], store, bare, options) as w:
        w.poll()
        second = w.poll()
    assert (second.new, second.stored, second.duplicates) == (1, 0, 1)
    assert store.count_articles() == 1


def test_a_full_entry_is_used_without_fetching(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    text = STORY.format(place="Gao", outlet="Feed", n=9) * 2  # a whole article
    server.route("/feed", rss(server, full=text))
    with watcher([server.url("/feed")], store, bare, options) as w:
        assert w.poll().stored == 1
    assert server.requests_to("/never") == []
    row = store.conn.execute("SELECT text, source FROM articles").fetchone()
    assert row is not None and "Gao" in row[0] and row[1] == "Test Wire"


def test_timeouts_and_garbage_are_recorded_and_backed_off(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    fast = replace(options, fetch_timeout=0.3)
    server.route("/a1", page(1))
    server.route("/good", rss(server, ("/a1", "one")))
    server.route("/slow", Response(body=b"<rss/>", delay=3.0))
    server.route("/junk", Response(body=bytes(range(256)) * 4,
                                   content_type="application/octet-stream"))  # fmt: skip
    sources = [server.url(p) for p in ("/slow", "/junk", "/good")]
    with watcher(sources, store, bare, fast) as w:
        reports = [w.poll() for _ in range(5)]
    first = reports[0]
    assert (first.polled, first.failed, first.stored) == (3, 2, 1)
    assert set(first.failures) == {server.url("/slow"), server.url("/junk")}
    assert "timed out" in first.failures[server.url("/slow")]
    assert "neither an RSS/Atom feed nor a URL list" in first.failures[server.url("/junk")]
    # One failure: sit out one cycle. Two in a row: sit out three.
    assert [r.waiting for r in reports] == [0, 2, 0, 2, 2]
    assert len(server.requests_to("/slow")) == 2
    assert len(server.requests_to("/good")) == 5
    stages = store.conn.execute("SELECT stage, locator FROM rejections ORDER BY id").fetchall()
    assert stages.count(("watch", server.url("/slow"))) == 2
    assert stages.count(("watch", server.url("/junk"))) == 2


def test_a_source_that_recovers_is_polled_every_cycle_again(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    server.route("/a1", page(1))
    server.sequence(
        "/feed",
        [Response(status=503, body=b"busy"), rss(server, ("/a1", "one"))],
    )
    with watcher([server.url("/feed")], store, bare, options) as w:
        reports = [w.poll() for _ in range(4)]
    assert [(r.polled, r.failed, r.waiting) for r in reports] == [
        (1, 1, 0), (0, 0, 1), (1, 0, 0), (1, 0, 0)
    ]  # fmt: skip
    assert reports[2].stored == 1


def test_a_failed_article_fetch_is_retried_then_given_up(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    server.route("/feed", rss(server, ("/gone", "missing")))  # /gone answers 404
    with watcher([server.url("/feed")], store, bare, options) as w:
        reports = [w.poll() for _ in range(5)]
    assert [r.new for r in reports] == [1, 1, 1, 0, 0]
    assert len(server.requests_to("/gone")) == 3
    assert all(r.failed == 0 for r in reports)  # the feed itself is fine


# ---------------------------------------------------------------------------- URL lists, files


def test_url_list_that_changes_between_polls(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    for n in (1, 2):
        server.route(f"/p{n}", page(n, place="Menaka"))
    plain = "text/plain; charset=utf-8"
    server.sequence(
        "/list.txt",
        [Response(body=f"# today\n{server.url('/p1')}\n".encode(), content_type=plain),
         Response(body=f"{server.url('/p1')}\n{server.url('/p2')}  # new\n".encode(),
                  content_type=plain)],
    )  # fmt: skip
    with watcher([server.url("/list.txt")], store, bare, options) as w:
        reports = [w.poll(), w.poll()]
    assert [(r.links, r.new, r.stored) for r in reports] == [(1, 1, 1), (2, 1, 1)]


def test_local_feed_file_and_missing_path(
    server: LocalServer, store: Store, bare: Pipeline, options: Options, tmp_path: Path
) -> None:
    server.route("/a1", page(1))
    feed = tmp_path / "wire.rss"
    feed.write_bytes(rss(server, ("/a1", "one")).body)  # type: ignore[arg-type]
    missing = str(tmp_path / "nope.rss")
    with watcher([str(feed), missing], store, bare, options) as w:
        report = w.poll()
    assert (report.stored, report.failed) == (1, 1)
    assert "cannot read" in report.failures[missing]


def test_local_feed_larger_than_the_cap_is_a_failure_not_a_flood(
    server: LocalServer, store: Store, bare: Pipeline, options: Options, tmp_path: Path
) -> None:
    import gzip
    from dataclasses import replace

    server.route("/a1", page(1))
    small = replace(options, fetch_max_bytes=4_000)
    huge = tmp_path / "huge.rss"
    feed = rss(server, ("/a1", "one")).body
    assert isinstance(feed, bytes)
    huge.write_bytes(feed.replace(b"Short teaser.", b"x" * 10_000))
    packed = tmp_path / "wire.rss.gz"
    packed.write_bytes(gzip.compress(feed))
    with Watcher([str(huge), str(packed)], store, bare, options=small, every=0) as w:
        report = w.poll()
    assert (report.stored, report.failed) == (1, 1)
    assert "more than 4,000 bytes" in report.failures[str(huge)]


def test_watcher_needs_sources(store: Store, bare: Pipeline, options: Options) -> None:
    with pytest.raises(OptionsError, match="at least one"):
        Watcher([], store, bare, options=options, every=1)
    with pytest.raises(OptionsError, match="negative"):
        Watcher(["x.rss"], store, bare, options=options, every=-1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("1h30m", 5400), ("90s", 90), ("2h", 7200), ("45", 45), ("0.5s", 0.5),
     ("1d", 86400)],
)  # fmt: skip
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "15 minutes", "m15", "-5m", "1h-"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(OptionsError, match="15m"):
        parse_interval(text)


def test_run_sleeps_between_cycles(
    server: LocalServer, store: Store, bare: Pipeline, options: Options
) -> None:
    server.route("/feed", rss(server))
    naps: list[float] = []
    with Watcher([server.url("/feed")], store, bare, options=options, every=60) as w:
        reports = w.run(cycles=3, sleep=naps.append)
    assert len(reports) == 3 and len(naps) == 2
    assert all(55 < nap <= 60 for nap in naps)


# ---------------------------------------------------------------------------- command


def test_watch_command_end_to_end(server: LocalServer, options: Options) -> None:
    """The command with the real pipeline: one line per cycle, events stored."""
    server.route("/a1", page(1, place="Kidal"))
    server.route("/a2", page(2, place="Gao"))
    server.sequence(
        "/feed",
        [rss(server, ("/a1", "one")), rss(server, ("/a1", "one"), ("/a2", "two"))],
    )
    result = CliRunner().invoke(
        watch,
        [server.url("/feed"), "--every", "0s", "--cycles", "2", "--db", str(options.db)],
        obj=SimpleNamespace(options=options),
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cycle 1: polled 1 source(s)") and "stored 1 articles" in lines[0]
    assert lines[1].startswith("cycle 2:") and "1 new" in lines[1]
    with Store(options.db, options=options) as store:
        assert store.count_articles() == 2


_HOLD_STORE = """
import sys, time
from eventwire.config import resolve_options
from eventwire.store import Store
with Store(sys.argv[1], options=resolve_options(env={}, config_file=None, db=sys.argv[1])):
    print("open", flush=True)
    time.sleep(60)
"""


def test_the_store_is_free_between_cycles_and_a_busy_store_waits_a_cycle(
    server: LocalServer, bare: Pipeline, options: Options
) -> None:
    import subprocess
    import sys

    server.route("/a1", page(1))
    server.route("/a2", page(2))
    server.sequence("/feed", [rss(server, ("/a1", "one")),
                              rss(server, ("/a1", "one"), ("/a2", "two"))])  # fmt: skip
    db = str(options.db)

    def opener() -> Store:
        return Store(db, options=options)

    with Watcher([server.url("/feed")], opener, bare, options=options, every=0) as w:
        assert w.poll().stored == 1
        # Between cycles another process can open the store (a server, an ingest).
        holder = subprocess.Popen([sys.executable, "-c", _HOLD_STORE, db],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
            busy = w.poll()
        finally:
            holder.kill()
            holder.wait()
        assert busy.busy and "in use by another process" in busy.busy
        assert busy.stored == 0 and "store busy" in busy.line()
        after = w.poll()  # the link seen while the store was busy is not lost
    assert (after.stored, after.new) == (1, 1)
    with Store(db, options=options) as store:
        assert urls(store) == {server.url("/a1"), server.url("/a2")}


def test_watch_command_rejects_a_bad_interval(options: Options) -> None:
    result = CliRunner().invoke(
        watch, ["http://127.0.0.1:9/feed", "--every", "often", "--cycles", "1"],
        obj=SimpleNamespace(options=options),
    )  # fmt: skip
    assert result.exit_code != 0
    assert isinstance(result.exception, OptionsError)
