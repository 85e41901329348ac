"""Every command and format, through the real CLI, on real files and real DuckDB stores."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventwire.cli import cli
from eventwire.model import EVENT_KEYS

from .conftest import SEED

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def run(gazetteer_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke the CLI in-process with the session gazetteer and no user config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(cli, ["--gazetteer", str(gazetteer_path), *args], input=input,
                             catch_exceptions=False)

    return invoke


def _assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("eventwire: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_help_lists_every_command(run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for name in ("extract", "ingest", "events", "stats", "rejections", "stages"):
        assert name in result.output


def test_extract_seed_as_json(run) -> None:
    result = run("extract", str(SEED), "--format", "json", "--published", "2020-12-10")
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)
    assert len(events) >= 6
    text = SEED.read_text(encoding="utf-8")
    for event in events:
        assert list(event) == list(EVENT_KEYS)
        assert event["published"].startswith("2020-12-10")
        assert text[event["start"]:event["end"]] == event["sentence"]


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv", "geojson"])
def test_extract_formats(run, fmt: str) -> None:
    result = run("extract", str(SEED), "--format", fmt, "--published", "2020-12-10")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.splitlines()]
        assert rows and all(list(r) == list(EVENT_KEYS) for r in rows)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert rows and list(rows[0]) == list(EVENT_KEYS)
    elif fmt == "geojson":
        collection = json.loads(out)
        assert collection["type"] == "FeatureCollection" and collection["features"]
        located = [f for f in collection["features"] if f["geometry"]]
        assert located, "no event was geocoded"
        lon, lat = located[0]["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    else:
        assert "ASSAULT" in out


def test_extract_from_stdin(run) -> None:
    text = "Rebels attacked an army checkpoint near Aleppo on Monday, killing four soldiers."
    result = run("extract", "-", "--format", "json", "--published", "2021-03-03", input=text)
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)
    assert any(e["event_type"] == "ASSAULT" for e in events)


def test_extract_bad_inputs_give_one_line(run, tmp_path: Path) -> None:
    _assert_one_line_error(run("extract", str(tmp_path / "missing.txt")), "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    _assert_one_line_error(run("extract", str(empty)), "empty.txt")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    _assert_one_line_error(run("extract", str(binary)), "blob.txt")
    _assert_one_line_error(run("extract", str(SEED), "--published", "yesterday-ish"), "ISO 8601")


def test_ingest_query_and_reingest(run, tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    first = run("ingest", str(EXAMPLES), "--db", str(db))
    assert first.exit_code == 0, first.stderr
    assert "stored" in first.stdout and " 0 duplicate" in first.stdout
    stored = int(first.stdout.split("stored ", 1)[1].split(" ", 1)[0])
    assert stored >= 6

    again = run("ingest", str(EXAMPLES), "--db", str(db))
    assert again.exit_code == 0
    assert again.stdout.startswith("stored 0 articles") and f"{stored} duplicate" in again.stdout

    listed = run("events", "--db", str(db), "--format", "json")
    events = json.loads(listed.stdout)
    assert events and all(e["pipeline_version"] for e in events)
    types = {e["event_type"] for e in events}
    assert "ASSAULT" in types

    only = json.loads(run("events", "--db", str(db), "--type", "ASSAULT", "--format",
                          "json").stdout)
    assert only and {e["event_type"] for e in only} == {"ASSAULT"}
    limited = json.loads(run("events", "--db", str(db), "--limit", "2", "--format",
                             "json").stdout)
    assert len(limited) == 2

    stats = json.loads(run("stats", "--db", str(db), "--format", "json").stdout)
    assert stats["articles"] == stored


def test_events_filters_and_exports(run, tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    assert run("ingest", str(SEED), "--db", str(db)).exit_code == 0
    everything = json.loads(run("events", "--db", str(db), "--all", "--format", "json").stdout)
    default = json.loads(run("events", "--db", str(db), "--format", "json").stdout)
    assert len(default) <= len(everything)
    assert all(e["modality"] not in ("hypothetical", "negated") for e in default)

    syria = json.loads(run("events", "--db", str(db), "--country", "SYR", "--format",
                           "json").stdout)
    assert syria and all(e["country"] == "SYR" for e in syria)
    near = json.loads(run("events", "--db", str(db), "--near", "35.9,36.6,150", "--format",
                          "json").stdout)
    assert near and all(e["latitude"] is not None for e in near)
    by_actor = json.loads(run("events", "--db", str(db), "--actor", "syria", "--format",
                              "json").stdout)
    assert by_actor
    dated = json.loads(run("events", "--db", str(db), "--since", "1990-01-01", "--until",
                           "2100-01-01", "--format", "json").stdout)
    assert len(dated) == len([e for e in default if e["event_date"]])

    parquet = tmp_path / "events.parquet"
    result = run("events", "--db", str(db), "--format", "parquet", "-o", str(parquet))
    assert result.exit_code == 0, result.stderr
    import duckdb

    query = f"select count(*) from read_parquet('{parquet}')"
    count = duckdb.connect().execute(query).fetchone()[0]
    assert count == len(default)
    _assert_one_line_error(run("events", "--db", str(db), "--format", "parquet"), "parquet")
    _assert_one_line_error(run("events", "--db", str(db), "--near", "35,36"), "LAT,LON,KM")
    _assert_one_line_error(run("events", "--db", str(db), "--since", "12/01/2020"), "--since")
    _assert_one_line_error(run("events", "--db", str(tmp_path / "none.duckdb")), "no database")


def test_rejections_are_listed_and_the_batch_goes_on(run, tmp_path: Path) -> None:
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "good.txt").write_text(
        "Protesters marched through central Khartoum on Sunday demanding civilian rule, and "
        "police fired tear gas at the crowd.", encoding="utf-8")
    (corpus / "empty.txt").write_text("")
    (corpus / "broken.jsonl").write_text('{"text": "ok text about nothing"}\n{not json\n')
    db = tmp_path / "store.duckdb"
    result = run("ingest", str(corpus), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert "2 rejected" in result.stdout
    listed = run("rejections", "--db", str(db), "--format", "json")
    rows = json.loads(listed.stdout)
    assert {Path(r["locator"].split(":")[0]).name for r in rows} == {"empty.txt", "broken.jsonl"}
    assert all(r["reason"] for r in rows)
    table = run("rejections", "--db", str(db))
    assert "empty.txt" in table.stdout


def test_stages_lists_the_chain(run) -> None:
    result = run("stages")
    assert result.exit_code == 0
    assert "parse.spacy.v1" in result.stdout and "finalize.v1" in result.stdout


def test_interrupted_ingest_then_rerun_stores_each_article_once(
    tmp_path: Path, gazetteer_path: Path
) -> None:
    N = 300
    corpus = tmp_path / "corpus.jsonl"
    sentences = [
        "Government forces shelled the town of Saraqib on Tuesday, killing {n} civilians.",
        "Hundreds of protesters gathered in Baghdad on Friday to demand jobs; report {n}.",
        "Militants attacked a police post near Kidal, killing {n} officers.",
    ]
    with corpus.open("w") as fh:
        for i in range(N):
            text = " ".join(s.format(n=i + 2) for s in sentences)
            fh.write(json.dumps({"url": f"https://news.example/{i}", "text": text,
                                 "published": "2021-05-04"}) + "\n")
    db = tmp_path / "store.duckdb"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    cmd = [sys.executable, "-m", "eventwire.cli", "--gazetteer", str(gazetteer_path),
           "ingest", str(corpus), "--db", str(db), "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = db.with_name(db.name + ".wal")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        # committed articles show up in the write-ahead log first: kill mid-batch after some
        if wal.exists() and wal.stat().st_size > 20_000:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    import duckdb

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        counts = con.execute("select count(*), count(distinct url) from articles").fetchone()
        assert counts == (N, N)
        orphans = con.execute(
            "select count(*) from events e left join articles a using (article_id) "
            "where a.article_id is null").fetchone()[0]
        assert orphans == 0
        mismatched = con.execute(
            "select count(*) from articles a where n_events <> "
            "(select count(*) from events e where e.article_id = a.article_id)").fetchone()[0]
        assert mismatched == 0


def test_eval_events_prints_figures_and_confusion(run) -> None:
    from .conftest import DATA

    result = run("eval", "events", "plover", "--limit", "15", "--data", str(DATA))
    assert result.exit_code == 0, result.stderr
    assert "type_accuracy" in result.stdout and "confusion" in result.stdout
    as_json = run("eval", "events", "acled", "--limit", "10", "--data", str(DATA),
                  "--format", "json")
    figures = json.loads(as_json.stdout)["acled"]
    assert figures["n"] == 10 and 0.0 <= figures["event_type_accuracy"] <= 1.0
    _assert_one_line_error(run("eval", "events", "--data", str(DATA / "nowhere")), "nowhere")


def test_eval_events_scores_a_chosen_chain_of_stages(run) -> None:
    from .conftest import DATA

    def accuracy(*extra: str) -> float:
        result = run("eval", "events", "plover", "--limit", "12", "--data", str(DATA),
                     "--format", "json", *extra)  # fmt: skip
        assert result.exit_code == 0, result.stderr
        return float(json.loads(result.stdout)["plover"]["type_accuracy"])

    without_events = "parse.spacy.v1,language.detect.v1,toponyms.gazetteer.v1"
    assert accuracy("--stages", without_events) == 0.0  # no stage codes events
    assert accuracy() > 0.5
    _assert_one_line_error(run("eval", "events", "plover", "--stages", "parse.spacy.v1,nope",
                               "--data", str(DATA)), "unknown stage 'nope'")  # fmt: skip
    _assert_one_line_error(run("eval", "events", "--stages", " , ", "--data", str(DATA)),
                           "--stages")  # fmt: skip


REPORTS = [
    {"url": "https://a.example/1", "source": "Outlet A", "published": "2021-03-10",
     "text": "Syrian government forces shelled the town of Saraqib in Idlib province on Tuesday, "
             "killing five civilians, local medics said."},
    {"url": "https://b.example/7", "source": "Outlet B", "published": "2021-03-10",
     "text": "Regime artillery shelled Saraqib in Idlib province on Tuesday, killing five "
             "civilians, according to rescuers."},
    {"url": "https://c.example/3", "source": "Outlet C", "published": "2021-03-10",
     "text": "Hundreds of protesters marched in Baghdad on Monday against power cuts."},
]


def _reports(tmp_path: Path) -> Path:
    path = tmp_path / "reports.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REPORTS), encoding="utf-8")
    return path


def test_events_clusters_merge_reports_of_one_event(run, tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    assert run("ingest", str(_reports(tmp_path)), "--db", str(db)).exit_code == 0
    reports = json.loads(run("events", "--db", str(db), "--format", "json").stdout)
    clusters = json.loads(run("events", "--db", str(db), "--clusters", "--format",
                              "json").stdout)
    assert len(clusters) < len(reports)
    shelling = next(c for c in clusters if c["place"] and "Saraq" in c["place"])
    assert shelling["report_count"] == 2
    assert set(shelling["source"].split(", ")) == {"Outlet A", "Outlet B"}
    assert all(c["country"] in ("SYR", "IRQ") for c in clusters)

    # Every exported report names its cluster and that cluster's size, in every format.
    assert all(list(r) == [*EVENT_KEYS, "cluster_id", "report_count"] for r in reports)
    merged = [r for r in reports if r["cluster_id"] == shelling["cluster_id"]]
    assert {r["url"] for r in merged} == {"https://a.example/1", "https://b.example/7"}
    assert all(r["report_count"] == 2 for r in merged)
    by_cluster = {c["cluster_id"]: c["report_count"] for c in clusters}
    assert all(by_cluster[r["cluster_id"]] == r["report_count"] for r in reports)
    rows = list(csv.DictReader(io.StringIO(run("events", "--db", str(db), "--format",
                                               "csv").stdout)))
    assert {r["cluster_id"] for r in rows} == {r["cluster_id"] for r in reports}
    parquet = tmp_path / "reports.parquet"
    assert run("events", "--db", str(db), "--format", "parquet", "-o",
               str(parquet)).exit_code == 0  # fmt: skip
    import duckdb

    stored = duckdb.connect().execute(
        f"select cluster_id, report_count from read_parquet('{parquet}')").fetchall()
    assert sorted(stored) == sorted((r["cluster_id"], r["report_count"]) for r in reports)

    # The table of clusters shows how many reports each has and which outlets gave them.
    table = run("events", "--db", str(db), "--clusters").stdout.splitlines()
    assert table[0].split()[:3] == ["date", "type", "reports"] and "sources" in table[0]
    row = next(line for line in table if "Saraq" in line)
    assert " 2 " in row and "Outlet A, Outlet B" in row
    assert "reports" not in run("events", "--db", str(db)).stdout.splitlines()[0]


def test_eval_dedup_scores_the_clustering_of_generated_reports(run) -> None:
    from .conftest import DATA

    if not (DATA / "acled-dev").is_dir():
        pytest.skip("ACLED dev data not present")
    result = run("eval", "dedup", "--limit", "300", "--data", str(DATA))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("== dedup\n[test] reports ")
    assert "B-cubed" in result.stdout and "cross-country clusters 0" in result.stdout
    as_json = run("eval", "dedup", "--limit", "300", "--data", str(DATA), "--split", "dev",
                  "--split", "all", "--format", "json")  # fmt: skip
    figures = json.loads(as_json.stdout)["dedup"]
    assert list(figures) == ["dev", "all"]
    dev, every = figures["dev"], figures["all"]
    assert dev["reports"] < every["reports"] and dev["cross_country"] == 0
    assert 0.8 < every["bcubed_f1"] <= 1.0 and 0.0 < every["pairwise_f1"] <= 1.0
    # Another seed draws other reports; other parameters cluster them otherwise.
    other_seed = run("eval", "dedup", "--limit", "300", "--data", str(DATA), "--split", "all",
                     "--seed", "5", "--format", "json")  # fmt: skip
    assert json.loads(other_seed.stdout)["dedup"]["all"]["reports"] != every["reports"]
    from importlib import resources

    packaged = resources.files("eventwire").joinpath("data/cluster/params.toml").read_text()
    strict = Path("strict.toml")
    strict.write_text(packaged.replace("\nthreshold = ", "\nthreshold = 2.0 # "), "utf-8")
    alone = run("eval", "dedup", "--limit", "300", "--data", str(DATA), "--split", "all",
                "--params", str(strict), "--format", "json")  # fmt: skip
    singletons = json.loads(alone.stdout)["dedup"]["all"]
    assert singletons["clusters"] == singletons["reports"]
    assert singletons["bcubed_precision"] == 1.0
    Path("bad.toml").write_text("threshold = 0.5\n", "utf-8")
    _assert_one_line_error(run("eval", "dedup", "--data", str(DATA), "--params", "bad.toml"),
                           "invalid clustering parameters")
    _assert_one_line_error(run("eval", "dedup", "--data", str(DATA / "nowhere")), "nowhere")


def test_ingest_with_workers_stores_what_one_process_stores(run, tmp_path: Path) -> None:
    corpus = _reports(tmp_path)
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    assert run("ingest", str(corpus), "--db", str(one)).exit_code == 0
    result = run("ingest", str(corpus), "--db", str(two), "--workers", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("stored 3 articles")

    def ids(db: Path) -> list[str]:
        events = json.loads(run("events", "--db", str(db), "--all", "--format", "json").stdout)
        return sorted(e["event_id"] for e in events)

    assert ids(one) == ids(two)


def test_batch_load_and_query_parquet(run, tmp_path: Path) -> None:
    corpus = _reports(tmp_path)
    out = tmp_path / "batch"
    result = run("batch", str(corpus), "--out", str(out), "--workers", "1", "--quiet")
    assert result.exit_code == 0, result.stderr
    in_place = json.loads(run("events", "--parquet", str(out), "--format", "json").stdout)
    db = tmp_path / "loaded.duckdb"
    assert run("load", str(out), "--db", str(db)).exit_code == 0
    loaded = json.loads(run("events", "--db", str(db), "--format", "json").stdout)
    assert in_place and [e["event_id"] for e in in_place] == [e["event_id"] for e in loaded]
    _assert_one_line_error(run("events", "--parquet", str(out), "--clusters"), "--clusters")
