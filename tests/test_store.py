"""The DuckDB store: schema and migrations, writes, ingest, filters, stats, bad files."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eventwire
from eventwire.config import Options
from eventwire.errors import OptionsError, StoreError
from eventwire.model import EVENT_FIELDS, EVENT_KEYS, Article, Event, Rejection
from eventwire.store import (
    CLUSTERING_MIGRATIONS,
    EVENT_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    EventFilters,
    IngestReport,
    Migration,
    Store,
    country_codes,
)

from . import crash_worker
from .crash_worker import attack_sentences, make_articles, worker_pipeline

PUBLISHED = datetime(2020, 12, 10, 8, 30, tzinfo=UTC)


@pytest.fixture
def store(options: Options) -> Store:
    with Store(options.db, options=options) as opened:
        yield opened


def full_event(**changes: object) -> Event:
    """An event with every field set to a distinctive value."""
    event = Event(
        event_type="ASSAULT",
        sentence="Turkish artillery shelled Ain Issa, killing 3 — locals said.",
        start=120,
        end=181,
        event_id="ev-full",
        article_id=None,
        url="https://example.org/a",
        mode="shelling/artillery",
        modality="reported",
        actor1="Turkey (military)",
        actor1_text="Turkish artillery",
        actor1_country="TUR",
        actor1_kind="state military",
        actor2="SDF",
        actor2_text="Kurdish forces",
        actor2_country="SYR",
        actor2_kind="rebels",
        place="Ayn Issa",
        place_text="Ain Issa",
        latitude=36.3853,
        longitude=38.8594,
        admin1="Raqqa",
        admin2="Tell Abiad",
        country="SYR",
        geo_precision="exact place",
        event_date=date(2020, 12, 9),
        date_precision="day",
        published=PUBLISHED,
        fatalities=3,
        confidence=0.875,
        acled_event_type="Explosions/Remote violence",
        acled_sub_event_type="Shelling/artillery/missile attack",
        cameo_root="19",
        pipeline_version="0.1.0+abc",
        source="Example News",
        trigger="shelled",
        trigger_start=138,
        trigger_end=145,
        actor1_start=120,
        actor1_end=137,
        actor2_start=170,
        actor2_end=180,
        place_start=146,
        place_end=154,
        place_id=1_159_301_234,  # a Who's On First id: more than 32 bits
        place_pcode="C5718",
        cluster_id="cl-1",
        report_count=2,
    )
    return replace(event, **changes)


def unclustered(event: Event) -> Event:
    """The event without what clustering sets (the store fills it in on every add)."""
    return replace(event, cluster_id=None, report_count=None)


def article(text: str = "Turkish artillery shelled Ain Issa.", **changes: object) -> Article:
    return replace(
        Article(
            text=text,
            title="Shelling",
            url="https://example.org/a",
            source="Example News",
            published=PUBLISHED,
            locator="a.txt",
        ),
        **changes,
    )


# -- schema --------------------------------------------------------------------------------


def test_a_new_store_creates_its_folder_and_the_schema(options: Options, tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "events.duckdb"
    with Store(path, options=options) as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        tables = {
            r[0] for r in store.conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert {"meta", "articles", "events", "rejections"} <= tables
        version = store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert version.fetchone() == (str(SCHEMA_VERSION),)
        types = dict(
            store.conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'events'"
            ).fetchall()
        )
        indexes = {
            r[0] for r in store.conn.execute("SELECT index_name FROM duckdb_indexes()").fetchall()
        }
    assert path.is_file()
    assert set(types) == set(EVENT_FIELDS)
    assert types["event_date"] == "DATE"
    assert types["published"] == "TIMESTAMP WITH TIME ZONE"
    assert types["latitude"] == types["longitude"] == types["confidence"] == "DOUBLE"
    assert types["start"] == types["end"] == types["fatalities"] == "INTEGER"
    assert types["place_id"] == "BIGINT"
    assert {"events_event_date_idx", "events_country_idx", "events_event_type_idx"} <= indexes


def test_every_event_field_has_a_column() -> None:
    # A new Event field needs a migration that adds its column, or it would not be stored.
    assert tuple(EVENT_COLUMNS)[: len(EVENT_KEYS)] == EVENT_KEYS
    assert set(EVENT_COLUMNS) == {f.name for f in fields(Event)}


def test_reopening_keeps_data_and_does_not_migrate_again(options: Options) -> None:
    with Store(options.db, options=options) as store:
        assert store.add(article(), [full_event()])
    with Store(options.db, options=options) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.count_articles() == 1
        assert [e.event_id for e in store.events()] == ["ev-full"]


def _add_notes(conn: duckdb.DuckDBPyConnection) -> None:
    """A test-only migration after the real ones."""
    conn.execute("ALTER TABLE events ADD COLUMN note VARCHAR DEFAULT 'checked'")
    conn.execute("CREATE TABLE annotations (event_id VARCHAR, text VARCHAR)")
    conn.execute("INSERT INTO annotations SELECT event_id, 'seen' FROM events")


NEXT = SCHEMA_VERSION + 1


def test_the_clustering_v2_migrates_a_v1_database_and_clusters_new_articles(
    options: Options,
) -> None:
    with Store(options.db, options=options, migrations=MIGRATIONS[:1]) as store:
        assert store.schema_version == 1
        store.add(article(), [full_event(cluster_id=None, report_count=None)])
        store.add_rejection(Rejection("bad.html", "read", "no text"))
        assert store.events()[0].cluster_id is None
    with Store(options.db, options=options, migrations=CLUSTERING_MIGRATIONS) as store:
        assert store.schema_version == 2
        [event] = store.events()
        assert event.report_count == 1 and event.cluster_id  # v2 backfilled the clusters
        assert unclustered(event) == unclustered(full_event(article_id=article().article_id))
        assert store.rejections() == [Rejection("bad.html", "read", "no text")]
        # The same shelling in a later article joins the cluster, in the add transaction,
        # and the cluster keeps the id of its first report.
        later = PUBLISHED + timedelta(hours=5)
        other = article(text="Another outlet on the same shelling.", published=later)
        assert store.add(other, [full_event(event_id="ev-again", source="Other News",
                                            published=later)])  # fmt: skip
        counts = store.conn.execute("SELECT event_id, report_count, cluster_id FROM events")
        rows = {e: (n, c) for e, n, c in counts.fetchall()}
        assert rows["ev-full"][0] == rows["ev-again"][0] == 2
        assert rows["ev-full"][1] == rows["ev-again"][1] == event.cluster_id
        assert store.conn.execute("SELECT count(*) FROM clusters").fetchone() == (1,)


def test_an_added_migration_runs_once_and_keeps_the_data(options: Options) -> None:
    with Store(options.db, options=options) as store:
        store.add(article(), [full_event()])
        store.add_rejection(Rejection("bad.html", "read", "no text"))
        before = store.events()
    calls: list[int] = []

    def added(conn: duckdb.DuckDBPyConnection) -> None:
        calls.append(1)
        _add_notes(conn)

    with Store(options.db, options=options, migrations=(*MIGRATIONS, added)) as store:
        assert store.schema_version == NEXT
        assert store.conn.execute("SELECT note FROM events").fetchall() == [("checked",)]
        assert store.conn.execute("SELECT * FROM annotations").fetchall() == [("ev-full", "seen")]
        assert store.events() == before
        assert len(store.rejections()) == 1
    with Store(options.db, options=options, migrations=(*MIGRATIONS, added)) as store:
        assert store.schema_version == NEXT
        meta = store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert meta.fetchone() == (str(NEXT),)
    assert calls == [1]


def test_a_failing_migration_is_rolled_back(options: Options) -> None:
    with Store(options.db, options=options) as store:
        store.add(article(), [full_event()])

    def broken(conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        conn.execute("ALTER TABLE events ADD COLUMN note VARCHAR")
        conn.execute("SELECT * FROM no_such_table")

    with pytest.raises(
        StoreError,
        match=f"from schema version {SCHEMA_VERSION} to {NEXT}.*left at version {SCHEMA_VERSION}",
    ):
        Store(options.db, options=options, migrations=(*MIGRATIONS, broken))
    with Store(options.db, options=options) as store:
        tables = {
            r[0] for r in store.conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert "half_done" not in tables
        columns = store.conn.execute("SELECT * FROM events LIMIT 0").description
        assert "note" not in {c[0] for c in columns}
        assert store.count_articles() == 1


def test_a_migration_that_raises_a_python_error_is_rolled_back(options: Options) -> None:
    Store(options.db, options=options).close()

    def buggy(conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        raise KeyError("oops")

    with pytest.raises(StoreError, match=f"from schema version {SCHEMA_VERSION} to {NEXT}"):
        Store(options.db, options=options, migrations=(*MIGRATIONS, buggy))
    with Store(options.db, options=options) as store:
        assert store.schema_version == SCHEMA_VERSION
        names = {
            r[0] for r in store.conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert "half_done" not in names


def test_a_schema_newer_than_the_code_is_refused(options: Options) -> None:
    with Store(options.db, options=options, migrations=(*MIGRATIONS, _add_notes)) as store:
        store.add(article(), [full_event()])
    with pytest.raises(StoreError) as info:
        Store(options.db, options=options)
    message = str(info.value)
    assert str(options.db) in message
    assert f"schema version {NEXT}" in message and f"up to {SCHEMA_VERSION}" in message
    assert "upgrade eventwire" in message
    with Store(options.db, options=options, migrations=(*MIGRATIONS, _add_notes)) as store:
        assert store.count_articles() == 1  # refused, not damaged


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"event_id,article_id\nabc,def\n",
        b"SQLite format 3\x00" + b"\x00" * 200,
        b"\x00" * 8192,
    ],
    ids=["empty", "csv", "sqlite", "zeros"],
)
def test_a_file_that_is_not_duckdb_is_refused_and_left_untouched(
    options: Options, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        Store(path, options=options)
    assert f"{path} is not a DuckDB database" in str(info.value)
    assert "--db" in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb"]


def test_a_duckdb_file_of_another_application_is_refused_and_left_untouched(
    options: Options, tmp_path: Path
) -> None:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE sales (id INTEGER)")
        conn.execute("INSERT INTO sales VALUES (1), (2)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match="not an eventwire store .*sales"):
        Store(path, options=options)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_folder_is_refused(options: Options, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path, options=options)


def test_a_closed_store_says_so(options: Options) -> None:
    store = Store(options.db, options=options)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.count_articles()
    assert "closed" in repr(store)


def test_eventwire_open_returns_a_store(options: Options) -> None:
    with eventwire.open(options.db, options=options) as store:
        assert isinstance(store, Store)
        assert store.path == options.db
    with eventwire.open(options=options) as store:
        assert store.path == options.db


# -- writing -------------------------------------------------------------------------------


@pytest.mark.parametrize("migrations", [MIGRATIONS[:1], CLUSTERING_MIGRATIONS], ids=["v1", "v2"])
def test_add_round_trips_every_field(options: Options, migrations: tuple[Migration, ...]) -> None:
    a = article()
    event = full_event()
    with Store(options.db, options=options, migrations=migrations) as store:
        assert store.add(a, [event])
        [back] = store.events()
        assert store.article(a.article_id) == a
        assert store.article("nope") is None
    assert back.published is not None and back.published.utcoffset() == timedelta(0)
    if len(migrations) == 1:
        assert back == replace(event, article_id=a.article_id)
    else:  # clustering sets these two
        assert unclustered(back) == unclustered(replace(event, article_id=a.article_id))
        assert back.cluster_id and back.report_count == 1


def test_add_keeps_the_instant_of_a_non_utc_publication_time(store: Store) -> None:
    beirut = timezone(timedelta(hours=2))
    when = datetime(2020, 12, 10, 10, 30, tzinfo=beirut)
    store.add(article(published=when), [full_event(published=when)])
    [back] = store.events()
    assert back.published == when == PUBLISHED
    assert store.article(article().article_id).published == PUBLISHED


def test_add_a_second_time_writes_nothing(store: Store) -> None:
    a = article()
    assert store.add(a, [full_event()])
    assert not store.add(a, [full_event(event_id="other", start=0)])
    # The same text with other whitespace and case is the same article.
    assert not store.add(article(text="  turkish  ARTILLERY shelled Ain Issa. "), [])
    assert [e.event_id for e in store.events()] == ["ev-full"]
    assert store.count_articles() == 1


def test_add_fills_ids_and_version_and_stores_a_repeated_event_once(store: Store) -> None:
    a = article()
    bare = Event("PROTEST", "Crowds protested.", 0, 17)
    assert store.add(a, [bare, bare], pipeline_version="9.9+test")
    [back] = store.events()
    assert back.article_id == a.article_id
    assert back.event_id and len(back.event_id) == 20
    assert back.pipeline_version == "9.9+test"
    row = store.conn.execute("SELECT n_events, pipeline_version FROM articles").fetchone()
    assert row == (1, "9.9+test")
    assert bare.article_id is None  # the caller's events are not changed


def test_add_with_no_events_stores_the_article(store: Store) -> None:
    assert store.add(article(), [])
    assert store.count_articles() == 1
    assert store.has_article(article().article_id)
    assert store.has_url("https://example.org/a")
    assert not store.has_url("https://example.org/b")


def test_add_refuses_an_event_of_another_article(store: Store) -> None:
    with pytest.raises(StoreError, match="belongs to article other-article"):
        store.add(article(), [full_event(article_id="other-article")])
    assert store.count_articles() == 0


def test_add_is_one_transaction(store: Store) -> None:
    store.add(article(), [full_event()])
    second = article(text="Another report entirely.")
    # Its event reuses a stored event_id: the event insert fails after the article insert.
    with pytest.raises(StoreError, match="cannot store article"):
        store.add(second, [full_event(start=0, end=5)])
    assert not store.has_article(second.article_id)
    assert store.count_articles() == 1
    assert len(store.events()) == 1
    assert store.add(second, [full_event(event_id="ev-2", start=0, end=5)])


def test_add_stores_unusual_values(store: Store) -> None:
    text = "Quotes ' \" \\ and emoji 🚀, Arabic عين عيسى, NUL-free; newline\nhere."
    event = full_event(
        sentence=text,
        actor1='O\'Brien "the" \\ militia',
        latitude=float("nan"),
        longitude=-179.999999999,
        fatalities=0,
        confidence=1e-12,
        event_date=datetime(2020, 12, 9, 23, 59),
    )
    store.add(article(text=text), [event])
    [back] = store.events()
    assert back.sentence == text
    assert back.actor1 == 'O\'Brien "the" \\ militia'
    assert back.latitude is None  # not a number is unknown
    assert back.longitude == -179.999999999
    assert back.fatalities == 0
    assert back.confidence == 1e-12
    assert back.event_date == date(2020, 12, 9)


def test_add_many_stores_whole_articles_and_skips_known_ones(store: Store) -> None:
    articles = make_articles(25)
    pipeline = worker_pipeline(store.options)
    pairs = [(a, pipeline.run(a)) for a in articles]
    store.add(*pairs[0])
    stored = store.add_many([*pairs, pairs[3]], pipeline_version="bulk", batch_articles=7)
    assert stored == 24
    assert store.count_articles() == 25
    expected = sum(len(attack_sentences(a.text)) for a in articles)
    assert len(store.events(limit=10_000)) == expected
    with pytest.raises(OptionsError, match="batch_articles"):
        store.add_many(pairs, batch_articles=0)


def test_rejections_are_newest_first(store: Store) -> None:
    for i in range(5):
        store.add_rejection(Rejection(f"file{i}.html", "read", f"reason {i}", url=f"u{i}"))
    assert [r.locator for r in store.rejections()] == [f"file{i}.html" for i in (4, 3, 2, 1, 0)]
    assert store.rejections(limit=2) == [
        Rejection("file4.html", "read", "reason 4", None, "u4"),
        Rejection("file3.html", "read", "reason 3", None, "u3"),
    ]
    with pytest.raises(OptionsError, match="limit"):
        store.rejections(limit=0)


# -- ingest --------------------------------------------------------------------------------


def test_ingest_stores_rejects_and_counts_duplicates(store: Store) -> None:
    articles = make_articles(12)
    failing = article(text="This one will FAIL in a stage.", locator="bad.txt", url="u-bad")
    unreadable = Rejection("broken.pdf", "read", "not a text file")
    store.add(articles[0], worker_pipeline(store.options).run(articles[0]), pipeline_version="old")
    items: list[Article | Rejection] = [
        *articles[:6],
        unreadable,
        failing,
        articles[2],  # again within this run
        *articles[6:],
        replace(articles[7], locator="copy-of-7"),  # same text, other locator
    ]
    crash_worker.SEEN.clear()
    seen_reports: list[tuple[int, int, int]] = []

    report = store.ingest(
        items,
        worker_pipeline(store.options),
        progress=lambda r: seen_reports.append((r.stored, r.duplicates, r.rejected)),
    )

    assert isinstance(report, IngestReport)
    assert (report.stored, report.duplicates, report.rejected) == (11, 3, 2)
    assert report.events == sum(len(attack_sentences(a.text)) for a in articles[1:])
    assert report.seconds > 0
    # after every rejection and duplicate (5), and every write batch (at least one)
    assert len(items) >= len(seen_reports) > 5
    assert seen_reports[-1] == (11, 3, 2)
    assert all(a <= b for x, y in zip(seen_reports, seen_reports[1:], strict=False)
               for a, b in zip(x, y, strict=True))  # fmt: skip
    # Duplicates never reach the stages; failing articles do, once.
    assert sorted(crash_worker.SEEN) == sorted(a.article_id for a in articles[1:])
    assert report.rejections[0] == unreadable
    fail = report.rejections[1]
    assert (fail.locator, fail.stage, fail.article_id, fail.url) == (
        "bad.txt",
        "test.fail-on-marker.v1",
        failing.article_id,
        "u-bad",
    )
    assert "FAIL marker" in fail.reason
    assert store.rejections() == [fail, unreadable]
    assert not store.has_article(failing.article_id)
    assert store.count_articles() == 12
    versions = store.conn.execute("SELECT DISTINCT pipeline_version FROM events").fetchall()
    assert sorted(versions) == sorted([(worker_pipeline(store.options).version,), ("old",)])


def test_ingest_a_second_time_stores_nothing_new(store: Store) -> None:
    articles = make_articles(10)
    first = store.ingest(articles, worker_pipeline(store.options))
    crash_worker.SEEN.clear()
    second = store.ingest(articles, worker_pipeline(store.options))
    assert first.stored == 10 and first.duplicates == 0
    assert (second.stored, second.duplicates, second.rejected, second.events) == (0, 10, 0, 0)
    assert crash_worker.SEEN == []
    assert store.count_articles() == 10


def test_ingest_writes_in_batches_and_lists_a_bounded_number_of_rejections(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import eventwire.store as store_module

    monkeypatch.setattr(store_module, "MAX_REPORTED_REJECTIONS", 2)
    unreadable = [Rejection(f"bad{i}.html", "read", "no text") for i in range(3)]
    stored: list[int] = []
    report = store.ingest(
        [*unreadable, *make_articles(7)],
        worker_pipeline(store.options),
        progress=lambda r: stored.append(r.stored),
        write_batch=3,
    )
    assert (report.stored, report.rejected) == (7, 3)
    assert report.rejections == unreadable[:2]  # listed up to the bound, all counted
    assert len(store.rejections()) == 3  # and all stored
    assert sorted(set(stored)) == [0, 3, 6, 7]  # one transaction per 3 articles
    for bad in (0, -1, 1.5, True):
        with pytest.raises(OptionsError, match="write_batch must be a positive whole number"):
            store.ingest(make_articles(1), worker_pipeline(store.options), write_batch=bad)


def test_ingest_of_nothing(store: Store) -> None:
    report = store.ingest([], worker_pipeline(store.options))
    assert (report.stored, report.duplicates, report.rejected, report.rejections) == (0, 0, 0, [])


# -- queries ---------------------------------------------------------------------------------


def fill(store: Store) -> Store:
    """Six events in three articles with known countries, types, actors, dates and places."""
    a1, a2, a3 = (article(text=f"Article number {i}.") for i in (1, 2, 3))
    aleppo, idlib, beirut = (36.2021, 37.1343), (35.9306, 36.6339), (33.8938, 35.5018)
    store.add(a1, [
        full_event(event_id="e1", start=0, event_date=date(2020, 12, 9), actor1="Syria (military)",
                   actor1_text="the SAA", actor2="Rebels", latitude=idlib[0], longitude=idlib[1]),
        full_event(event_id="e2", start=50, event_type="THREATEN", modality="hypothetical",
                   event_date=date(2020, 12, 10), actor1="Turkey", actor2="SDF",
                   latitude=None, longitude=None),
    ])  # fmt: skip
    store.add(a2, [
        full_event(event_id="e3", start=10, event_type="PROTEST", event_date=date(2020, 12, 1),
                   country="LBN", actor1="Protesters", actor1_text="crowds", actor2=None,
                   actor2_text=None, latitude=beirut[0], longitude=beirut[1]),
        full_event(event_id="e4", start=0, event_type="assault", modality="negated",
                   event_date=date(2020, 12, 5), actor1="Russia", actor2=None, actor2_text=None,
                   latitude=aleppo[0], longitude=aleppo[1]),
    ])  # fmt: skip
    store.add(a3, [
        full_event(event_id="e5", start=5, event_date=None, actor1="Iran", actor2="Syria",
                   latitude=aleppo[0], longitude=aleppo[1]),
        full_event(event_id="e6", start=1, modality="ongoing", event_date=date(2020, 12, 9),
                   actor1="Rebels", actor1_text="militants", actor2="Syria (military)",
                   latitude=aleppo[0], longitude=aleppo[1]),
    ])  # fmt: skip
    return store


@pytest.fixture(scope="module")
def filled(session_options: Options, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The filled store, shared by the read-only query tests of this module."""
    path = tmp_path_factory.mktemp("filled") / "filled.duckdb"
    with Store(path, options=session_options) as store:
        yield fill(store)


