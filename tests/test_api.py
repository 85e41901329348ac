"""The Python entry points: extract, geoparse and open, as the README shows them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import eventwire
from eventwire.config import Options
from eventwire.model import EVENT_KEYS

ROOT = Path(__file__).resolve().parents[1]


def test_extract_text_gives_events_with_provenance(options: Options, seed_text: str) -> None:
    events = eventwire.extract(seed_text, published="2020-12-10", url="https://x.example/a",
                               options=options)
    assert len(events) >= 6
    for event in events:
        record = event.to_dict()
        assert list(record) == list(EVENT_KEYS)
        assert seed_text[event.start:event.end] == event.sentence
        assert event.url == "https://x.example/a"
        assert record["published"].startswith("2020-12-10")
        if event.trigger_start is not None:
            assert seed_text[event.trigger_start:event.trigger_end] == event.trigger
        assert 0.0 <= event.confidence <= 1.0


def test_extract_html_uses_the_page_date_unless_given(options: Options) -> None:
    html = (ROOT / "examples").glob("*.html")
    page = sorted(html)[0].read_text(encoding="utf-8")
    from_page = eventwire.extract(page, options=options)
    assert from_page and all(e.published is not None for e in from_page)
    overridden = eventwire.extract(page, published="2001-02-03", options=options)
    assert all(e.published.date() == date(2001, 2, 3) for e in overridden)


def test_extract_empty_text_is_an_input_error(options: Options) -> None:
    with pytest.raises(eventwire.InputError):
        eventwire.extract("   \n ", options=options)


def test_geoparse_returns_resolved_toponyms(options: Options) -> None:
    text = "Fighting was reported in Aleppo and near Homs, while talks continued in Geneva."
    found = eventwire.geoparse(text, options=options)
    names = {t.text: t for t in found}
    assert {"Aleppo", "Homs", "Geneva"} <= set(names)
    assert names["Aleppo"].country == "SYR" and names["Geneva"].country == "CHE"
    for t in found:
        assert text[t.start:t.end] == t.text
    assert eventwire.geoparse("", options=options) == []


def test_open_ingest_paths_and_query(options: Options, tmp_path: Path) -> None:
    with eventwire.open(tmp_path / "s.duckdb", options=options) as store:
        report = store.ingest([str(ROOT / "examples")])
        assert report.stored >= 6 and report.rejected == 0
        assault = store.events(type="ASSAULT")
        assert assault and {e.event_type for e in assault} == {"ASSAULT"}
        again = store.ingest([ROOT / "examples"])
        assert again.stored == 0 and again.duplicates == report.stored
