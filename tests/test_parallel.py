"""Parallel ingest: real worker processes, the real model, real DuckDB files."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from eventwire.config import Options
from eventwire.errors import OptionsError, PipelineError
from eventwire.model import Article, Document, Event, Rejection
from eventwire.parallel import _DEPTH, WORKER_STAGE, ProcessPipeline, ingest_parallel
from eventwire.pipeline import Context, Pipeline, stage
from eventwire.store import Store

# Test stages, registered through the public decorator. Worker processes import this module
# when they unpickle the stage functions, which registers them there too.


@stage("test.parallel.words.v1", needs=("doc",), adds=("events",))
def _event_per_sentence_with_attack(document: Document, context: Context) -> None:
    for sent in document.doc.sents:
        at = sent.text.find("attack")
        if at >= 0:
            document.events.append(
                Event("ASSAULT", sent.text, sent.start_char, sent.end_char, trigger="attack",
                      trigger_start=sent.start_char + at, confidence=0.5)
            )  # fmt: skip


@stage("test.parallel.fail.v1", needs=("events",), adds=())
def _fail_on_marker(document: Document, context: Context) -> None:
    if "FAILME" in document.text:
        raise ValueError("marker found")


@stage("test.parallel.crash.v1", needs=("events",), adds=())
def _kill_the_process_on_marker(document: Document, context: Context) -> None:
    if "CRASHME" in document.text:
        os._exit(3)  # what a segfault or an OOM kill looks like to the parent


@stage("test.parallel.slow.v1", needs=("events",), adds=())
def _slow_on_marker(document: Document, context: Context) -> None:
    if "SLOWME" in document.text:
        time.sleep(1.5)


CHAIN = ("parse.spacy.v1", "test.parallel.words.v1", "test.parallel.fail.v1",
         "test.parallel.crash.v1", "finalize.v1")  # fmt: skip

PHRASES = (
    "Rebels launched an attack on the army base near Idlib.",
    "The ministers met in Geneva to discuss a ceasefire.",
    "Turkish forces repelled an attack on their convoy.",
    "Protesters gathered outside the parliament in Beirut.",
)


def _articles(n: int, marker: str | None = None, at: int = -1) -> list[Article]:
    out = []
    for i in range(n):
        text = f"Report {i}. {PHRASES[i % 4]} {PHRASES[(i + 1) % 4]} Another attack followed."
        if i == at and marker:
            text += f" {marker}"
        out.append(Article(text, url=f"https://news.example/{i}", locator=f"item:{i}"))
    return out


def _event_rows(store: Store) -> set[tuple[object, ...]]:
    return set(store.conn.execute("SELECT * FROM events").fetchall())


@pytest.fixture
def small_batches(options: Options) -> Options:
    return replace(options, batch_size=3)


def test_two_workers_store_the_same_events_as_one_process(
    small_batches: Options, tmp_path: Path
) -> None:
    articles = _articles(14)
    with Store(tmp_path / "single.duckdb", options=small_batches) as single:
        expected = single.ingest(list(articles), Pipeline(small_batches, stages=CHAIN))
        expected_rows = _event_rows(single)
    stored: list[int] = []
    with Store(tmp_path / "parallel.duckdb", options=small_batches) as store:
        report = ingest_parallel(store, list(articles), small_batches, 2, stages=CHAIN,
                                 progress=lambda r: stored.append(r.stored))  # fmt: skip
        rows = _event_rows(store)
        assert store.count_articles() == 14
    assert (report.stored, report.rejected, report.duplicates) == (14, 0, 0)
    # One chunk per worker per transaction by default: the last write, made while the
    # workers wait, stays small.
    assert stored == [6, 12, 14]
    assert report.events == expected.events == len(rows) > 14
    assert rows == expected_rows


def test_duplicates_rejections_and_stage_failures(small_batches: Options) -> None:
    articles = _articles(7, marker="FAILME", at=4)
    items: list[Article | Rejection] = [
        *articles,
        Rejection("bad.html", "read", "not HTML"),
        Article(articles[0].text, url="https://mirror.example/0"),  # same content hash
    ]
    seen: list[int] = []
    with Store(small_batches.db, options=small_batches) as store:
        store.add(articles[1], [])  # already stored before the run
        report = ingest_parallel(
            store, items, small_batches, 2, stages=CHAIN,
            progress=lambda r: seen.append(r.stored + r.duplicates + r.rejected),
        )  # fmt: skip
        assert store.count_articles() == 6
        stages = sorted(r.stage for r in store.rejections())
    assert (report.stored, report.duplicates, report.rejected) == (5, 2, 2)
    assert stages == ["read", "test.parallel.fail.v1"]
    assert "marker found" in next(r.reason for r in report.rejections if r.locator == "item:4")
    assert seen[-1] == 9


def test_a_worker_crash_becomes_one_rejection_and_the_run_finishes(
    small_batches: Options,
) -> None:
    articles = _articles(10, marker="CRASHME", at=4)
    runner = ProcessPipeline(small_batches, 2, CHAIN)
    started = time.monotonic()
    results = dict((a.locator, r) for a, r in runner.run_many(articles))
    assert time.monotonic() - started < 60
    assert len(results) == 10
    crashed = results.pop("item:4")
    assert not isinstance(crashed, list) and crashed.stage == WORKER_STAGE
    assert "exit code 3" in crashed.reason
    assert all(isinstance(r, list) and r for r in results.values())
    # Once for the chunk, once more when the article ran alone.
    assert runner.crashes == 2


def test_results_come_back_in_input_order_whichever_worker_finishes_first(
    small_batches: Options,
) -> None:
    """The first chunk is slow and a later one kills its worker: the other worker finishes
    the rest first, yet results come back in input order, as in one process (what is stored,
    and how reports are merged into clusters, must not depend on worker timing)."""
    articles = _articles(15, marker="SLOWME", at=0)
    articles[10] = replace(articles[10], text=articles[10].text + " CRASHME")
    chain = ("parse.spacy.v1", "test.parallel.words.v1", "test.parallel.slow.v1",
             "test.parallel.crash.v1", "finalize.v1")  # fmt: skip
    runner = ProcessPipeline(small_batches, 2, chain)
    order = [a.locator for a, _ in runner.run_many(articles)]
    assert order == [a.locator for a in articles]
    assert runner.crashes == 2


def test_input_is_read_only_as_fast_as_workers_take_it(small_batches: Options) -> None:
    pulled = 0

    def stream() -> Iterator[Article]:
        nonlocal pulled
        for article in _articles(60):
            pulled += 1
            yield article

    runner = ProcessPipeline(small_batches, 2, CHAIN)
    results = runner.run_many(stream())
    next(results)
    # In flight: up to _DEPTH + 1 chunks per worker; read besides: the chunks just finished,
    # whose workers got their next chunk before the results were handed on (the caller may
    # spend a while on them: a write batch). So at least the first chunk and the next one
    # given to its worker are read when the first result comes.
    bound = 2 * (_DEPTH + 2) * small_batches.batch_size
    assert 2 * small_batches.batch_size <= pulled <= bound < 60
    assert sum(1 for _ in results) == 59
    assert pulled == 60
    assert 0 < runner.cpu_seconds
    assert runner.busy_seconds > 0


def test_paths_are_read_as_a_stream_like_the_serial_ingest(
    small_batches: Options, tmp_path: Path
) -> None:
    import json

    lines = [json.dumps({"text": a.text, "url": a.url}) for a in _articles(5)]
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("\n".join([*lines, "{broken", lines[2]]) + "\n", encoding="utf-8")
    with Store(small_batches.db, options=small_batches) as store:
        report = ingest_parallel(store, [str(corpus)], small_batches, 2, stages=CHAIN)
        assert store.count_articles() == 5
        assert [r.stage for r in store.rejections()] == ["read"]
    assert (report.stored, report.duplicates, report.rejected) == (5, 1, 1)
    assert report.events == sum(len(Pipeline(small_batches, stages=CHAIN).run(a))
                                for a in _articles(5))  # fmt: skip


def test_a_worker_that_cannot_load_the_model_fails_the_run_with_one_error(
    options: Options,
) -> None:
    broken = replace(options, model="no_such_model_package")
    with pytest.raises(PipelineError, match="could not start.*no_such_model_package"):
        list(ProcessPipeline(broken, 1, CHAIN).run_many(_articles(2)))


def test_workers_must_be_a_positive_whole_number(options: Options) -> None:
    with pytest.raises(OptionsError, match="workers must be"):
        ProcessPipeline(options, 0, CHAIN)