def ids(events: list[Event]) -> list[str]:
    return [e.event_id or "" for e in events]


def test_events_are_ordered_by_date_article_and_offset(filled: Store) -> None:
    a1, a3 = (
        article(text="Article number 1.").article_id,
        article(text="Article number 3.").article_id,
    )
    order = ["e3", "e1", "e6"] if a1 < a3 else ["e3", "e6", "e1"]
    assert ids(filled.events()) == [*order, "e5"]  # undated last; e2, e4 hidden
    assert ids(filled.events(include_hypothetical=True)) == ["e3", "e4", *order[1:], "e2", "e5"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"country": "SYR"}, {"e1", "e5", "e6"}),
        ({"country": "sy"}, {"e1", "e5", "e6"}),
        ({"country": "Lebanon"}, {"e3"}),
        ({"country": "LB"}, {"e3"}),
        ({"country": "FRA"}, set()),
        ({"type": "assault"}, {"e1", "e5", "e6"}),
        ({"type": "ASSAULT", "include_hypothetical": True}, {"e1", "e4", "e5", "e6"}),
        ({"type": "Protest"}, {"e3"}),
        ({"actor": "syria"}, {"e1", "e5", "e6"}),
        ({"actor": "SAA"}, {"e1"}),
        ({"actor": "MILITANT"}, {"e6"}),
        ({"actor": "crowd"}, {"e3"}),
        ({"actor": "%"}, set()),
        ({"actor": "_"}, set()),
        ({"since": "2020-12-05"}, {"e1", "e6"}),
        ({"since": "2020-12-05", "include_hypothetical": True}, {"e1", "e2", "e4", "e6"}),
        ({"until": date(2020, 12, 5)}, {"e3"}),
        ({"since": "2020-12-09", "until": "2020-12-09"}, {"e1", "e6"}),
        ({"since": datetime(2020, 12, 9, 23, 0)}, {"e1", "e6"}),
        ({"until": "2020-12-05T23:59:00Z"}, {"e3"}),
        ({"near": (36.2, 37.13, 5)}, {"e5", "e6"}),
        ({"near": (36.2, 37.13, 5), "include_hypothetical": True}, {"e4", "e5", "e6"}),
        ({"near": (36.2, 37.13, 100)}, {"e1", "e5", "e6"}),  # Idlib is ~60 km from Aleppo
        ({"near": (36.2, 37.13, 50)}, {"e5", "e6"}),
        ({"near": (33.9, 35.5, 400)}, {"e1", "e3", "e5", "e6"}),
        ({"modality": "hypothetical"}, {"e2"}),
        ({"modality": "negated"}, {"e4"}),
        ({"modality": "ongoing"}, {"e6"}),
        ({"country": "SYR", "type": "ASSAULT", "actor": "rebels", "since": "2020-12-09"},
         {"e1", "e6"}),
        ({"include_hypothetical": True, "country": "SYR", "near": (36.2, 37.13, 5)},
         {"e4", "e5", "e6"}),
    ],
)  # fmt: skip
def test_event_filters(filled: Store, filters: dict[str, object], expected: set[str]) -> None:
    assert set(ids(filled.events(**filters))) == expected  # type: ignore[arg-type]
    # the same filters as one EventFilters value, and as keywords overriding one
    as_value = EventFilters(**filters)  # type: ignore[arg-type]
    assert set(ids(filled.events(as_value))) == expected
    assert set(ids(filled.events(EventFilters(type="AGREE"), **filters))) == (  # type: ignore[arg-type]
        expected if "type" in filters else set()
    )


