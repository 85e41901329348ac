"""Scoring geoparsing on third-party labelled data (evaluation only; nothing here is trained).

* Toponym resolution on GeoWebNews, GeoVirus and US local news: given the gold spans, the
  distance from each predicted point to the gold point; accuracy@161 km, median error and
  the AUC of the log-error curve (Gritta et al., "A pragmatic guide to geoparsing
  evaluation", 2019). An unresolved toponym counts as the largest possible error.
* Toponym recognition: span precision, recall and F1 of :func:`find_toponyms` against the
  gold spans (exact and overlapping).
* Event location on ``event-location/sentences.jsonl``: given the sentence and its event
  verb, whether the chosen place overlaps a gold LOCATION span.

Each ``evaluate_*`` function takes an open :class:`~eventwire.gazetteer.Gazetteer` and a
loaded spaCy pipeline and returns a dict of figures.
"""

from __future__ import annotations

import json
import math
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..eventplace import event_place
from ..gazetteer import Gazetteer, haversine_km
from ..geoparsing import find_toponyms, resolve_spans
from ..model import Event, Toponym
from . import data_path

__all__ = [
    "GoldDocument",
    "GoldToponym",
    "evaluate_event_location",
    "evaluate_geovirus",
    "evaluate_geowebnews",
    "evaluate_us_localnews",
    "load_geovirus",
    "load_geowebnews",
    "load_us_localnews",
    "resolution_scores",
    "span_scores",
]

#: Largest distance on Earth (km): the error of an unresolved toponym.
MAX_ERROR_KM = 20_039.0
ACCURACY_KM = 161.0


@dataclass(frozen=True, slots=True)
class GoldToponym:
    """A labelled place-name span; ``latitude``/``longitude`` are None when not geocoded."""

    start: int
    end: int
    text: str
    latitude: float | None
    longitude: float | None
    kind: str = ""


@dataclass(slots=True)
class GoldDocument:
    """A text with its labelled toponyms."""

    text: str
    toponyms: list[GoldToponym] = field(default_factory=list)
    country_hint: str | None = None


def _default(path: str | Path | None, relative: str) -> Path:
    if path is not None:
        return Path(path)
    return data_path(relative)


