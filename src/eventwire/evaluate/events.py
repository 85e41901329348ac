"""Event-coding evaluation on human-labelled data: PLOVER sentences and ACLED notes.

Both functions run a :class:`~eventwire.pipeline.Pipeline` over the gold texts and compare
the primary event of each text with the gold record. ACLED data is used for evaluation
only; :func:`acled_split` fixes, by a hash of each row's ``data_id``, which rows are the
held-out test part, so nothing tuned on the other part ever touches it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..actors import AliasTable, normalise_alias
from ..errors import InputError, OptionsError
from ..model import Article, Event
from ..ontology import normalise_type
from ..pipeline import Pipeline

__all__ = [
    "acled_actor",
    "acled_split",
    "evaluate_acled",
    "evaluate_plover",
    "macro_f1",
    "plover_split",
    "primary_event",
]

#: Share of ACLED rows (by hash of data_id) held out as the test split.
TEST_SHARE = 0.3
#: Share of PLOVER gold sentences (by hash of id) the classifier never trains on.
PLOVER_TEST_SHARE = 0.4
_REPORTED = ("reported", "ongoing")
_ACLED_PRIORITY = ("PROTEST", "ASSAULT", "COERCE")
_STATE_KINDS = {"state military", "police", "government"}
_ARMED_KINDS = {"rebels", "militia", "unknown armed group"}
_CIVIL_KINDS = {"civilians", "person", "ethnic group", "organization"}


def _kind_group(kind: str | None) -> str | None:
    if kind in _STATE_KINDS:
        return "state"
    if kind in _ARMED_KINDS:
        return "armed"
    if kind in _CIVIL_KINDS:
        return "civilians"
    return kind


def primary_event(events: Sequence[Event], prefer: Sequence[str] = ()) -> Event | None:
    """The event a single-event gold record is compared with.

    Reported or ongoing events first, then types in the order of ``prefer``, then
    confidence, then text order.
    """
    if not events:
        return None

    def key(item: tuple[int, Event]) -> tuple[int, int, float, int]:
        i, e = item
        rank = prefer.index(e.event_type) if e.event_type in prefer else len(prefer)
        return (0 if e.modality in _REPORTED else 1, rank, -e.confidence, i)

    return min(enumerate(events), key=key)[1]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-averaged F1 over the classes present in ``gold``."""
    classes = sorted(set(gold))
    if not classes:
        return 0.0
    scores = []
    for c in classes:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(scores) / len(scores)