def test_event_filters_refuse_an_unknown_name(filled: Store) -> None:
    with pytest.raises(OptionsError, match="unknown event filter 'colour'; the filters are"):
        filled.events(colour="red")  # type: ignore[call-arg]
    with pytest.raises(OptionsError, match="unknown event filter"):
        filled.clusters(colour="red")  # type: ignore[call-arg]
    assert EventFilters.of(None) == EventFilters()
    assert EventFilters.of(EventFilters(country="SY"), actor="x") == EventFilters("SY", actor="x")


def test_event_limit(filled: Store) -> None:
    assert ids(filled.events(limit=2)) == ids(filled.events())[:2]
    assert len(filled.events(limit=100)) == 4


def test_near_uses_great_circle_distance(store: Store) -> None:
    # Two points 1 degree of longitude apart at 60N are ~55.6 km apart, not ~111 km.
    store.add(article(), [full_event(latitude=60.0, longitude=25.0)])
    assert ids(store.events(near=(60.0, 24.0, 56))) == ["ev-full"]
    assert ids(store.events(near=(60.0, 24.0, 55))) == []
    # Across the antimeridian.
    store.add(article(text="Fiji."), [full_event(event_id="fj", latitude=-17.0, longitude=179.9)])
    assert ids(store.events(near=(-17.0, -179.9, 25))) == ["fj"]
    # Antipodes: half the circumference (20,015 km) away, at the top of asin's domain.
    gulf = full_event(event_id="gg", latitude=0.0, longitude=0.0)
    store.add(article(text="Gulf of Guinea."), [gulf])
    assert "gg" in ids(store.events(near=(0.0, 180.0, 20_016)))
    assert "gg" not in ids(store.events(near=(0.0, 180.0, 20_000)))


