"""Quality gates for geoparsing: floors pinned a little below what the default index reaches.

Measured on subsets so the suite stays fast; raise a floor on purpose when quality improves
(see the report of ``eventwire eval geoparse`` for the whole sets).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from eventwire.evaluate.geo import (
    MAX_ERROR_KM,
    evaluate_event_location,
    evaluate_geovirus,
    evaluate_geowebnews,
    evaluate_us_localnews,
    load_geovirus,
    load_geowebnews,
    load_us_localnews,
    resolution_scores,
    span_scores,
)
from eventwire.gazetteer import Gazetteer
from eventwire.nlp import load


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load(frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer", "ner"}))


@pytest.fixture(scope="module")
def gaz(gazetteer_path: Path) -> Gazetteer:
    return Gazetteer.open(gazetteer_path)


# ----------------------------------------------------------------------- the metrics
def test_resolution_scores() -> None:
    scores = resolution_scores([0.0, 10.0, 200.0, MAX_ERROR_KM])
    assert scores["n"] == 4
    assert scores["accuracy_161km"] == 0.5
    assert scores["median_km"] == 105.0
    assert 0 < scores["auc"] < 1
    perfect = resolution_scores([0.0, 0.0])
    assert perfect["auc"] == 0.0 and perfect["accuracy_161km"] == 1.0
    worst = resolution_scores([MAX_ERROR_KM] * 3)
    assert math.isclose(worst["auc"], 1.0)
    assert resolution_scores([])["n"] == 0


def test_span_scores_exact_and_overlap() -> None:
    gold = [(0, 0, 5), (0, 10, 20), (1, 0, 5)]
    pred = [(0, 0, 5), (0, 12, 20), (1, 30, 35)]
    scores = span_scores(pred, gold)
    assert scores["precision"] == round(1 / 3, 4)
    assert scores["recall"] == round(1 / 3, 4)
    assert scores["precision_overlap"] == round(2 / 3, 4)
    assert scores["recall_overlap"] == round(2 / 3, 4)
    # Spans of different documents never overlap.
    assert span_scores([(0, 0, 5)], [(1, 0, 5)])["f1_overlap"] == 0.0


# ----------------------------------------------------------------------- the loaders
def test_loaders_read_the_shared_sets() -> None:
    gwn = load_geowebnews()
    assert len(gwn) == 200
    geo = [t for d in gwn for t in d.toponyms if t.latitude is not None]
    assert len(geo) == 2601
    assert all(d.text[t.start:t.end] == t.text for d in gwn for t in d.toponyms)
    virus = load_geovirus()
    assert len(virus) == 229 and sum(len(d.toponyms) for d in virus) == 2170
    # Offsets corrected: the span is the name (GeoVirus' own are one too high).
    first = virus[0].toponyms[0]
    assert first.text == "Pandi"
    local = load_us_localnews(labels=("GPE",))
    assert len(local) == 102 and all(d.country_hint == "US" for d in local)
    assert all(d.text[t.start:t.end] == t.text for d in local for t in d.toponyms)


# ----------------------------------------------------------------------- the floors
def test_geowebnews_floor(gaz: Gazetteer, nlp: Any) -> None:
    result = evaluate_geowebnews(gaz, nlp, limit=40)
    assert result["n"] >= 500
    assert result["accuracy_161km"] >= 0.85
    assert result["median_km"] <= 5
    assert result["recognition"]["f1_overlap"] >= 0.675


def test_geovirus_floor(gaz: Gazetteer, nlp: Any) -> None:
    result = evaluate_geovirus(gaz, nlp, limit=60)
    assert result["accuracy_161km"] >= 0.885
    assert result["recognition"]["f1_overlap"] >= 0.9


def test_us_localnews_floor(gaz: Gazetteer, nlp: Any) -> None:
    result = evaluate_us_localnews(gaz, nlp, limit=40, labels=("GPE",))
    assert result["GPE"]["accuracy_161km"] >= 0.81
    assert result["all"]["n"] == result["GPE"]["n"]


def test_event_location_floor(gaz: Gazetteer, nlp: Any) -> None:
    result = evaluate_event_location(gaz, nlp, limit=300)
    assert result["with_location"] > 150
    assert result["accuracy"] >= 0.89
    assert result["no_location_precision"] >= 0.91