def _confusion(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for g, p in zip(gold, predicted, strict=True):
        table[g][p] = table[g].get(p, 0) + 1
    return {g: dict(sorted(row.items())) for g, row in sorted(table.items())}


def _run(pipeline: Pipeline, articles: list[Article]) -> list[list[Event]]:
    out: list[list[Event]] = []
    for _, result in pipeline.run_many(articles):
        out.append(result if isinstance(result, list) else [])
    return out


# -- PLOVER -----------------------------------------------------------------------------


def _plover_records(path: str | Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(str(path), f"cannot read PLOVER records: {exc}") from exc
    return [r for r in data if r.get("event") not in (None, "DOCUMENT") and r.get("text")]


def _gold_actors(value: Any) -> list[dict[str, str]]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        return [value]
    return []


def _actor_matches(
    event: Event | None, role: int, gold: list[dict[str, str]], aliases: AliasTable
) -> bool:
    if event is None:
        return False
    name = getattr(event, f"actor{role}")
    text = getattr(event, f"actor{role}_text")
    country = getattr(event, f"actor{role}_country")
    if name is None:
        return False
    for g in gold:
        gtext = str(g.get("actorText", ""))
        code = str(g.get("code", ""))[:3].upper()
        entry = aliases.lookup(gtext) if gtext else None
        if entry is not None and entry.name == name:
            return True
        if country and code == country:
            return True
        a, b = normalise_alias(gtext), normalise_alias(text or "")
        if a and b and (a in b or b in a):
            return True
    return False


def plover_split(text: str) -> str:
    """``"test"`` or ``"train"``: the fixed split of a PLOVER gold sentence, by a hash of its
    text (the file codes some sentences more than once, one record per event, so splitting
    by record id would put one sentence on both sides).

    The event-type classifier trains on the ``"train"`` part only (see
    :mod:`eventwire.training`); report classifier-backed figures on ``"test"``.
    """
    digest = hashlib.sha1(text.strip().encode("utf-8")).digest()
    return "test" if digest[0] / 256 < PLOVER_TEST_SHARE else "train"


def evaluate_plover(
    pipeline: Pipeline, path: str | Path, *, split: str = "all", limit: int | None = None
) -> dict[str, Any]:
    """Score event typing and actors on the PLOVER gold-standard sentences.

    Older PLOVER labels are mapped to current types (DISAPPROVE -> ACCUSE, FIGHT -> ASSAULT,
    DEMAND -> REQUEST, INVESTIGATE -> ACCUSE).

    Args:
        pipeline: The pipeline to evaluate (any chain that adds events).
        path: ``PLOVER_GSR_CAMEO.json``.
        split: ``"test"`` (never trained on), ``"train"`` or ``"all"`` (the default).
        limit: Score only the first ``limit`` records (for quick checks).

    Returns:
        ``n``, ``type_accuracy`` (primary event), ``type_any`` (any event has the gold type),
        ``detected`` (share with at least one event), ``source_match`` / ``target_match``
        (over records with gold source / target), ``macro_f1`` and ``confusion`` (gold ->
        predicted -> count; "NONE" when no event).

    Raises:
        InputError: The file cannot be read.
        OptionsError: Unknown split.
    """
    if split not in ("test", "train", "all"):
        raise OptionsError(f"unknown split {split!r}; use test, train or all")
    records = [
        r for r in _plover_records(path) if split == "all" or plover_split(r["text"]) == split
    ]
    records = records[:limit] if limit else records
    articles = []
    for r in records:
        try:
            published = datetime.fromisoformat(str(r.get("date"))).replace(tzinfo=UTC)
        except ValueError:
            published = None
        articles.append(Article(r["text"], published=published, locator=r.get("id")))
    results = _run(pipeline, articles)
    aliases = pipeline.context.aliases
    gold, pred = [], []
    any_hit = detected = 0
    src_n = src_hit = tar_n = tar_hit = 0
    for record, events in zip(records, results, strict=True):
        g = normalise_type(record["event"])
        main = primary_event(events)
        gold.append(g)
        pred.append(main.event_type if main else "NONE")
        detected += bool(events)
        any_hit += any(e.event_type == g for e in events)
        same = next((e for e in events if e.event_type == g), main)
        sources, targets = _gold_actors(record.get("source")), _gold_actors(record.get("target"))
        if sources:
            src_n += 1
            src_hit += _actor_matches(same, 1, sources, aliases)
        if targets:
            tar_n += 1
            tar_hit += _actor_matches(same, 2, targets, aliases)
    n = len(records)
    return {
        "n": n,
        "split": split,
        "type_accuracy": sum(a == b for a, b in zip(gold, pred, strict=True)) / n if n else 0.0,
        "type_any": any_hit / n if n else 0.0,
        "detected": detected / n if n else 0.0,
        "macro_f1": macro_f1(gold, pred),
        "source_match": src_hit / src_n if src_n else 0.0,
        "target_match": tar_hit / tar_n if tar_n else 0.0,
        "confusion": _confusion(gold, pred),
    }


# -- ACLED ------------------------------------------------------------------------------


def acled_split(data_id: str) -> str:
    """``"test"`` or ``"dev"``: the fixed split of an ACLED row, from a hash of its id."""
    digest = hashlib.sha1(str(data_id).encode("utf-8")).digest()
    return "test" if digest[0] / 256 < TEST_SHARE else "dev"


#: "Military Forces of Brazil (2019-) Military Police": the state, then the years of the
#: government, then the branch or faction.
_MILITARY = re.compile(
    r"^(?:Military|Police) Forces of (.+?)(?:\s*\([^)]*\)(?:\s+.*)?)?(?:\s+-.*)?$"
)
_PAREN = re.compile(r"^(.*?)\s*\((.*?)\)\s*$")
_GENERIC_ACLED = {
    "protesters": "protesters",
    "rioters": "rioters",
    "civilians": "civilians",
    "unidentified armed group": "unknown armed group",
    "unidentified gang": "unknown armed group",
    "unidentified communal militia": "militia",
}


def acled_actor(
    name: str, iso3: str | None, aliases: AliasTable
) -> tuple[str | None, str | None, str | None]:
    """Resolve an ACLED actor name to ``(canonical name, country, kind)`` using ACLED's
    naming conventions ("Military Forces of Nigeria (2015-)", "Protesters (Kenya)") and
    the alias table."""
    name = name.strip()
    if not name:
        return None, None, None
    if m := _MILITARY.match(name):
        entry = aliases.lookup(m.group(1))
        kind = "police" if name.startswith("Police") else "state military"
        country = entry.country if entry else iso3
        return (entry.name if entry else m.group(1)), country, kind
    base = name
    if m := _PAREN.match(name):
        base = m.group(1)
    low = base.casefold()
    for prefix, kind in _GENERIC_ACLED.items():
        if low.startswith(prefix):
            return None, iso3, kind
    if "militia" in low:
        return None, iso3, "militia"
    for part in re.split(r"\s+-\s+|:\s+", base):
        entry = aliases.lookup(part)
        if entry is not None:
            return entry.name, entry.country, entry.kind
    return base, iso3, None


def _actor1_match(event: Event | None, gold: tuple[str | None, str | None, str | None]) -> bool:
    if event is None or event.actor1 is None:
        return False
    name, country, kind = gold
    if name is not None and event.actor1 == name:
        return True
    if kind is None:
        return bool(
            name
            and event.actor1_text
            and normalise_alias(name) in normalise_alias(event.actor1_text)
        )
    if _kind_group(event.actor1_kind) != _kind_group(kind):
        return False
    return event.actor1_country in (None, country) or country is None


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _acled_rows(path: str | Path) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, csv.Error) as exc:
        raise InputError(str(path), f"cannot read ACLED rows: {exc}") from exc


def _rows(path: str | Path, split: str, limit: int | None) -> list[dict[str, str]]:
    if split not in ("test", "dev", "all"):
        raise OptionsError(f"unknown split {split!r}; use test, dev or all")
    rows = [
        r for r in _acled_rows(path)
        if r.get("notes") and (split == "all" or acled_split(r["data_id"]) == split)
    ]  # fmt: skip
    return rows[:limit] if limit else rows


def evaluate_acled(
    pipeline: Pipeline, path: str | Path, *, split: str = "test", limit: int | None = None
) -> dict[str, Any]:
    """Score event coding on ACLED ``notes`` against ACLED's own coding.

    Each note is one article published at the row's ``timestamp``; its primary event
    (violent and protest types preferred) is compared with the row.

    Args:
        pipeline: The pipeline to evaluate.
        path: ``acled_outside_middle_east.csv``.
        split: ``"test"`` (held out, the default), ``"dev"`` or ``"all"``.
        limit: Score only the first ``limit`` rows of the split.

    Returns:
        ``n``, ``event_type_accuracy``, ``event_type_macro_f1``, ``sub_event_type_macro_f1``,
        ``actor1_match``, ``event_date_exact``, ``fatalities_exact``, ``detected``,
        ``within_25km`` / ``within_161km`` (over events that have coordinates) and
        ``within_25km_of_all`` / ``within_161km_of_all`` (over all rows),
        ``confusion`` (ACLED event_type -> predicted -> count).

    Raises:
        InputError: The file cannot be read.
        OptionsError: Unknown split.
    """
    rows = _rows(path, split, limit)
    articles = []
    for r in rows:
        try:
            published = datetime.fromtimestamp(int(r["timestamp"]), tz=UTC)
        except (KeyError, ValueError):
            published = None
        articles.append(Article(r["notes"], published=published, locator=r["data_id"]))
    results = _run(pipeline, articles)
    aliases = pipeline.context.aliases
    g_type, p_type, g_sub, p_sub = [], [], [], []
    actor_hits = date_hits = fatal_hits = detected = 0
    located = near25 = near161 = 0
    for row, events in zip(rows, results, strict=True):
        main = primary_event(events, _ACLED_PRIORITY)
        detected += main is not None
        g_type.append(row["event_type"])
        g_sub.append(row["sub_event_type"])
        p_type.append(main.acled_event_type or "NONE" if main else "NONE")
        p_sub.append(main.acled_sub_event_type or "NONE" if main else "NONE")
        gold_actor = acled_actor(row["actor1"], row.get("iso3"), aliases)
        actor_hits += _actor1_match(main, gold_actor)
        gold_date = _acled_date(row["event_date"])
        date_hits += main is not None and main.event_date == gold_date
        fatalities = max((e.fatalities or 0 for e in events), default=0)
        fatal_hits += fatalities == int(row["fatalities"] or 0)
        if main is not None and main.latitude is not None and main.longitude is not None:
            located += 1
            km = _haversine(main.latitude, main.longitude, float(row["latitude"]),
                            float(row["longitude"]))  # fmt: skip
            near25 += km <= 25
            near161 += km <= 161
    n = len(rows)

    def share(x: int) -> float:
        return x / n if n else 0.0

    return {
        "n": n,
        "split": split,
        "detected": share(detected),
        "event_type_accuracy": share(sum(a == b for a, b in zip(g_type, p_type, strict=True))),
        "event_type_macro_f1": macro_f1(g_type, p_type),
        "sub_event_type_macro_f1": macro_f1(g_sub, p_sub),
        "sub_event_type_accuracy": share(sum(a == b for a, b in zip(g_sub, p_sub, strict=True))),
        "actor1_match": share(actor_hits),
        "event_date_exact": share(date_hits),
        "fatalities_exact": share(fatal_hits),
        "located": share(located),
        "within_25km": near25 / located if located else 0.0,
        "within_161km": near161 / located if located else 0.0,
        "within_25km_of_all": share(near25),
        "within_161km_of_all": share(near161),
        "confusion": _confusion(g_type, p_type),
    }


def _acled_date(text: str) -> date | None:
    for fmt in ("%d-%b-%y", "%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def format_report(result: dict[str, Any], keys: Iterable[str] | None = None) -> str:
    """The figures of an evaluation result as aligned ``name value`` lines, then the
    confusion matrix."""
    lines = []
    for key in keys or [k for k in result if k != "confusion"]:
        value = result[key]
        lines.append(f"{key:26} {value:.3f}" if isinstance(value, float) else f"{key:26} {value}")
    confusion = result.get("confusion") or {}
    labels = sorted({p for row in confusion.values() for p in row} | set(confusion))
    if labels:
        width = max(len(x) for x in labels) + 1
        lines.append("confusion (rows gold, columns predicted):")
        lines.append(" " * width + " ".join(f"{x[:6]:>6}" for x in labels))
        for g in sorted(confusion):
            row = confusion[g]
            lines.append(f"{g:{width}}" + " ".join(f"{row.get(p, 0):>6}" for p in labels))
    return "\n".join(lines)