HOSTILE = [
    "'); DROP TABLE events; --",
    "' OR '1'='1",
    '"; DELETE FROM articles; --',
    "%' OR 1=1 --",
    "\\x00\x00",
    "SYR' --",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_filter_values_change_nothing(filled: Store, value: str) -> None:
    before = filled.stats()
    for name in ("country", "type", "actor", "since", "until", "modality", "near", "limit"):
        try:
            result = filled.events(**{name: value})  # type: ignore[arg-type]
        except OptionsError as exc:
            assert name in str(exc)
        else:
            assert result == [], name
    for bad_near in [(value, 1, 1), (1, value, 1), (1, 1, value)]:
        with pytest.raises(OptionsError, match="near"):
            filled.events(near=bad_near)  # type: ignore[arg-type]
    assert filled.stats() == before
    assert len(filled.events(include_hypothetical=True)) == 6


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"near": (36.2, 37.1, 0)}, "radius"),
        ({"near": (36.2, 37.1, -5)}, "radius"),
        ({"near": (91, 37.1, 5)}, "latitude"),
        ({"near": (-90.5, 37.1, 5)}, "latitude"),
        ({"near": (36.2, 181, 5)}, "longitude"),
        ({"near": (36.2, float("nan"), 5)}, "near"),
        ({"near": (36.2, 37.1)}, "near"),
        ({"near": "36.2,37.1,5"}, "near"),
        ({"since": "2020-12-10", "until": "2020-12-01"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2020-12-10 and more"}, "since"),
        ({"until": "2020-13-45"}, "until"),
        ({"since": 20201210}, "since"),
        ({"modality": "maybe"}, "modality"),
        ({"modality": "Reported"}, "modality"),
        ({"country": "Atlantis"}, "country"),
        ({"country": "XY"}, "country"),
        ({"country": ""}, "country"),
        ({"type": "  "}, "type"),
        ({"actor": ""}, "actor"),
        ({"limit": 0}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"limit": True}, "limit"),
    ],
)
def test_bad_filter_values_name_the_parameter(
    filled: Store, filters: dict[str, object], named: str
) -> None:
    with pytest.raises(OptionsError, match=named):
        filled.events(**filters)  # type: ignore[arg-type]


