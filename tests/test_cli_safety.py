"""Crash safety of the real command: ``eventwire ingest`` killed with SIGKILL, and two at once.

Real processes running the real pipeline over real files into real DuckDB files.
``tests/test_crash.py`` covers the store with a fast test pipeline; here it is the command
a user runs.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import eventwire
from eventwire.config import Options, resolve_options
from eventwire.store import Store

ROOT = Path(__file__).resolve().parents[1]
N_FILES = 40

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

SENTENCES = (
    "Government forces shelled the town of Saraqib on Tuesday, killing {n} civilians.",
    "Rebels attacked an army checkpoint near Idlib, residents said.",
    "Hundreds of protesters gathered in Baghdad on Friday to demand jobs.",
    "Turkey sent a convoy of {n} armoured vehicles to the border.",
    "The talks between the two delegations ended without an agreement.",
)


def write_corpus(folder: Path, n: int) -> None:
    """``n`` distinct news texts, one per file, some in HTML."""
    folder.mkdir()
    rng = random.Random(n)
    for i in range(n):
        picked = rng.sample(SENTENCES, k=rng.randint(2, 5))
        text = f"Report {i}. " + " ".join(s.format(n=i + 2) for s in picked)
        if i % 4 == 0:
            (folder / f"a{i:03d}.html").write_text(f"<html><body><p>{text}</p></body></html>")
        else:
            (folder / f"a{i:03d}.txt").write_text(text)


def ingest_cmd(gazetteer: Path, corpus: Path, db: Path) -> list[str]:
    """The command line of one ingest."""
    return [sys.executable, "-m", "eventwire.cli", "--gazetteer", str(gazetteer),
            "ingest", str(corpus), "--db", str(db), "--quiet"]  # fmt: skip


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the commands: a config file of their own, whose small batches make
    an ingest of ``N_FILES`` articles several write transactions (places to be killed in)."""
    config = tmp_path / "xdg" / "eventwire" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[eventwire]\nbatch_size = 4\n", encoding="utf-8")
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def store_state(db: Path) -> dict[str, list[str]]:
    """article_id -> its event ids, after checking that only whole articles are stored.

    The store is opened the way the commands open it (a store killed while it was being
    created is completed then).
    """
    options = resolve_options(env={}, config_file=None, db=db)
    with Store(db, options=options) as store:
        con = store.conn
        mismatched = con.execute(
            "SELECT count(*) FROM articles a WHERE n_events <> "
            "(SELECT count(*) FROM events e WHERE e.article_id = a.article_id)"
        ).fetchone()
        orphans = con.execute(
            "SELECT count(*) FROM events WHERE article_id NOT IN (SELECT article_id FROM articles)"
        ).fetchone()
        twice = con.execute(
            "SELECT count(*) - count(DISTINCT article_id), count(*) - count(DISTINCT locator) "
            "FROM articles"
        ).fetchone()
        rows = con.execute(
            "SELECT a.article_id, list(e.event_id ORDER BY e.event_id) FILTER "
            "(WHERE e.event_id IS NOT NULL) FROM articles a LEFT JOIN events e "
            "USING (article_id) GROUP BY a.article_id"
        ).fetchall()
    assert mismatched == (0,), "an article is stored without all of its events"
    assert orphans == (0,), "events of an article that is not stored"
    assert twice == (0, 0), "an article is stored twice"
    return {article_id: list(events or []) for article_id, events in rows}


def wal_size(db: Path) -> int:
    """Bytes in the store's write-ahead log (committed articles land there first)."""
    wal = db.with_name(db.name + ".wal")
    return wal.stat().st_size if wal.exists() else 0


def test_ingest_killed_at_random_moments_then_rerun_stores_each_article_once(
    tmp_path: Path, gazetteer_path: Path, options: Options
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, N_FILES)
    db = tmp_path / "store.duckdb"
    env = cli_env(tmp_path)
    cmd = ingest_cmd(gazetteer_path, corpus, db)
    rng = random.Random(8)
    previous = 0
    kills = 0
    # Kills while the command starts, while it loads the model and in the middle of writing.
    for when in ("start", "write", "write"):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if when == "start":
            time.sleep(rng.uniform(0.2, 1.5))
        else:
            threshold = wal_size(db) + rng.randint(1_000, 12_000)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if wal_size(db) > threshold:
                    time.sleep(rng.uniform(0.0, 0.2))
                    break
                time.sleep(0.01)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=30)
        if db.exists():
            stored = len(store_state(db))
            assert previous <= stored <= N_FILES
            previous = stored
    assert kills == 3, "the ingest finished before it could be killed"
    assert 0 < previous < N_FILES

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"stored {N_FILES - previous} articles"), done.stdout
    assert f"{previous} duplicate, 0 rejected" in done.stdout
    killed_state = store_state(db)
    assert len(killed_state) == N_FILES

    # The same corpus ingested without interruption gives exactly the same store.
    clean_db = tmp_path / "clean.duckdb"
    with eventwire.open(clean_db, options=replace(options, db=clean_db)) as store:
        assert store.ingest([str(corpus)]).stored == N_FILES
    assert store_state(clean_db) == killed_state
    assert sum(len(v) for v in killed_state.values()) > N_FILES


def test_second_ingest_on_a_busy_store_fails_with_one_line(
    tmp_path: Path, gazetteer_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, N_FILES)
    db = tmp_path / "store.duckdb"
    env = cli_env(tmp_path)
    first = subprocess.Popen(ingest_cmd(gazetteer_path, corpus, db), env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not db.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() is None, "the first ingest ended before the second could start"
        other = tmp_path / "other"
        write_corpus(other, 3)
        for args in (ingest_cmd(gazetteer_path, other, db),
                     [sys.executable, "-m", "eventwire.cli", "--gazetteer", str(gazetteer_path),
                      "events", "--db", str(db)]):  # fmt: skip
            second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
            assert second.returncode != 0
            lines = [line for line in second.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, second.stderr
            assert lines[0].startswith("eventwire: error: ")
            assert f"database {db} is in use by another process" in lines[0]
            assert f"PID {first.pid}" in lines[0]
            assert second.stdout == ""
        out, err = first.communicate(timeout=180)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, err
    assert out.startswith(f"stored {N_FILES} articles"), out
    state = store_state(db)
    assert len(state) == N_FILES  # nothing of the refused run slipped in
