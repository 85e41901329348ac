"""Export formats: every key in order, values that survive the round trip, clear errors."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from eventwire.config import Options
from eventwire.errors import OptionsError
from eventwire.formats import (
    CLUSTER_TABLE_COLUMNS,
    FORMATS,
    REPORT_KEYS,
    TABLE_COLUMNS,
    TEXT_FORMATS,
    render,
    write_events,
)
from eventwire.model import CLUSTER_KEYS, EVENT_KEYS, Article, Event
from eventwire.store import Store

PUBLISHED = datetime(2020, 12, 10, 8, 30, tzinfo=UTC)


def make_event(**changes: object) -> Event:
    event = Event(
        event_type="ASSAULT",
        sentence='The SAA shelled Kafr A\'wid, "killing 3", locals said;\nmore later.',
        start=812,
        end=879,
        event_id="e1",
        article_id="a1",
        url="https://example.org/a?x=1,2",
        mode="shelling/artillery",
        modality="reported",
        actor1="Syria (military)",
        actor1_text="the SAA",
        actor1_country="SYR",
        actor1_kind="state military",
        place="Kafr Uwayd",
        place_text="Kafr A'wid",
        latitude=35.6412,
        longitude=36.5207,
        admin1="Idlib",
        country="SYR",
        geo_precision="exact place",
        event_date=date(2020, 12, 10),
        date_precision="day",
        published=PUBLISHED,
        fatalities=3,
        confidence=0.8,
        acled_event_type="Explosions/Remote violence",
        acled_sub_event_type="Shelling/artillery/missile attack",
        cameo_root="19",
        pipeline_version="0.1.0+abcd1234",
        trigger="shelled",
    )
    return replace(event, **changes)


@pytest.fixture
def events() -> list[Event]:
    return [
        make_event(),
        make_event(
            event_id="e2",
            event_type="THREATEN",
            modality="hypothetical",
            actor1="Turkey",
            actor2="SDF",
            actor2_text="Kurdish-led forces",
            place="Ayn Issa",
            latitude=None,
            longitude=None,
            fatalities=None,
            published=datetime(2020, 12, 10, 10, 30, tzinfo=timezone(timedelta(hours=2))),
            sentence="Turkey may soon launch a large-scale offensive on Ain Issa — عين عيسى.",
        ),
    ]


def test_the_format_names() -> None:
    assert FORMATS == ("table", "json", "jsonl", "csv", "geojson", "parquet")
    assert TEXT_FORMATS == FORMATS[:-1]


def test_json_is_a_list_of_objects_with_every_key_in_order(events: list[Event]) -> None:
    data = json.loads(render(events, "json"))
    assert [list(item) for item in data] == [list(EVENT_KEYS)] * 2
    assert data[0]["event_date"] == "2020-12-10"
    assert data[0]["published"] == "2020-12-10T08:30:00+00:00"
    assert data[1]["published"] == "2020-12-10T10:30:00+02:00"
    assert data[1]["latitude"] is None
    assert data[1]["sentence"].endswith("عين عيسى.")
    assert data == [e.to_dict() for e in events]


def test_jsonl_is_one_object_per_line(events: list[Event]) -> None:
    text = render(events, "jsonl")
    lines = text.splitlines()
    assert len(lines) == 2 and text.endswith("\n")
    assert [json.loads(line) for line in lines] == [e.to_dict() for e in events]
    assert list(json.loads(lines[0])) == list(EVENT_KEYS)
    assert render([], "jsonl") == ""


def test_csv_has_a_header_and_survives_commas_quotes_and_newlines(events: list[Event]) -> None:
    text = render(events, "csv")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(EVENT_KEYS)
    assert len(rows) == 3
    first = dict(zip(EVENT_KEYS, rows[1], strict=True))
    assert first["sentence"] == events[0].sentence
    assert first["url"] == "https://example.org/a?x=1,2"
    assert first["latitude"] == "35.6412"
    assert first["fatalities"] == "3"
    assert first["actor2"] == ""  # None is an empty cell
    assert first["published"] == "2020-12-10T08:30:00+00:00"
    assert render([], "csv") == ",".join(EVENT_KEYS) + "\n"


def test_geojson_points_are_longitude_first_and_unplaced_events_have_no_geometry(
    events: list[Event],
) -> None:
    data = json.loads(render(events, "geojson"))
    assert data["type"] == "FeatureCollection"
    placed, unplaced = data["features"]
    assert placed["type"] == "Feature"
    assert placed["geometry"] == {"type": "Point", "coordinates": [36.5207, 35.6412]}
    assert list(placed["properties"]) == list(EVENT_KEYS)
    assert placed["properties"] == events[0].to_dict()
    assert unplaced["geometry"] is None
    assert unplaced["properties"]["event_id"] == "e2"
    assert json.loads(render([], "geojson")) == {"type": "FeatureCollection", "features": []}


def test_geojson_needs_both_coordinates() -> None:
    data = json.loads(render([make_event(longitude=None)], "geojson"))
    assert data["features"][0]["geometry"] is None


def test_table_is_fixed_width_and_truncates_with_an_ellipsis(events: list[Event]) -> None:
    long_actor = "Hay'at Tahrir al-Sham and allied factions of the National Front"
    text = render([*events, make_event(actor1=long_actor, event_id="e3")], "table")
    header, rule, *rows = text.splitlines()
    assert header.split() == [title for title, _, _ in TABLE_COLUMNS]
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    assert len(starts) == len(TABLE_COLUMNS)
    for line in [header, *rows]:
        for start in starts[1:]:
            assert line[start - 2 : start] == "  "  # columns line up
    assert len(rows) == 3
    assert rows[0].startswith("2020-12-10  ASSAULT")
    assert "hypothetical" in rows[1] and "Turkey" in rows[1] and "SDF" in rows[1]
    width = dict((title, w) for title, w, _ in TABLE_COLUMNS)
    assert long_actor[: width["actor1"] - 1] + "…" in rows[2]
    assert long_actor not in rows[2]
    # The sentence column holds about 60 characters, on one line.
    assert "The SAA shelled Kafr A'wid" in rows[0]
    assert "more later" not in rows[0]
    assert max(len(line) for line in rows) <= len(rule)


def test_table_of_clusters_shows_report_counts_and_sources(events: list[Event]) -> None:
    cluster = make_event(
        cluster_id="c1",
        report_count=12,
        source="Daily Ledger, Morning Wire, Radio Sentinel, Valley News",
    )
    text = render([cluster], "table", keys=CLUSTER_KEYS)
    header, rule, row = text.splitlines()
    assert header.split() == [title for title, _, _ in CLUSTER_TABLE_COLUMNS]
    width = dict((title, w) for title, w, _ in CLUSTER_TABLE_COLUMNS)
    reports_at = header.index("reports")
    assert row[reports_at : reports_at + width["reports"]].strip() == "12"
    sources_at = header.index("sources")
    shown = row[sources_at : sources_at + width["sources"]]
    assert shown.startswith("Daily Ledger, Morning Wire") and shown.endswith("…")
    # Reports (even with their cluster's keys) keep the report table.
    assert render([cluster], "table", keys=REPORT_KEYS) == render([cluster], "table")


def test_reports_carry_their_cluster_in_every_format(tmp_path: Path) -> None:
    report = make_event(cluster_id="c9", report_count=3)
    assert REPORT_KEYS == (*EVENT_KEYS, "cluster_id", "report_count")
    as_json = json.loads(render([report], "json", keys=REPORT_KEYS))[0]
    assert list(as_json) == list(REPORT_KEYS)
    assert (as_json["cluster_id"], as_json["report_count"]) == ("c9", 3)
    row = next(csv.DictReader(io.StringIO(render([report], "csv", keys=REPORT_KEYS))))
    assert (row["cluster_id"], row["report_count"]) == ("c9", "3")
    path = tmp_path / "reports.parquet"
    write_events([report], "parquet", path, keys=REPORT_KEYS)
    with duckdb.connect() as conn:
        got = conn.execute("SELECT cluster_id, report_count FROM read_parquet(?)", [str(path)])
        assert got.fetchall() == [("c9", 3)]


def test_table_of_nothing() -> None:
    assert render([], "table") == "no events\n"


def test_table_of_an_event_with_no_optional_values() -> None:
    text = render([Event("PROTEST", "Crowds gathered.", 0, 16)], "table")
    row = text.splitlines()[2]
    assert row.startswith(" " * 10 + "  PROTEST") and row.endswith("Crowds gathered.")


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_write_events_to_a_stream_a_path_and_stdout(
    events: list[Event], fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = render(events, fmt)
    stream = io.StringIO()
    write_events(events, fmt, stream)
    assert stream.getvalue() == expected
    path = tmp_path / f"out.{fmt}"
    write_events(events, fmt, path)
    assert path.read_bytes() == expected.encode("utf-8")
    write_events(events, fmt, str(path))
    assert path.read_text(encoding="utf-8") == expected
    write_events(events, fmt, None)
    assert capsys.readouterr().out == expected


def test_parquet_keeps_types_and_values(events: list[Event], tmp_path: Path) -> None:
    path = tmp_path / "sub" / "events.parquet"
    write_events(events, "parquet", path)
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        relation = conn.execute("SELECT * FROM read_parquet(?)", [str(path)])
        names = [d[0] for d in relation.description]
        rows = relation.fetchall()
        described = conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])
        types = {row[0]: row[1] for row in described.fetchall()}
    assert names == list(EVENT_KEYS)
    assert types["event_date"] == "DATE"
    assert types["published"] == "TIMESTAMP WITH TIME ZONE"
    assert types["latitude"] == "DOUBLE"
    assert types["start"] == types["fatalities"] == "INTEGER"
    for event, row in zip(events, rows, strict=True):
        assert dict(zip(names, row, strict=True)) == {k: getattr(event, k) for k in EVENT_KEYS}


def test_parquet_of_no_events_has_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    write_events([], "parquet", str(path))
    with duckdb.connect() as conn:
        relation = conn.execute("SELECT * FROM read_parquet(?)", [str(path)])
        assert [d[0] for d in relation.description] == list(EVENT_KEYS)
        assert relation.fetchall() == []


def test_parquet_replaces_an_existing_file(events: list[Event], tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    write_events(events, "parquet", path)
    write_events(events[:1], "parquet", path)
    with duckdb.connect() as conn:
        assert conn.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone() == (1,)


@pytest.mark.parametrize("out", [None, "stream"])
def test_parquet_needs_a_file(events: list[Event], out: object) -> None:
    target = io.StringIO() if out == "stream" else None
    with pytest.raises(OptionsError, match="parquet is binary: give --output FILE"):
        write_events(events, "parquet", target)
    with pytest.raises(OptionsError, match="parquet is binary"):
        render(events, "parquet")


@pytest.mark.parametrize("fmt", ["xml", "JSON", "", "parquet "])
def test_an_unknown_format_lists_the_known_ones(events: list[Event], fmt: str) -> None:
    with pytest.raises(OptionsError, match="table, json, jsonl, csv, geojson, parquet"):
        write_events(events, fmt, io.StringIO())
    with pytest.raises(OptionsError, match="unknown format"):
        render(events, fmt)


def test_an_unwritable_path_is_an_options_error(events: list[Event], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OptionsError, match="cannot write"):
        write_events(events, "csv", blocker / "out.csv")
    with pytest.raises(OptionsError, match="cannot"):
        write_events(events, "parquet", blocker / "out.parquet")


def test_store_events_export_and_read_back(options: Options, tmp_path: Path) -> None:
    article = Article("The SAA shelled Kafr A'wid.", url="https://example.org/a")
    with Store(options.db, options=options) as store:
        store.add(
            article,
            [make_event(article_id=None), make_event(event_id="e9", article_id=None, start=1)],
        )
        stored = store.events()
    path = tmp_path / "all.parquet"
    write_events(stored, "parquet", path)
    with duckdb.connect() as conn:
        rows = conn.execute("SELECT event_id, article_id FROM read_parquet(?)", [path.as_posix()])
        assert rows.fetchall() == [("e9", article.article_id), ("e1", article.article_id)]
    assert [e["event_id"] for e in json.loads(render(stored, "json"))] == ["e9", "e1"]