def test_country_codes() -> None:
    assert country_codes("SYR") == country_codes("sy") == country_codes(" Syria ") == ("SYR", "SY")
    assert country_codes("tur") == ("TUR", "TR")
    assert country_codes("QQQ") == ("QQQ", "QQQ")  # unknown alpha-3 codes match as given
    with pytest.raises(OptionsError, match="SYR, SY or Syria"):
        country_codes("Narnia")


def test_stats(store: Store) -> None:
    fill(store).add_rejection(Rejection("x.html", "read", "empty"))
    stats = store.stats()
    assert stats == {
        "articles": 3,
        "events": 6,
        "rejections": 1,
        "first_event_date": "2020-12-01",
        "last_event_date": "2020-12-10",
        "by_event_type": {"ASSAULT": 3, "PROTEST": 1, "THREATEN": 1, "assault": 1},
        "by_country": {"SYR": 5, "LBN": 1},
        "by_modality": {"reported": 3, "hypothetical": 1, "negated": 1, "ongoing": 1},
        "by_day": {"2020-12-01": 1, "2020-12-05": 1, "2020-12-09": 2, "2020-12-10": 1},
        "top_actor1": {
            "Iran": 1,
            "Protesters": 1,
            "Rebels": 1,
            "Russia": 1,
            "Syria (military)": 1,
            "Turkey": 1,
        },
    }


