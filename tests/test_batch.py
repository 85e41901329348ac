"""Batch mode on a real local Dask cluster: Parquet output, resume, killed workers, loading."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("distributed", reason="batch mode needs the [dask] extra")

from eventwire.batch import (  # noqa: E402
    arrow_schema,
    load_parquet,
    query_parquet,
    run_batch,
)
from eventwire.config import Options  # noqa: E402
from eventwire.errors import EventwireError, OptionsError  # noqa: E402
from eventwire.model import Document, Event  # noqa: E402
from eventwire.pipeline import Context, Pipeline, stage  # noqa: E402
from eventwire.sources import iter_articles  # noqa: E402
from eventwire.store import EventFilters, Store  # noqa: E402

# Test stages, registered through the public decorator; Dask workers import this module when
# they unpickle the stage functions, which registers the stages there too.

_KILL = re.compile(r"KILLONCE:(\S+)")


@stage("test.batch.words.v1", needs=("doc",), adds=("events",))
def _event_per_sentence_with_attack(document: Document, context: Context) -> None:
    published = document.article.published
    for sent in document.doc.sents:
        at = sent.text.find("attack")
        if at >= 0:
            document.events.append(
                Event("ASSAULT", sent.text, sent.start_char, sent.end_char, trigger="attack",
                      trigger_start=sent.start_char + at, confidence=0.5,
                      modality="hypothetical" if "may" in sent.text else "reported",
                      country="SYR" if "Idlib" in sent.text else None,
                      event_date=published.date() if published else None)
            )  # fmt: skip


@stage("test.batch.kill-once.v1", needs=("events",), adds=())
def _kill_the_worker_the_first_time(document: Document, context: Context) -> None:
    found = _KILL.search(document.text)
    if found:
        flag = Path(found.group(1))
        if not flag.exists():
            flag.write_text("killed once")
            os._exit(7)  # the worker process dies mid-partition, as on an OOM kill


@stage("test.batch.fail.v1", needs=("events",), adds=())
def _fail_on_marker(document: Document, context: Context) -> None:
    if "FAILME" in document.text:
        raise ValueError("marker found")


CHAIN = ("parse.spacy.v1", "test.batch.words.v1", "test.batch.kill-once.v1",
         "test.batch.fail.v1", "finalize.v1")  # fmt: skip

PHRASES = (
    "Rebels launched an attack on the army base near Idlib.",
    "The ministers met in Geneva to discuss a ceasefire.",
    "Turkey may attack the Kurdish forces in Ain Issa.",
    "Protesters gathered outside the parliament in Beirut.",
)


def _corpus(path: Path, n: int, extra: dict[int, str] | None = None) -> Path:
    """A JSONL input of n articles, one repeated and one unreadable line at the end."""
    lines = []
    for i in range(n):
        text = f"Report {i}. {PHRASES[i % 4]} {PHRASES[(i + 1) % 4]} Another attack followed."
        if extra and i in extra:
            text += " " + extra[i]
        lines.append(json.dumps({"text": text, "url": f"https://news.example/{i}",
                                 "published": f"2020-12-{1 + i % 28:02d}T08:00:00Z"}))
    lines.append(lines[0])  # a duplicate
    lines.append("{not json")  # a rejection while reading
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, *params: object) -> set[tuple[object, ...]]:
    return set(conn.execute(sql, list(params)).fetchall())


# Clustering across articles is done by the store when the Parquet is loaded
# (load_parquet); the partitions themselves carry the events as the stages coded them.
_NOT_CLUSTERING = "EXCLUDE (cluster_id, report_count)"


def _unclustered(event: Event) -> dict[str, object]:
    record = event.to_record()
    record.pop("cluster_id"), record.pop("report_count")
    return record


def _groups(conn: duckdb.DuckDBPyConnection) -> set[frozenset[str]]:
    rows = conn.execute("SELECT list(event_id) FROM events GROUP BY cluster_id").fetchall()
    return {frozenset(ids) for (ids,) in rows}


def _groups_of(db: Path) -> set[frozenset[str]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return _groups(conn)


def _parquet_events(out: Path) -> set[tuple[object, ...]]:
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return _rows(conn, f"SELECT * {_NOT_CLUSTERING} FROM read_parquet(?)",
                     str(out / "events" / "*.parquet"))


def _single(options: Options, corpus: Path, db: Path) -> set[tuple[object, ...]]:
    with Store(db, options=options) as store:
        store.ingest(iter_articles([str(corpus)], options=options),
                     Pipeline(options, stages=CHAIN))  # fmt: skip
        return _rows(store.conn, f"SELECT * {_NOT_CLUSTERING} FROM events")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real two-worker local cluster (processes), shared by this module's tests."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as local:  # fmt: skip
        yield local.scheduler_address


@pytest.fixture
def small(options: Options) -> Options:
    return replace(options, batch_size=2)


def test_local_cluster_output_is_the_single_process_result(
    small: Options, tmp_path: Path
) -> None:
    corpus = _corpus(tmp_path / "in.jsonl", 11, extra={5: "FAILME"})
    out = tmp_path / "out"
    report = run_batch([str(corpus)], out, small, workers=2, partition_size=4, stages=CHAIN)
    # 11 articles + 1 unreadable line (the repeated article is dropped): 12 items, 3 partitions.
    assert (report.partitions, report.skipped, report.failed) == (3, 0, {})
    assert (report.articles, report.rejected, report.duplicates) == (10, 2, 1)
    expected = _single(small, corpus, tmp_path / "single.duckdb")
    assert report.events == len(expected) > 10
    assert _parquet_events(out) == expected
    for table in ("events", "articles", "rejections"):
        assert len(list((out / table).glob("part-*.parquet"))) == 3
    assert sorted(p.name for p in (out / "_done").iterdir()) == [
        f"part-00000{i}.json" for i in range(3)
    ]


def test_parquet_has_the_store_columns_and_types(small: Options, tmp_path: Path,
                                                 cluster: str) -> None:  # fmt: skip
    corpus = _corpus(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out"
    run_batch([str(corpus)], out, small, scheduler=cluster, partition_size=2, stages=CHAIN)
    with Store(tmp_path / "s.duckdb", options=small) as store, duckdb.connect() as conn:
        for table in ("events", "articles"):
            want = store.conn.execute(f"DESCRIBE {table}").fetchall()
            got = conn.execute(
                "DESCRIBE SELECT * FROM read_parquet(?)", [str(out / table / "*.parquet")]
            ).fetchall()
            assert [(r[0], r[1]) for r in got] == [(r[0], r[1]) for r in want]
    assert arrow_schema("events").names[0] == "event_id"


def test_rerun_skips_finished_partitions_and_redoes_unfinished_ones(
    small: Options, tmp_path: Path, cluster: str
) -> None:
    corpus = _corpus(tmp_path / "in.jsonl", 9)
    out = tmp_path / "out"
    first = run_batch([str(corpus)], out, small, scheduler=cluster, partition_size=4,
                      stages=CHAIN)  # fmt: skip
    before = _parquet_events(out)
    assert (first.partitions, first.skipped) == (3, 0)
    # Partition 1 "was interrupted": its marker never got written, its events file is partial.
    (out / "_done" / "part-000001.json").unlink()
    (out / "events" / "part-000001.parquet").write_bytes(b"partial")
    again = run_batch([str(corpus)], out, small, scheduler=cluster, partition_size=4,
                      stages=CHAIN)  # fmt: skip
    assert (again.partitions, again.skipped, again.failed) == (3, 2, {})
    assert again.articles == 4
    assert _parquet_events(out) == before
    # A different pipeline is a different result: nothing is skipped.
    other = ("parse.spacy.v1", "test.batch.words.v1", "finalize.v1")
    third = run_batch([str(corpus)], out, small, scheduler=cluster, partition_size=4,
                      stages=other)  # fmt: skip
    assert third.skipped == 0


def test_partitions_follow_the_batch_boundaries(small: Options, tmp_path: Path,
                                                cluster: str) -> None:  # fmt: skip
    corpus = _corpus(tmp_path / "in.jsonl", 7)
    report = run_batch([str(corpus)], tmp_path / "out", replace(small, batch_size=4),
                       scheduler=cluster, partition_size=3, stages=CHAIN)  # fmt: skip
    # 3 is rounded up to one batch of 4: partitions of 4 and 3 articles (+ the bad line).
    assert report.partitions == 2
    with duckdb.connect() as conn:
        counts = [conn.execute("SELECT count(*) FROM read_parquet(?)",
                               [str(tmp_path / "out" / "articles" / f"part-00000{i}.parquet")]
                               ).fetchone()[0] for i in range(2)]  # fmt: skip
    assert counts == [4, 3]


def test_a_killed_workers_partition_is_redone(
    small: Options, tmp_path: Path, cluster: str
) -> None:
    flag = tmp_path / "killed.flag"
    corpus = _corpus(tmp_path / "in.jsonl", 8, extra={6: f"KILLONCE:{flag}"})
    out = tmp_path / "out"
    report = run_batch([str(corpus)], out, small, scheduler=cluster, partition_size=3,
                       stages=CHAIN)  # fmt: skip
    assert flag.read_text() == "killed once"  # a worker really died
    assert report.failed == {}
    assert report.articles == 8
    assert _parquet_events(out) == _single(small, corpus, tmp_path / "single.duckdb")


def test_load_into_a_store_and_query_the_parquet_in_place(
    small: Options, tmp_path: Path, cluster: str
) -> None:
    corpus = _corpus(tmp_path / "in.jsonl", 10, extra={2: "FAILME"})
    out = tmp_path / "out"
    run_batch([str(corpus)], out, small, scheduler=cluster, partition_size=4, stages=CHAIN)
    single_db = tmp_path / "single.duckdb"
    expected = _single(small, corpus, single_db)
    with Store(tmp_path / "loaded.duckdb", options=small) as store:
        loaded = load_parquet(store, out)
        assert (loaded.articles, loaded.events, loaded.rejections) == (9, len(expected), 2)
        assert _rows(store.conn, f"SELECT * {_NOT_CLUSTERING} FROM events") == expected
        assert _groups(store.conn) == _groups_of(single_db)  # the same reports merged
        assert store.count_articles() == 9
        assert sorted(r.stage for r in store.rejections()) == ["read", "test.batch.fail.v1"]
        again = load_parquet(store, out)
        assert (again.articles, again.events, again.rejections) == (0, 0, 0)
        for filters in ({}, {"country": "SY"}, {"include_hypothetical": True},
                        {"modality": "hypothetical", "limit": 2}, {"since": "2020-12-05"}):
            in_store = [_unclustered(e) for e in store.events(**filters)]  # type: ignore[arg-type]
            in_place = [_unclustered(e) for e in query_parquet(out, **filters)]  # type: ignore[arg-type]
            assert in_place == in_store, filters
            criteria = {k: v for k, v in filters.items() if k != "limit"}
            as_value = EventFilters(**criteria)  # type: ignore[arg-type]
            limit = filters.get("limit")
            assert query_parquet(out, as_value, limit=limit) == query_parquet(out, **filters)  # type: ignore[arg-type]
    assert len(query_parquet(out, include_hypothetical=True)) > len(query_parquet(out))


def test_a_folder_that_is_not_a_batch_output_is_refused(tmp_path: Path,
                                                        small: Options) -> None:  # fmt: skip
    with pytest.raises(OptionsError, match="not a batch output folder.*eventwire batch"):
        query_parquet(tmp_path)
    with Store(small.db, options=small) as store, pytest.raises(OptionsError):
        load_parquet(store, tmp_path)


def test_bad_partition_size_is_refused(small: Options, tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match="partition_size must be"):
        run_batch([], tmp_path, small, partition_size=0, stages=CHAIN)


def test_batch_and_load_commands(small: Options, tmp_path: Path, cluster: str) -> None:
    from types import SimpleNamespace

    from click.testing import CliRunner

    from eventwire.batch_cli import batch, load

    corpus = _corpus(tmp_path / "in.jsonl", 5)
    out = tmp_path / "out"
    obj = SimpleNamespace(options=small, debug=False)
    args = [str(corpus), "--out", str(out), "--scheduler", cluster, "--partition-size", "2",
            "--stages", ",".join(CHAIN)]  # fmt: skip
    result = CliRunner().invoke(batch, args, obj=obj)
    assert result.exit_code == 0, result.output
    assert "3 partitions (0 already done): 5 articles" in result.output
    again = CliRunner().invoke(batch, args, obj=obj)
    assert "3 partitions (3 already done): 0 articles" in again.output
    db = tmp_path / "loaded.duckdb"
    loaded = CliRunner().invoke(load, [str(out), "--db", str(db)], obj=obj)
    assert loaded.exit_code == 0, loaded.output
    assert "5 articles" in loaded.output and "1 rejections" in loaded.output
    with Store(db, options=small) as store:
        assert store.count_articles() == 5


def test_load_refuses_a_wrong_folder_without_creating_a_store(small: Options,
                                                              tmp_path: Path) -> None:  # fmt: skip
    from types import SimpleNamespace

    from click.testing import CliRunner

    from eventwire.batch_cli import load

    db = tmp_path / "never.duckdb"
    result = CliRunner().invoke(load, [str(tmp_path), "--db", str(db)],
                                obj=SimpleNamespace(options=small, debug=False))  # fmt: skip
    assert isinstance(result.exception, OptionsError)
    assert "not a batch output folder" in str(result.exception)
    assert not db.exists()


def test_a_clustering_store_loads_through_its_own_writer(
    small: Options, tmp_path: Path, cluster: str
) -> None:
    from eventwire.store import CLUSTERING_MIGRATIONS

    corpus = _corpus(tmp_path / "in.jsonl", 6)
    out = tmp_path / "out"
    run_batch([str(corpus)], out, small, scheduler=cluster, partition_size=4, stages=CHAIN)
    with Store(tmp_path / "single.duckdb", options=small,
               migrations=CLUSTERING_MIGRATIONS) as single:  # fmt: skip
        single.ingest(iter_articles([str(corpus)], options=small),
                      Pipeline(small, stages=CHAIN))  # fmt: skip
        expected = _rows(single.conn, "SELECT * FROM events")
        clustered = single.conn.execute(
            "SELECT count(*) FROM events WHERE report_count > 1").fetchone()
    assert clustered is not None and clustered[0] > 0  # the corpus repeats its events
    with Store(tmp_path / "loaded.duckdb", options=small,
               migrations=CLUSTERING_MIGRATIONS) as store:  # fmt: skip
        loaded = load_parquet(store, out)
        assert (loaded.articles, loaded.events) == (6, len(expected))
        assert _rows(store.conn, "SELECT * FROM events") == expected
        assert load_parquet(store, out).articles == 0


def test_a_worker_that_cannot_load_the_model_fails_the_run_at_once(
    small: Options, tmp_path: Path, cluster: str
) -> None:
    broken = replace(small, model="no_such_model_package")
    corpus = _corpus(tmp_path / "in.jsonl", 4)
    with pytest.raises(EventwireError, match="no_such_model_package"):
        run_batch([str(corpus)], tmp_path / "out", broken, scheduler=cluster, stages=CHAIN)
    assert not list((tmp_path / "out" / "_done").glob("*.json"))
