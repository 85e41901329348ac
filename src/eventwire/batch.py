"""Batch mode on Dask: the same stages over partitions of the input, written as Parquet.

:func:`run_batch` reads the inputs as a stream in this process (the client), drops repeated
articles, cuts the stream into partitions of ``partition_size`` articles and runs each partition
on a Dask worker, a :class:`distributed.LocalCluster` when no scheduler address is given. A
worker writes one file per table for its partition::

    OUT/events/part-000000.parquet      same columns and types as the store's events table
    OUT/articles/part-000000.parquet    same columns and types as the store's articles table
    OUT/rejections/part-000000.parquet  locator, stage, reason, article_id, url, at
    OUT/_done/part-000000.json          completion marker, written last

Every file is written under a temporary name and renamed into place, and the marker is
written last, so a partition either has a marker and all three files or is redone. A rerun
skips partitions whose marker matches (same article ids, same pipeline version); a partition
whose worker was killed is rescheduled by Dask on another worker and written again from the
start. The events are the same as a single-process :meth:`Store.ingest` of the same input.

:func:`load_parquet` brings a batch output into a store; :func:`query_parquet` filters the
events in place with DuckDB, without a store.

Dask is an optional dependency: ``pip install 'eventwire[dask]'``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Options
from .errors import EventwireError, OptionsError, PipelineError, StageError, StoreError
from .memory import freeze_loaded, release_after_batch
from .model import EVENT_FIELDS, Article, Event, Rejection
from .pipeline import DEFAULT_STAGES, Pipeline, Stage, stage

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .store import EventFilters, FilterArgs, Store

__all__ = [
    "BatchReport",
    "LoadReport",
    "arrow_schema",
    "complete_partitions",
    "load_parquet",
    "query_parquet",
    "run_batch",
]

#: Tables written per partition, each in a folder of that name.
TABLES = ("events", "articles", "rejections")

REJECTION_COLUMNS: dict[str, str] = {
    "locator": "VARCHAR",
    "stage": "VARCHAR",
    "reason": "VARCHAR",
    "article_id": "VARCHAR",
    "url": "VARCHAR",
    "at": "TIMESTAMPTZ",
}

_DASK_MISSING = (
    "batch mode needs Dask, which is not installed; install it with: pip install 'eventwire[dask]'"
)
_PYARROW_MISSING = (
    "writing Parquet needs pyarrow, which is not installed; install it with: "
    "pip install 'eventwire[dask]'"
)


@dataclass
class BatchReport:
    """What one :func:`run_batch` call did.

    Attributes:
        out: The output folder.
        partitions: Partitions in the input.
        skipped: Partitions already complete from an earlier run, not run again.
        articles: Articles processed in this run (stored in the Parquet output).
        events: Events written in this run.
        rejected: Inputs and articles rejected in this run.
        duplicates: Articles dropped because the same text came earlier in the input.
        failed: Partition index -> reason, for partitions that could not be completed
            (rerun to retry them).
        seconds: Wall-clock time of the run.
        startup_seconds: Wall-clock time until the cluster was up and every worker had the
            pipeline loaded (the fixed cost of the run; part of ``seconds``).
        worker_seconds: Wall-clock seconds workers spent running this run's partitions,
            summed over partitions.
        worker_cpu_seconds: CPU seconds of the threads that ran them (what the stages and
            the Parquet writing cost, without the worker's own bookkeeping).
        pipeline_version: Version of the pipeline that produced the events.
    """

    out: Path
    partitions: int = 0
    skipped: int = 0
    articles: int = 0
    events: int = 0
    rejected: int = 0
    duplicates: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0
    startup_seconds: float = 0.0
    worker_seconds: float = 0.0
    worker_cpu_seconds: float = 0.0
    pipeline_version: str = ""


@dataclass
class LoadReport:
    """What :func:`load_parquet` added to a store.

    Attributes:
        articles: Articles added (articles already stored are skipped with their events).
        events: Events added.
        rejections: Rejections added.
        partitions: Complete partitions read.
    """

    articles: int = 0
    events: int = 0
    rejections: int = 0
    partitions: int = 0


# -- schema ------------------------------------------------------------------------------------


def arrow_schema(table: str) -> Any:
    """The pyarrow schema of one output table, derived from the store's column types.

    Args:
        table: ``events``, ``articles`` or ``rejections``.

    Raises:
        OptionsError: Unknown table, or pyarrow is not installed.
    """
    pa = _pyarrow()
    from .store import ARTICLE_COLUMNS, EVENT_COLUMNS

    columns = {"events": EVENT_COLUMNS, "articles": ARTICLE_COLUMNS,
               "rejections": REJECTION_COLUMNS}.get(table)  # fmt: skip
    if columns is None:
        raise OptionsError(f"unknown table {table!r}; tables are: {', '.join(TABLES)}")
    types = {
        "VARCHAR": pa.string(),
        "DOUBLE": pa.float64(),
        "INTEGER": pa.int32(),
        "BIGINT": pa.int64(),
        "DATE": pa.date32(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([pa.field(name, types[sql]) for name, sql in columns.items()])


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise OptionsError(_PYARROW_MISSING) from exc
    return pyarrow


# -- the worker side ---------------------------------------------------------------------------

_PIPELINES: dict[tuple[Options, tuple[str, ...]], Pipeline] = {}


def _pipeline(options: Options, chain: Sequence[Stage]) -> Pipeline:
    """The pipeline for this chain, built and loaded once per worker process."""
    key = (options, tuple(st.name for st in chain))
    if key not in _PIPELINES:
        for st in chain:  # register plugin stages in this process (idempotent)
            stage(st.name, needs=st.needs, adds=st.adds, components=st.components)(st.fn)
        pipeline = Pipeline(options, stages=key[1])
        if pipeline.context.components or any(
            st.name.startswith("parse.spacy") for st in pipeline.chain
        ):
            pipeline.context.nlp  # noqa: B018  load the model: a missing one fails here
        # Every lazily loaded resource (gazetteer, alias table) in before the first partition.
        pipeline.warm_up()
        _PIPELINES[key] = pipeline
        # The loaded pipeline stays until the worker exits: keep it out of the garbage
        # collector's sight, so collecting after every batch is cheap (eventwire.memory).
        freeze_loaded()
    return _PIPELINES[key]


def _preload(options: Options, chain: Sequence[Stage]) -> str:
    """Load the pipeline in this worker (a task sent to every worker before the partitions)."""
    return _pipeline(options, chain).version


def _load_on_every_worker(client: Any, options: Options, chain: Sequence[Stage]) -> None:
    """Have every worker load the pipeline, all at once, before any partition is sent.

    Workers would load it with their first partition anyway; loading it first makes a worker
    that cannot (no model installed) fail the run at once with its error, and keeps the start
    out of the partitions' times. Workers that join later load it with their first partition.
    """
    from distributed import wait

    workers = list(client.nthreads())
    futures = [
        client.submit(_preload, options, chain, workers=[address], allow_other_workers=False,
                      pure=False, key=f"eventwire-load-{uuid.uuid4().hex[:12]}")
        for address in workers
    ]  # fmt: skip
    wait(futures)
    for future in futures:
        exc = future.exception()
        if isinstance(exc, EventwireError):
            raise exc
        if exc is not None:
            raise PipelineError(f"a Dask worker could not load the pipeline: {exc}") from exc


def _run_in_batches(
    pipeline: Pipeline, articles: Sequence[Article]
) -> Iterator[tuple[Article, list[Event] | StageError]]:
    """``pipeline.run_many`` one ``batch_size`` batch at a time (the same batches, so the
    same results), freeing each batch's garbage before the next one is parsed."""
    size = max(1, pipeline.options.batch_size)
    for start in range(0, len(articles), size):
        yield from pipeline.run_many(articles[start : start + size])
        release_after_batch()


def _part_name(index: int) -> str:
    return f"part-{index:06d}"


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_marker(out: Path, index: int) -> dict[str, Any] | None:
    try:
        marker = json.loads((out / "_done" / f"{_part_name(index)}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _event_row(event: Event, article: Article) -> dict[str, Any]:
    record = event.to_record()
    record["article_id"] = record["article_id"] or article.article_id
    if isinstance(record["event_date"], datetime):
        record["event_date"] = record["event_date"].date()
    record["published"] = _utc(record["published"])
    for key in ("latitude", "longitude", "confidence"):
        value = record[key]
        if isinstance(value, float) and not math.isfinite(value):
            record[key] = None  # as the store does: a non-finite number means unknown
    return record


def process_partition(
    index: int,
    items: Sequence[Article | Rejection],
    options: Options,
    chain: Sequence[Stage],
    out: str,
    digest: str,
) -> dict[str, Any]:
    """Run one partition and write its Parquet files and completion marker (on a worker).

    Idempotent: a partition already marked complete with the same digest is not run again,
    and a partial write from a killed attempt is replaced.

    Returns:
        The marker: partition, digest, counts and pipeline version.
    """
    folder = Path(out)
    done = _read_marker(folder, index)
    if done is not None and done.get("digest") == digest:
        return done
    pa = _pyarrow()
    import pyarrow.parquet as pq

    pipeline = _pipeline(options, chain)
    wall, cpu = time.perf_counter(), time.thread_time()
    version = pipeline.version
    now = datetime.now(UTC)
    articles = [item for item in items if isinstance(item, Article)]
    rejections = [item for item in items if isinstance(item, Rejection)]
    event_rows: list[dict[str, Any]] = []
    article_rows: list[dict[str, Any]] = []
    for article, result in _run_in_batches(pipeline, articles):
        if isinstance(result, StageError):
            rejections.append(Rejection(
                locator=article.locator or article.url or article.article_id,
                stage=result.stage, reason=result.reason,
                article_id=article.article_id, url=article.url,
            ))  # fmt: skip
            continue
        rows = [_event_row(e, article) for e in result]
        event_rows.extend(rows)
        article_rows.append({
            "article_id": article.article_id, "url": article.url, "title": article.title,
            "source": article.source, "published": _utc(article.published),
            "text": article.text, "locator": article.locator, "ingested_at": now,
            "pipeline_version": version, "n_events": len(rows),
        })  # fmt: skip
    rejection_rows = [
        {"locator": r.locator, "stage": r.stage, "reason": r.reason,
         "article_id": r.article_id, "url": r.url, "at": now}
        for r in rejections
    ]  # fmt: skip
    name = _part_name(index)
    for table, rows in (("events", event_rows), ("articles", article_rows),
                        ("rejections", rejection_rows)):  # fmt: skip
        data = pa.Table.from_pylist(rows, schema=arrow_schema(table))
        target = folder / table / f"{name}.parquet"
        _write_atomic(target, partial(pq.write_table, data))
    marker = {
        "partition": index,
        "digest": digest,
        "pipeline_version": version,
        "articles": len(article_rows),
        "events": len(event_rows),
        "rejected": len(rejection_rows),
        "finished": now.isoformat(),
        "seconds": round(time.perf_counter() - wall, 3),
        "cpu_seconds": round(time.thread_time() - cpu, 3),
    }
    _write_atomic(
        folder / "_done" / f"{name}.json",
        lambda tmp: tmp.write_text(json.dumps(marker), encoding="utf-8"),
    )
    return marker


# -- the client side ---------------------------------------------------------------------------


def _digest(items: Sequence[Article | Rejection], version: str) -> str:
    h = hashlib.sha256(version.encode())
    for item in items:
        key = item.article_id if isinstance(item, Article) else f"!{item.locator}|{item.reason}"
        h.update(b"\0" + key.encode("utf-8"))
    return h.hexdigest()[:32]


def _partitions(
    items: Iterable[Article | Rejection], size: int, report: BatchReport
) -> Iterator[list[Article | Rejection]]:
    # Ids of articles seen so far, as 64-bit ints: 10 million take about 600 MB here.
    seen: set[int] = set()
    part: list[Article | Rejection] = []
    n_articles = 0
    for item in items:
        if isinstance(item, Article):
            key = int(item.article_id[:16], 16)
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            if n_articles >= size:  # only articles count: input rejections ride along
                yield part
                part, n_articles = [], 0
            n_articles += 1
        part.append(item)
    if part:
        yield part


def _client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise OptionsError(_DASK_MISSING) from exc
    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except (OSError, TimeoutError) as exc:
            raise OptionsError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}; check the address "
                "(for example tcp://10.0.0.5:8786) or leave --scheduler out to run locally"
            ) from exc
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    return Client(cluster), cluster


def run_batch(
    inputs: Sequence[str] | Iterable[Article | Rejection],
    out: str | os.PathLike[str],
    options: Options,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    partition_size: int = 500,
    stages: Sequence[str] = DEFAULT_STAGES,
    progress: Callable[[BatchReport], None] | None = None,
) -> BatchReport:
    """Run the pipeline over the inputs on Dask and write partitioned Parquet to ``out``.

    Args:
        inputs: Paths, folders, feeds, URL lists or URLs (read with
            :func:`eventwire.sources.iter_articles`), or already-read articles and rejections.
        out: Output folder (created); rerunning into it skips finished partitions.
        options: Resolved options.
        scheduler: Address of a Dask scheduler; None starts a local cluster.
        workers: Worker processes of the local cluster (ignored with ``scheduler``).
        partition_size: Articles per partition (input rejections ride along), rounded up
            to a multiple of ``options.batch_size``: spaCy's results can differ in the last
            decimals with the composition of a batch, so partitions are cut on the same
            batch boundaries as a single-process run, which makes the results identical.
        stages: Stage names; defaults to the default chain.
        progress: Called with the running totals after every partition.

    Returns:
        The totals; partitions that could not be completed are listed in ``failed``.

    Raises:
        OptionsError: Dask or pyarrow is missing, a number is not positive, or the
            scheduler cannot be reached.
        PipelineError: The chain is inconsistent, or a worker cannot load the pipeline.
    """
    for name, value in (("workers", workers), ("partition_size", partition_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise OptionsError(f"{name} must be a whole number of at least 1, not {value!r}")
    _pyarrow()
    started = time.perf_counter()
    batch = max(1, options.batch_size)
    partition_size = -(-partition_size // batch) * batch
    pipeline = Pipeline(options, stages=stages)  # checks the chain here, loads nothing
    chain = list(pipeline.chain)
    folder = Path(out).expanduser().resolve()
    for sub in (*TABLES, "_done"):
        try:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OptionsError(f"cannot create output folder {folder / sub}: {exc}") from exc
    report = BatchReport(out=folder, pipeline_version=pipeline.version)
    items: Iterable[Article | Rejection]
    if isinstance(inputs, Sequence) and all(isinstance(i, str) for i in inputs):
        from .sources import iter_articles

        items = iter_articles(list(inputs), options=options)  # type: ignore[arg-type]
    else:
        items = inputs  # type: ignore[assignment]

    _ensure_gazetteer(options, chain)
    client, cluster = _client(scheduler, workers)
    try:
        from distributed import as_completed

        _load_on_every_worker(client, options, chain)
        report.startup_seconds = time.perf_counter() - started

        capacity = max(1, sum(client.nthreads().values()))
        running = as_completed()
        index_of: dict[Any, int] = {}

        def record(future: Any) -> None:
            index = index_of.pop(future)
            try:
                marker = future.result()
            except EventwireError as exc:
                report.failed[index] = str(exc)
            except Exception as exc:  # KilledWorker after repeated deaths, lost scheduler, ...
                report.failed[index] = f"{type(exc).__name__}: {exc}"
            else:
                report.articles += marker["articles"]
                report.events += marker["events"]
                report.rejected += marker["rejected"]
                report.worker_seconds += marker.get("seconds", 0.0)
                report.worker_cpu_seconds += marker.get("cpu_seconds", 0.0)
            report.seconds = time.perf_counter() - started
            if progress is not None:
                progress(report)

        for index, part in enumerate(_partitions(items, partition_size, report)):
            report.partitions += 1
            digest = _digest(part, pipeline.version)
            marker = _read_marker(folder, index)
            if marker is not None and marker.get("digest") == digest:
                report.skipped += 1
                continue
            # Bounded: the client holds at most twice as many partitions as workers can run.
            while running.count() >= 2 * capacity:
                record(next(running))
            future = client.submit(
                process_partition, index, part, options, chain, str(folder), digest,
                key=f"eventwire-partition-{index}-{digest[:12]}", pure=False,
            )  # fmt: skip
            index_of[future] = index
            running.add(future)
        for future in running:
            record(future)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    _remove_stale(folder, report.partitions)
    report.seconds = time.perf_counter() - started
    return report


def _ensure_gazetteer(options: Options, chain: Sequence[Stage]) -> None:
    """Build the default gazetteer index here, once, when a stage needs it and it is missing.

    Dask worker processes are daemons and may not start the helper process the build uses,
    and building it in every worker at once would waste the cluster's first minutes. On a
    cluster without shared storage, the index must exist at ``options.gazetteer`` on every
    worker machine.
    """
    path = Path(options.gazetteer).expanduser()
    uses = any(st.name.split(".", 1)[0] in _GAZETTEER_FAMILIES for st in chain)
    if uses and not path.exists():
        from .gazetteer import Gazetteer

        Gazetteer.open(path).close()


#: Stage families that read the gazetteer.
_GAZETTEER_FAMILIES = frozenset({"toponyms", "locate", "geocode"})


def _remove_stale(folder: Path, partitions: int) -> None:
    """Delete partitions numbered beyond this input (left by an earlier, longer input)."""
    for sub, suffix in [*((t, ".parquet") for t in TABLES), ("_done", ".json")]:
        for path in (folder / sub).glob(f"part-*{suffix}"):
            try:
                number = int(path.name[5:].split(".", 1)[0])
            except ValueError:
                continue
            if number >= partitions:
                path.unlink(missing_ok=True)


# -- reading the output ------------------------------------------------------------------------


def complete_partitions(directory: str | os.PathLike[str]) -> list[str]:
    """Names of the partitions of a batch output that have a completion marker, in order.

    Raises:
        OptionsError: The folder is not a batch output.
    """
    folder = Path(directory).expanduser()
    if not (folder / "_done").is_dir():
        raise OptionsError(
            f"{folder} is not a batch output folder (no _done/ markers); "
            "create one with: eventwire batch INPUT... --out DIR"
        )
    return sorted(p.stem for p in (folder / "_done").glob("part-*.json"))


def _files(folder: Path, table: str, parts: Sequence[str]) -> list[str]:
    return [str(folder / table / f"{name}.parquet") for name in parts]


def load_parquet(
    store: Store,
    directory: str | os.PathLike[str],
    *,
    progress: Callable[[LoadReport], None] | None = None,
) -> LoadReport:
    """Add the complete partitions of a batch output to ``store``, one transaction each.

    Articles already in the store are skipped together with their events, so loading twice,
    or loading output that overlaps the store, adds nothing twice.

    Args:
        store: The open store.
        directory: A folder written by :func:`run_batch`.
        progress: Called with the running totals after every partition.

    Returns:
        What was added.

    Raises:
        OptionsError: The folder is not a batch output.
        StoreError: A write failed (that partition is rolled back).
    """
    import duckdb

    from .store import ARTICLE_COLUMNS, EVENT_COLUMNS

    folder = Path(directory).expanduser()
    report = LoadReport()
    conn = store.conn
    ev_cols = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    art_cols = ", ".join(f'"{c}"' for c in ARTICLE_COLUMNS)
    rej_cols = ", ".join(f'"{c}"' for c in REJECTION_COLUMNS)
    # A store that clusters events across articles does so as it adds them: go through its
    # own writer then (slower, Python objects), else insert straight from the Parquet.
    through_writer = bool(getattr(store, "_clustering", False))
    for name in complete_partitions(folder):
        events, articles, rejections = (str(folder / t / f"{name}.parquet") for t in TABLES)
        if through_writer:
            n_articles, n_events = _load_through_writer(store, articles, events)
            report.articles += n_articles
            report.events += n_events
        try:
            conn.execute("BEGIN TRANSACTION")
            conn.execute(
                "CREATE OR REPLACE TEMP TABLE _load_ids AS "
                "SELECT article_id FROM read_parquet(?) "
                "WHERE article_id NOT IN (SELECT article_id FROM articles)",
                [articles],
            )
            added: tuple[Any, ...] | None = None
            added_events: tuple[Any, ...] | None = None
            if not through_writer:
                added = conn.execute(
                    f"INSERT INTO articles ({art_cols}) SELECT {art_cols} FROM read_parquet(?) "
                    "WHERE article_id IN (SELECT article_id FROM _load_ids)",
                    [articles],
                ).fetchone()
                added_events = conn.execute(
                    f"INSERT INTO events ({ev_cols}) SELECT {ev_cols} FROM read_parquet(?) "
                    "WHERE article_id IN (SELECT article_id FROM _load_ids)",
                    [events],
                ).fetchone()
            added_rejections = conn.execute(
                f"INSERT INTO rejections ({rej_cols}) SELECT {rej_cols} FROM read_parquet(?) r "
                "WHERE NOT EXISTS (SELECT 1 FROM rejections s WHERE s.locator = r.locator "
                "AND s.stage = r.stage AND s.reason = r.reason)",
                [rejections],
            ).fetchone()
            conn.execute("DROP TABLE _load_ids")
            conn.execute("COMMIT")
        except duckdb.Error as exc:
            try:
                conn.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise StoreError(
                f"cannot load partition {name} of {folder} into {store.path}: "
                f"{str(exc).strip().splitlines()[0]}"
            ) from exc
        report.partitions += 1
        report.articles += int(added[0]) if added else 0
        report.events += int(added_events[0]) if added_events else 0
        report.rejections += int(added_rejections[0]) if added_rejections else 0
        if progress is not None:
            progress(report)
    return report


def _load_through_writer(store: Store, articles: str, events: str) -> tuple[int, int]:
    """Add one partition with :meth:`Store.add_many`; returns (articles, events) added."""
    import duckdb

    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        arts = conn.execute(
            "SELECT article_id, text, title, url, source, published, locator, pipeline_version "
            "FROM read_parquet(?)", [articles],
        ).fetchall()  # fmt: skip
        names = [d[0] for d in conn.execute("SELECT * FROM read_parquet(?) LIMIT 0",
                                            [events]).description]  # fmt: skip
        rows = conn.execute("SELECT * FROM read_parquet(?)", [events]).fetchall()
    by_article: dict[str, list[Event]] = {}
    for row in rows:
        event = _event(dict(zip(names, row, strict=True)))
        by_article.setdefault(event.article_id or "", []).append(event)
    fresh = {aid for aid, *_ in arts if not store.has_article(aid)}
    items = [
        (Article(text, title, url, source, _utc(published), locator), by_article.get(aid, []))
        for aid, text, title, url, source, published, locator, _version in arts
        if aid in fresh
    ]
    version = arts[0][7] if arts else None
    added = store.add_many(items, pipeline_version=version) if items else 0
    return added, sum(len(events) for _, events in items)


def query_parquet(
    directory: str | os.PathLike[str],
    filters: EventFilters | None = None,
    *,
    limit: int | None = None,
    **criteria: Unpack[FilterArgs],
) -> list[Event]:
    """Events of a batch output matching every filter, read in place with DuckDB.

    The filters (an :class:`~eventwire.store.EventFilters`, or its fields as keywords) and
    the order are those of :meth:`eventwire.store.Store.events`.

    Raises:
        OptionsError: The folder is not a batch output, or a filter value is invalid.
    """
    import duckdb

    from .store import EVENT_COLUMNS, EVENT_ORDER, EventFilters, check_limit

    folder = Path(directory).expanduser()
    parts = complete_partitions(folder)
    if not parts:
        return []
    where, params = EventFilters.of(filters, **criteria).sql()
    columns = ", ".join(f'"{c}"' for c in EVENT_COLUMNS)
    sql = f"SELECT {columns} FROM read_parquet(?)"
    params.insert(0, _files(folder, "events", parts))
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {EVENT_ORDER}"
    if check_limit(limit) is not None:
        sql += f" LIMIT {limit}"
    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'")
        rows = conn.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        raise OptionsError(
            f"cannot read the events of {folder}: {str(exc).strip().splitlines()[0]}"
        ) from exc
    finally:
        conn.close()
    names = list(EVENT_COLUMNS)
    return [_event(dict(zip(names, row, strict=True))) for row in rows]


_EVENT_FIELDS = frozenset(EVENT_FIELDS)


def _event(values: dict[str, Any]) -> Event:
    values["published"] = _utc(values["published"])
    return Event(**{k: v for k, v in values.items() if k in _EVENT_FIELDS})
