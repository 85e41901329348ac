"""Crash safety and exclusive access, with real worker processes and real SIGKILLs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from eventwire.errors import StoreError
from eventwire.store import Store

from .crash_worker import attack_sentences, make_articles, worker_options, worker_pipeline

ROOT = Path(__file__).resolve().parents[1]
N_ARTICLES = 200

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_worker", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], prefix: str, timeout: float = 60.0) -> str:
    """Read worker output until a line starts with ``prefix``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            stderr = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"worker ended before {prefix!r}: {stderr}")
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"worker printed no {prefix!r} within {timeout}s")


def wait_until_stored(proc: subprocess.Popen[str], count: int) -> None:
    """Read worker progress until it has committed ``count`` articles in this run."""
    while True:
        line = wait_for_line(proc, "stored ")
        if int(line.split()[1]) >= count:
            return


def check_whole_articles(db: Path) -> tuple[int, int]:
    """Assert every stored article has exactly its events and no event is orphaned.

    Returns:
        (articles, events) stored.
    """
    with Store(db, options=worker_options(str(db))) as store:
        conn = store.conn
        mismatched = conn.execute(
            "SELECT a.article_id, a.n_events, count(e.event_id) FROM articles a "
            "LEFT JOIN events e USING (article_id) GROUP BY ALL "
            "HAVING a.n_events <> count(e.event_id)"
        ).fetchall()
        assert mismatched == []
        orphans = conn.execute(
            "SELECT count(*) FROM events WHERE article_id NOT IN (SELECT article_id FROM articles)"
        ).fetchone()
        assert orphans == (0,)
        for text, n_events in conn.execute("SELECT text, n_events FROM articles").fetchall():
            assert n_events == len(attack_sentences(text))
        articles, duplicates = conn.execute(
            "SELECT count(*), count(*) - count(DISTINCT article_id) FROM articles"
        ).fetchone()
        assert duplicates == 0
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        return articles, events


def test_sigkill_at_random_moments_leaves_only_whole_articles(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    rng = random.Random(20201210)
    previous = 0

    # A kill while the process starts and creates the schema.
    proc = spawn("ingest", str(db), str(N_ARTICLES), "--sleep", "0.003")
    time.sleep(rng.uniform(0.0, 0.3))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if db.exists():
        previous, _ = check_whole_articles(db)

    # Kills in the middle of the run, each after a random number of commits plus a random delay.
    for _ in range(4):
        proc = spawn("ingest", str(db), str(N_ARTICLES), "--sleep", "0.003")
        wait_until_stored(proc, rng.randint(3, 30))
        time.sleep(rng.uniform(0.0, 0.02))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        articles, _ = check_whole_articles(db)
        assert previous < articles < N_ARTICLES
        previous = articles

    proc = spawn("ingest", str(db), str(N_ARTICLES))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"done stored={N_ARTICLES - previous} duplicates={previous}" in out
    articles, events = check_whole_articles(db)
    assert articles == N_ARTICLES
    assert events == sum(len(attack_sentences(a.text)) for a in make_articles(N_ARTICLES))


def test_a_store_held_by_another_process_gives_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    options = worker_options(str(db))
    article = make_articles(1)[0]
    events = worker_pipeline(options).run(article)
    assert len(events) == 2
    with Store(db, options=options) as store:
        store.add(article, events)
    holder = spawn("hold", str(db))
    try:
        wait_for_line(holder, "ready")
        with pytest.raises(StoreError) as info:
            Store(db, options=options)
        message = str(info.value)
        assert f"database {db} is in use by another process" in message
        assert f"PID {holder.pid}" in message
        assert "wait for it to finish or use another --db" in message

        # A second worker process fails the same way, and says so.
        second = spawn("ingest", str(db), "10")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 3
        assert "is in use by another process" in err
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
    with Store(db, options=options) as store:
        assert store.count_articles() == 1
    assert check_whole_articles(db) == (1, 2)


def test_opening_during_an_ingest_fails_cleanly_and_the_ingest_completes(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    proc = spawn("ingest", str(db), "60", "--sleep", "0.01")
    wait_until_stored(proc, 5)
    with pytest.raises(StoreError, match="in use by another process"):
        Store(db, options=worker_options(str(db)))
    # Nor can a raw read-only connection slip in beside the writer.
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(db), read_only=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "done stored=60 duplicates=0" in out
    assert check_whole_articles(db)[0] == 60
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()), os.listdir(tmp_path)