def test_stats_of_an_empty_store(store: Store) -> None:
    stats = store.stats()
    assert (stats["articles"], stats["events"], stats["first_event_date"]) == (0, 0, None)
    assert stats["by_day"] == {} and stats["top_actor1"] == {}


def test_top_actor1_keeps_the_twenty_most_frequent(store: Store) -> None:
    events = [
        full_event(event_id=f"e{i}-{j}", start=i * 100 + j, actor1=f"Actor {i:02d}")
        for i in range(25)
        for j in range(i + 1)
    ]
    store.add(article(), events)
    top = store.stats()["top_actor1"]
    assert list(top) == [f"Actor {i:02d}" for i in range(24, 4, -1)]
    assert top["Actor 24"] == 25


# -- property: whatever goes in comes back ------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
_maybe_text = st.none() | _text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sentence=_text,
    actor1=_maybe_text,
    place=_maybe_text,
    latitude=st.none() | st.floats(-90, 90),
    longitude=st.none() | st.floats(-180, 180),
    fatalities=st.none() | st.integers(0, 2**31 - 1),
    confidence=st.floats(0, 1),
    event_date=st.none() | st.dates(date(1900, 1, 1), date(2100, 12, 31)),
    published=st.none()
    | st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1), timezones=st.just(UTC)),
)  # fmt: skip
def test_any_event_round_trips(store: Store, **values: object) -> None:
    event = full_event(event_id=None, **values)  # type: ignore[arg-type]
    text = f"article {hashlib.sha1(repr(values).encode()).hexdigest()}"
    a = article(text=text)
    if not store.add(a, [event]):
        return  # hypothesis repeated an example
    back = [e for e in store.events(include_hypothetical=True) if e.article_id == a.article_id]
    assert len(back) == 1
    assert unclustered(replace(back[0], event_id=None)) == unclustered(
        replace(event, article_id=a.article_id)
    )


def test_store_memory_limit_from_the_options(options: Options) -> None:
    with Store(options.db, options=replace(options, store_memory_mb=64)) as store:
        [(limit,)] = store.conn.execute("SELECT current_setting('memory_limit')").fetchall()
        assert limit in ("64.0 MiB", "67.1 MB")  # DuckDB prints it in its own unit
    for bad in (-1, 8, True):
        with pytest.raises(OptionsError, match="store_memory_mb must be a whole number of MiB"):
            Store(options.db, options=replace(options, store_memory_mb=bad))