def _parse_xml(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise InputError(str(path), f"cannot read the evaluation XML: {exc}") from exc


def _float(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


#: GeoWebNews types that are not place names (common nouns, demonyms, languages...).
GWN_NOT_NAMES = frozenset({"Non_Lit_Expression", "Literal_Expression", "Non_Toponym",
                           "Demonym", "Language", "Homonym"})


def load_geowebnews(path: str | Path | None = None) -> list[GoldDocument]:
    """Articles of GeoWebNews (``geowebnews/GWN.xml``) with their toponym spans.

    Only spans that are place names are kept (not GWN's common-noun expressions, demonyms
    or languages); spans without coordinates are kept for recognition scoring.
    """
    root = _parse_xml(_default(path, "geowebnews/GWN.xml"))
    docs = []
    for art in root.iter("article"):
        text = art.findtext("text") or ""
        gold = []
        for t in art.iter("toponym"):
            kind = t.findtext("type") or ""
            if kind in GWN_NOT_NAMES:
                continue
            start, end = int(t.findtext("start") or 0), int(t.findtext("end") or 0)
            gold.append(GoldToponym(start, end, text[start:end], _float(t.findtext("latitude")),
                                    _float(t.findtext("longitude")), kind))
        docs.append(GoldDocument(text, sorted(gold, key=lambda g: g.start)))
    return docs


def load_geovirus(path: str | Path | None = None) -> list[GoldDocument]:
    """Items of GeoVirus (``geovirus/GeoVirus.xml``).

    Its offsets are one too high (the name is ``text[start-1:end-1]``); they are corrected.
    """
    root = _parse_xml(_default(path, "geovirus/GeoVirus.xml"))
    docs = []
    for art in root.iter("article"):
        text = art.findtext("text") or ""
        gold = []
        for loc in art.iter("location"):
            start, end = int(loc.findtext("start") or 1) - 1, int(loc.findtext("end") or 1) - 1
            gold.append(GoldToponym(start, end, text[start:end], _float(loc.findtext("lat")),
                                    _float(loc.findtext("lon")), "location"))
        docs.append(GoldDocument(text, sorted(gold, key=lambda g: g.start)))
    return docs


def load_us_localnews(
    folder: str | Path | None = None, *, labels: Sequence[str] = ("GPE", "LOC", "FAC")
) -> list[GoldDocument]:
    """US local news toponyms (``toponym-us-localnews/``): one document per labelled entity,
    made of its context sentences, with every occurrence of the entity as a gold span.

    The outlets are US local newspapers, so each document carries the hint ``"US"``.
    """
    base = _default(folder, "toponym-us-localnews")
    docs = []
    for label in labels:
        for file in sorted(base.glob(f"{label}_*.jsonl")):
            for line in file.read_text("utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                text = "".join(s["sent"] for s in row["context"]["sents"])
                name = row["entity"]
                lat, lon = row["lat_long"]
                gold = []
                at = text.find(name)
                while at >= 0:
                    gold.append(GoldToponym(at, at + len(name), name, lat, lon, label))
                    at = text.find(name, at + len(name))
                if gold:
                    docs.append(GoldDocument(text, gold, country_hint="US"))
    return docs


# ----------------------------------------------------------------------------- scoring
def resolution_scores(errors_km: Sequence[float]) -> dict[str, float]:
    """Accuracy@161 km, median error (km) and AUC of the log-error curve (lower is better).

    Args:
        errors_km: One distance per gold toponym; unresolved ones as :data:`MAX_ERROR_KM`.
    """
    n = len(errors_km)
    if n == 0:
        return {"n": 0, "accuracy_161km": 0.0, "median_km": 0.0, "auc": 1.0}
    scaled = sorted(math.log(1 + e) / math.log(1 + MAX_ERROR_KM) for e in errors_km)
    if n == 1:
        auc = scaled[0]
    else:
        auc = sum((scaled[i] + scaled[i + 1]) / 2 for i in range(n - 1)) / (n - 1)
    return {
        "n": n,
        "accuracy_161km": round(sum(e <= ACCURACY_KM for e in errors_km) / n, 4),
        "median_km": round(statistics.median(errors_km), 1),
        "auc": round(auc, 4),
    }


def span_scores(predicted: Iterable[tuple[int, ...]], gold: Iterable[tuple[int, ...]]
                ) -> dict[str, float]:
    """Span precision, recall and F1, exact and overlapping.

    Spans are tuples ending in ``(start, end)``; prefix them with a document number to pool
    several documents (only spans with equal prefixes can overlap).
    """
    pred, gold_set = set(predicted), set(gold)
    exact = len(pred & gold_set)
    overlap_p = sum(any(_overlaps(p, g) for g in gold_set) for p in pred)
    overlap_g = sum(any(_overlaps(p, g) for p in pred) for g in gold_set)
    return {
        "precision": _ratio(exact, len(pred)),
        "recall": _ratio(exact, len(gold_set)),
        "f1": _f1(_ratio(exact, len(pred)), _ratio(exact, len(gold_set))),
        "precision_overlap": _ratio(overlap_p, len(pred)),
        "recall_overlap": _ratio(overlap_g, len(gold_set)),
        "f1_overlap": _f1(_ratio(overlap_p, len(pred)), _ratio(overlap_g, len(gold_set))),
    }


def _overlaps(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return a[:-2] == b[:-2] and a[-2] < b[-1] and b[-2] < a[-1]


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


def _f1(p: float, r: float) -> float:
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def _error(t: Toponym, g: GoldToponym) -> float:
    if t.latitude is None or t.longitude is None or g.latitude is None or g.longitude is None:
        return MAX_ERROR_KM
    return haversine_km(t.latitude, t.longitude, g.latitude, g.longitude)


def _evaluate(docs: list[GoldDocument], gazetteer: Gazetteer, nlp: Any, *, recognition: bool,
              errors: list[float] | None = None) -> dict[str, Any]:
    pooled = errors if errors is not None else []
    errors = []
    by_kind: dict[str, list[float]] = {}
    pred_spans: list[tuple[int, int, int]] = []
    gold_spans: list[tuple[int, int, int]] = []
    for k, (doc, gold) in enumerate(zip(nlp.pipe(d.text for d in docs), docs, strict=True)):
        spans = [(g.start, g.end) for g in gold.toponyms]
        resolved = resolve_spans(doc, gazetteer, spans, country_hint=gold.country_hint,
                                 context=True)
        for t, g in zip(resolved, gold.toponyms, strict=True):
            if g.latitude is None:
                continue
            err = _error(t, g)
            errors.append(err)
            by_kind.setdefault(g.kind, []).append(err)
        if recognition:
            found = find_toponyms(doc, gazetteer, country_hint=gold.country_hint)
            pred_spans += [(k, t.start, t.end) for t in found]
            gold_spans += [(k, g.start, g.end) for g in gold.toponyms]
    pooled += errors
    out: dict[str, Any] = {"documents": len(docs), **resolution_scores(errors)}
    if len(by_kind) > 1:
        out["by_type"] = {kind: resolution_scores(v) for kind, v in sorted(by_kind.items())}
    if recognition:
        out["recognition"] = span_scores(pred_spans, gold_spans)
    return out


def evaluate_geowebnews(gazetteer: Gazetteer, nlp: Any, *, limit: int | None = None,
                        path: str | Path | None = None) -> dict[str, Any]:
    """Resolution (gold spans with coordinates) and recognition scores on GeoWebNews.

    Args:
        gazetteer: An open gazetteer.
        nlp: A loaded spaCy pipeline with NER and the parser.
        limit: Score only the first ``limit`` articles.
        path: ``GWN.xml``; defaults to ``../shared/data/geowebnews/GWN.xml``.
    """
    docs = load_geowebnews(path)[:limit]
    return _evaluate(docs, gazetteer, nlp, recognition=True)


def evaluate_geovirus(gazetteer: Gazetteer, nlp: Any, *, limit: int | None = None,
                      path: str | Path | None = None) -> dict[str, Any]:
    """Resolution and recognition scores on GeoVirus (offsets corrected)."""
    docs = load_geovirus(path)[:limit]
    return _evaluate(docs, gazetteer, nlp, recognition=True)


def evaluate_us_localnews(gazetteer: Gazetteer, nlp: Any, *, limit: int | None = None,
                          folder: str | Path | None = None,
                          labels: Sequence[str] = ("GPE", "LOC", "FAC")) -> dict[str, Any]:
    """Resolution scores on US local news, overall and per label (GPE, LOC, FAC)."""
    out: dict[str, Any] = {}
    errors: list[float] = []
    for label in labels:
        docs = load_us_localnews(folder, labels=(label,))[:limit]
        out[label] = _evaluate(docs, gazetteer, nlp, recognition=False, errors=errors)
    out["all"] = resolution_scores(errors)
    return out


def evaluate_event_location(gazetteer: Gazetteer, nlp: Any, *, limit: int | None = None,
                            path: str | Path | None = None) -> dict[str, Any]:
    """Event location on ``event-location/sentences.jsonl``.

    Each sentence has one event verb and 0..n LOCATION spans where that event happened. The
    sentence is geoparsed, an :class:`~eventwire.model.Event` is built on the verb, and
    :func:`~eventwire.eventplace.event_place` picks its place.

    Returns:
        ``accuracy`` (share of sentences with a gold location whose chosen place overlaps
        one), ``no_location_precision`` (share of sentences given no place that have none),
        ``no_location_recall`` and the counts.
    """
    file = _default(path, "event-location/sentences.jsonl")
    rows = []
    with open(file, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    hit = with_loc = none_pred = none_right = without = 0
    for doc, row in zip(nlp.pipe(r["text"] for r in rows), rows, strict=True):
        verb = next((s for s in row["spans"] if s["label"] == "VERB"), None)
        gold = [(s["start"], s["end"]) for s in row["spans"] if s["label"] == "LOCATION"]
        if verb is None:
            continue
        event = Event(event_type="", sentence=row["text"], start=0, end=len(row["text"]),
                      trigger_start=verb["start"], trigger_end=verb["end"])
        toponyms = find_toponyms(doc, gazetteer)
        place, _ = event_place(doc, event, toponyms, gazetteer)
        chosen = (place.start, place.end) if place is not None else None
        if gold:
            with_loc += 1
            if chosen is not None and any(chosen[0] < e and s < chosen[1] for s, e in gold):
                hit += 1
        else:
            without += 1
        if chosen is None:
            none_pred += 1
            none_right += not gold
    return {
        "sentences": len(rows),
        "with_location": with_loc,
        "accuracy": _ratio(hit, with_loc),
        "without_location": without,
        "no_location_precision": _ratio(none_right, none_pred),
        "no_location_recall": _ratio(none_right, without),
    }
