"""Reports of one real event across articles: scoring, clustering and canonical records.

The same shelling reported by ten outlets must count once, with ten sources. Two reports are
*compatible* when nothing rules out that they describe one event: same country, compatible
event type and modality, dates within a window set by the coarser date precision, points
within a distance set by the coarser geo precision. Compatible pairs get a score in 0..1 from
place, date, actors, type and sentence similarity; a report joins the best cluster whose score
reaches the threshold and where no member rules it out, or starts a new cluster.

Two layers share that logic:

* the pure core over :class:`~eventwire.model.Event` objects: :func:`compatible`,
  :func:`score`, :class:`Clusterer` (in-memory, incremental, blocked by country, time bucket and
  grid cell so it stays near-linear) and :func:`canonical`;
* the DuckDB layer the store calls: :func:`migrate_clusters_v2` creates the ``clusters`` table
  and backfills, :func:`assign` clusters one article's freshly inserted events by looking only at
  stored events in their time/space block, and :func:`load_clusters` reads canonical records.

Thresholds and type groups are data (``data/cluster/params.toml``).
"""

from __future__ import annotations

import math
import re
import statistics
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from sys import intern
from typing import Any

from .errors import OptionsError, StoreError
from .model import GEO_PRECISIONS, Event

__all__ = [
    "CLUSTER_COLUMNS",
    "ClusterParams",
    "Clusterer",
    "assign",
    "canonical",
    "cluster_events",
    "compatible",
    "credible_fatalities",
    "haversine_km",
    "load_clusters",
    "migrate_clusters_v2",
    "score",
]

_EARTH_KM = 6371.0088
_KM_PER_DEG = 111.195
_COARSE = ("admin1", "country")
_NEVER_MERGED = frozenset({"hypothetical", "negated"})
_WORD = re.compile(r"\w+")
# Words that say nothing about which event a sentence describes.
_STOP = frozenset(
    "a an the of in on at to for from by with and or but as is are was were be been being has "
    "have had it its this that these those there their they them he she his her who which what "
    "when where said says say told reported report according also after before during into over "
    "near about than then while since per least more some other one two three".split()
)


# ---------------------------------------------------------------------------- parameters


@dataclass(frozen=True, slots=True)
class ClusterParams:
    """Thresholds of the clustering, from ``data/cluster/params.toml`` unless given.

    Attributes:
        version: Versioned name of the method; stored with every cluster.
        threshold: Score a report needs to join a cluster.
        max_members: Members of a candidate cluster compared with a new report.
        ambiguity_margin: A vague report fitting two clusters within this margin joins none.
        member_floor: A report joins a cluster only if it scores at least this with every
            member compared.
        vague_text_min: Text similarity below which a pair whose coarser place is a
            province or country loses 0.15 (no detail ties them).
        radius_km: Largest distance between two reports' points, by the coarser precision.
        same_place_km: Points this close are one place whatever their names.
        date_slack_days: Half-width of each date precision, in days.
        date_error_days: Days two reports' dates may differ beyond their precisions when
            they name the same place and share details.
        error_text_min: Text similarity such a pair needs.
        error_place_min: Place score such a pair needs (1.0: the same named place).
        weights: Weights of the place, date, actors, type and text scores.
        same_toll_bonus: Added to a pair's score when both give the same death toll: a toll
            of one, and a larger one.
        type_groups: Groups of event types one real event may be coded as.
        violent_protest: Modes and actor kinds that make a ``PROTEST`` report violent, and
            the types another outlet may code that violence as.
        modality_groups: Groups of modalities one real event may be reported with.
    """

    version: str
    threshold: float
    max_members: int
    ambiguity_margin: float
    member_floor: float
    vague_text_min: float
    radius_km: dict[str, float]
    same_place_km: float
    date_slack_days: dict[str, int]
    date_error_days: int
    error_text_min: float
    error_place_min: float
    weights: dict[str, float]
    same_toll_bonus: tuple[float, float]
    type_groups: tuple[frozenset[str], ...]
    violent_protest: dict[str, frozenset[str]]
    modality_groups: tuple[frozenset[str], ...]

    @classmethod
    def load(cls, text: str | None = None) -> ClusterParams:
        """Parse parameters from TOML text (default: the packaged ``params.toml``).

        Raises:
            OptionsError: The TOML is invalid or lacks a key.
        """
        if text is None:
            return _default_params()
        try:
            raw = tomllib.loads(text)
            return cls(
                version=str(raw["version"]),
                threshold=float(raw["threshold"]),
                max_members=int(raw["max_members"]),
                ambiguity_margin=float(raw["ambiguity_margin"]),
                member_floor=float(raw["member_floor"]),
                vague_text_min=float(raw["vague_text_min"]),
                radius_km={k: float(v) for k, v in raw["radius_km"].items()},
                same_place_km=float(raw["same_place_km"]["value"]),
                date_slack_days={k: int(v) for k, v in raw["date_slack_days"].items()},
                date_error_days=int(raw["date_error_days"]["value"]),
                error_text_min=float(raw["date_error_days"]["text_min"]),
                error_place_min=float(raw["date_error_days"]["place_min"]),
                weights={k: float(v) for k, v in raw["weights"].items()},
                same_toll_bonus=(
                    float(raw["same_toll_bonus"]["one"]),
                    float(raw["same_toll_bonus"]["more"]),
                ),
                type_groups=tuple(frozenset(g) for g in raw["types"]["groups"]),
                violent_protest={
                    k: frozenset(raw["types"]["violent_protest"][k])
                    for k in ("modes", "kinds", "types")
                },
                modality_groups=tuple(frozenset(g) for g in raw["modalities"]["groups"]),
            )
        except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise OptionsError(
                f"invalid clustering parameters: {exc!r}; see data/cluster/params.toml for the "
                "expected keys"
            ) from exc

    def radius(self, precision: str | None) -> float:
        """Radius (km) of a geo precision; unknown precision counts as ``admin2``."""
        return self.radius_km.get(precision or "admin2", self.radius_km["admin2"])

    def slack(self, precision: str | None) -> int:
        """Half-width (days) of a date precision; unknown counts as ``week``."""
        days = self.date_slack_days.get(precision or "week")
        return self.date_slack_days["week"] if days is None else days

    def pair_slack(self, a: str | None, b: str | None) -> int:
        """Largest gap (days) between two reports' dates that their precisions allow."""
        return self.slack(a) + self.slack(b)


@lru_cache(maxsize=1)
def _default_params() -> ClusterParams:
    text = resources.files("eventwire").joinpath("data/cluster/params.toml").read_text("utf-8")
    return ClusterParams.load(text)


# ---------------------------------------------------------------------------- features


def _fold(text: str) -> str:
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _tokens(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    # Five-letter prefixes: a crude stem that makes "shelled"/"shelling", "killed"/"killing"
    # and most spelling variants of long names meet. Interned: the vocabulary is small, and
    # a million stored reports then share their words instead of holding a copy each.
    return frozenset(intern(w[:5]) for w in _WORD.findall(_fold(text)) if w not in _STOP)


@lru_cache(maxsize=65536)
def _name_tokens(text: str | None) -> frozenset[str]:
    """Tokens of a name (actor, place): few distinct values, so cached."""
    return _tokens(text)


@lru_cache(maxsize=1)
def _generic_words() -> frozenset[str]:
    text = resources.files("eventwire").joinpath("data/cluster/generic_words.txt")
    words = (line.strip() for line in text.read_text("utf-8").splitlines())
    return _tokens(" ".join(w for w in words if w and not w.startswith("#")))


def _content(event: Event) -> frozenset[str]:
    """Words of the sentence that may tell one event from another of its kind: not generic
    news words, not the actors' or places' names (scored on their own), not the day."""
    words = (_tokens(event.sentence) | _tokens(event.trigger)) - _generic_words()
    for name in ("actor1", "actor1_text", "actor2", "actor2_text", "place", "place_text",
                 "admin1", "admin2"):  # fmt: skip
        known = _name_tokens(getattr(event, name))
        if not words.isdisjoint(known):
            words = words - known
    if isinstance(event.event_date, date):
        words = words - {str(event.event_date.day)}
    return words


def _precision_rank(precision: str | None) -> int:
    if precision in GEO_PRECISIONS:
        return GEO_PRECISIONS.index(precision)
    return GEO_PRECISIONS.index("admin2")


def _geo(event: Event) -> str:
    """Geo precision actually usable: an event without a point is country-level."""
    if event.latitude is None or event.longitude is None:
        return "country"
    return event.geo_precision or "admin2"


def _coarser_geo(a: str, b: str) -> str:
    return a if _precision_rank(a) >= _precision_rank(b) else b


_DATE_ORDER = ("day", "week", "month")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


#: Letter groups that romanisations of one name render differently (Cyrillic, Arabic,
#: Persian, Pashto and African names through English, French or German spelling): each is
#: mapped to one spelling, longest first. "Novorossiya"/"Noworossiia", "Al Shabaab"/
#: "Al Chabab", "Djibo"/"Jibo", "Kandahar"/"Qandahar" meet.
_SPELLINGS = (
    ("dzh", "j"), ("tch", "s"), ("sch", "s"), ("kh", "h"), ("gh", "g"), ("sh", "s"),
    ("ch", "s"), ("zh", "j"), ("dj", "j"), ("ph", "f"), ("tz", "ts"), ("ou", "u"),
    ("ck", "k"), ("y", "i"), ("w", "v"), ("q", "k"), ("c", "k"),
)  # fmt: skip
_DOUBLED = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def _spelling_key(word: str) -> str:
    """One folded word reduced to a key its romanisation variants share (doubled letters
    collapsed: "Shabaab"/"Shabab", "Novorossiia"/"Novorossiya")."""
    for a, b in _SPELLINGS:
        if a in word:
            word = word.replace(a, b)
    return _DOUBLED.sub(r"\1", word)


@lru_cache(maxsize=65536)
def _name_key(text: str | None) -> str:
    """A name reduced to what its spelling variants share: folded, romanisation variants
    mapped to one spelling, and word breaks dropped ("Zone-Kala"/"Zone Kala")."""
    return "".join(_spelling_key(w) for w in _WORD.findall(_fold(text))) if text else ""


@lru_cache(maxsize=65536)
def _actor_words(name: str | None, surface: str | None) -> frozenset[str]:
    """Words of an actor's names, as spelling keys cut to five letters."""
    words = (w for text in (name, surface) if text for w in _WORD.findall(_fold(text)))
    return frozenset(intern(_spelling_key(w)[:5]) for w in words if w not in _STOP)


_Actor = tuple[str, frozenset[str], str | None, str | None]


@lru_cache(maxsize=65536)
def _actors(
    name1: str | None,
    surface1: str | None,
    country1: str | None,
    kind1: str | None,
    name2: str | None,
    surface2: str | None,
    country2: str | None,
    kind2: str | None,
) -> tuple[tuple[_Actor, ...], tuple[int, ...]]:
    """The actors of a report (label, words, country, kind) and their roles (1 or 2).

    Cached: actors recur from report to report, and a million stored reports then share
    these tuples instead of holding their own (fewer objects for the garbage collector to
    walk on each full collection, whose cost grows with everything stored).
    """
    actors: list[_Actor] = []
    roles: list[int] = []
    for role, name, surface, country, kind in (
        (1, name1, surface1, country1, kind1),
        (2, name2, surface2, country2, kind2),
    ):
        if not (name or surface):
            continue
        actors.append((_name_key(name or surface), _actor_words(name, surface), country, kind))
        roles.append(role)
    return tuple(actors), tuple(roles)


@dataclass(slots=True)
class _Report:
    """An event with the features clustering needs, computed once."""

    event: Event
    key: str
    article: str
    country: str | None
    day: int | None
    date_precision: str
    geo: str
    lat: float | None
    lon: float | None
    place: str
    admin1: str
    admin2: str
    modality: str
    event_type: str
    mode: str | None
    fatalities: int | None
    actors: tuple[tuple[str, frozenset[str], str | None, str | None], ...]
    #: Content words: a frozenset while the report is scored, a tuple once it is stored.
    text: frozenset[str] | tuple[str, ...]
    cluster: str | None = None
    #: Role (1 or 2) of each of ``actors``.
    roles: tuple[int, ...] = ()
    #: The members of its cluster once stored (the list :attr:`Clusterer.members` holds).
    group: list[_Report] | None = None

    @classmethod
    def of(cls, event: Event, key: str) -> _Report:
        actors, roles = _actors(
            event.actor1, event.actor1_text, event.actor1_country, event.actor1_kind,
            event.actor2, event.actor2_text, event.actor2_country, event.actor2_kind,
        )  # fmt: skip
        day = event.event_date.toordinal() if isinstance(event.event_date, date) else None
        geo = _geo(event)
        return cls(
            event=event,
            key=key,
            article=event.article_id or key,
            country=event.country,
            day=day,
            date_precision=event.date_precision or "week",
            geo=geo,
            lat=event.latitude if geo != "country" else None,
            lon=event.longitude if geo != "country" else None,
            place=_name_key(event.place),
            admin1=_name_key(event.admin1),
            admin2=_name_key(event.admin2),
            modality=event.modality or "reported",
            event_type=event.event_type,
            mode=event.mode,
            fatalities=event.fatalities,
            actors=actors,
            text=_content(event),
            cluster=event.cluster_id,
            roles=roles,
        )


# ---------------------------------------------------------------------------- pair scores


def _violent_protest(r: _Report, params: ClusterParams) -> bool:
    v = params.violent_protest
    return r.mode in v["modes"] or any(x[3] in v["kinds"] for x in r.actors)


def _types_compatible(ra: _Report, rb: _Report, params: ClusterParams) -> float:
    a, b = ra.event_type, rb.event_type
    if a == b:
        return 1.0
    if any(a in g and b in g for g in params.type_groups):
        return 0.5
    # A riot one outlet codes as a protest, another as the assault it was.
    violent_types = params.violent_protest["types"]
    for x, y in ((ra, rb), (rb, ra)):
        if x.event_type == "PROTEST" and y.event_type in violent_types:
            if _violent_protest(x, params):
                return 0.5
    return 0.0


def _modalities_compatible(a: str, b: str, params: ClusterParams) -> bool:
    if a in _NEVER_MERGED or b in _NEVER_MERGED:
        return False
    return a == b or any(a in g and b in g for g in params.modality_groups)


def _place_score(a: _Report, b: _Report, params: ClusterParams) -> float | None:
    """Place agreement in 0..1, or None when the places rule out one event."""
    coarse = _coarser_geo(a.geo, b.geo)
    if coarse == "country":
        return 0.5
    assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
    dist = haversine_km(a.lat, a.lon, b.lat, b.lon)
    if coarse == "admin1":
        if a.admin1 and b.admin1:
            return 0.6 if a.admin1 == b.admin1 else None
        return 0.55 if dist <= params.radius("admin1") else None
    if coarse == "admin2":
        if dist > params.radius("admin2"):
            return None
        if a.admin2 and b.admin2:
            return 0.75 if a.admin2 == b.admin2 else None
        if a.admin1 and b.admin1 and a.admin1 != b.admin1:
            return None
        return 0.7
    # Both are named places (exact or near).
    if dist <= params.same_place_km or (a.place and a.place == b.place):
        return 1.0
    limit = params.radius(coarse)
    if dist > limit or (a.geo == b.geo == "exact place"):
        return None
    # Two different named places, one given as "near": possible ("near X" vs "in Y") but
    # rare next to distinct events in neighbouring villages on one day: negative evidence.
    return -0.1 * dist / limit


def _actor_pair(
    x: tuple[str, frozenset[str], str | None, str | None],
    y: tuple[str, frozenset[str], str | None, str | None],
    rarity: dict[str, float] | None = None,
) -> float:
    if x[0] and x[0] == y[0]:
        # A name many clusters of the block share ("protesters") is weaker evidence.
        return 0.6 + 0.4 * rarity.get("@" + x[0], 1.0) if rarity else 1.0
    if x[1] and y[1]:
        overlap = len(x[1] & y[1]) / min(len(x[1]), len(y[1]))
        if overlap >= 0.5:
            return 0.6 + 0.4 * overlap
    if x[3] and x[3] == y[3]:
        # Same kind ("protesters"/"demonstrators"): likely the same actor unless their
        # countries are known and differ.
        if x[2] and y[2]:
            return 0.6 if x[2] == y[2] else 0.0
        return 0.5
    return 0.0


def _actor_score(a: _Report, b: _Report, rarity: dict[str, float] | None = None) -> float:
    """Actor agreement in 0..1; 0.5 when either side names no actor (no evidence either way)."""
    if not a.actors or not b.actors:
        return 0.5
    small, large = (a.actors, b.actors) if len(a.actors) <= len(b.actors) else (b.actors, a.actors)
    # Roles may be swapped between outlets ("clashes between X and Y"): match as sets.
    matched = sum(max(_actor_pair(x, y, rarity) for y in large) for x in small) / len(small)
    if matched < 0.5 and a.roles and b.roles and set(a.roles).isdisjoint(b.roles):
        # One report names only the attacker, the other only the victim: nothing compared,
        # so no evidence either way (not a contradiction).
        return 0.5
    return matched


_Words = frozenset[str] | tuple[str, ...]


def _shared(x: _Words, y: _Words) -> frozenset[str]:
    """Words two reports share (a stored report holds its words as a tuple, see
    :meth:`Clusterer._insert`)."""
    if isinstance(x, frozenset):
        return x.intersection(y)
    if isinstance(y, frozenset):
        return y.intersection(x)
    return frozenset(x).intersection(y)


def _text_score(a: _Report, b: _Report, rarity: dict[str, float] | None = None) -> float:
    """Dice coefficient of the two sentences' content words, each weighted by ``rarity``
    (words many neighbouring clusters share, such as a daily bulletin's wording, count less).

    Not the overlap over the shorter sentence: a template sentence with three content words
    would then match any longer one that contains them as fully as its own copy does.
    """
    if not a.text or not b.text:
        return 0.0
    common = _shared(a.text, b.text)
    if rarity is None:
        return 2 * len(common) / (len(a.text) + len(b.text))
    # fsum: exact whatever the order of the sets, which Python varies between processes
    # (string hashing); a plain sum could tip a score across a threshold in one run only.
    shared = math.fsum(rarity.get(w, 1.0) for w in common)
    total = math.fsum(rarity.get(w, 1.0) for w in a.text) + math.fsum(
        rarity.get(w, 1.0) for w in b.text
    )
    return 2 * shared / total


def _same_toll(fa: int | None, fb: int | None, params: ClusterParams) -> float:
    """Bonus for two reports giving the same death toll (a shared detail, as a rare word is;
    a toll of one is common, so it counts less)."""
    if not fa or fa != fb:
        return 0.0
    return params.same_toll_bonus[0 if fa == 1 else 1]


def _fatality_conflict(fa: int | None, fb: int | None) -> bool:
    if fa is None or fb is None:
        return False
    lo, hi = sorted((fa, fb))
    # "Nobody was killed" against a toll is a contradiction whatever the toll.
    return hi > 3 * lo + 5 or (lo == 0 and hi > 0)


def _pair(
    a: _Report,
    b: _Report,
    params: ClusterParams,
    rarity: dict[str, float] | None = None,
    *,
    only_candidate: bool = False,
) -> float | None:
    """Score of one pair of reports, or None when they cannot be one event.

    ``only_candidate``: ``b``'s cluster is the only one in ``a``'s block that ``a`` is
    compatible with, so a vague report needs no shared detail to tell which event it is.
    """
    if a.article == b.article:
        return None
    if a.country != b.country:  # never across countries; unknown only with unknown
        return None
    if a.day is None or b.day is None:
        return None
    if not _modalities_compatible(a.modality, b.modality, params):
        return None
    type_score = _types_compatible(a, b, params)
    if type_score == 0.0:
        return None
    slack = params.pair_slack(a.date_precision, b.date_precision)
    gap = abs(a.day - b.day)
    if gap > slack + params.date_error_days:
        return None
    place = _place_score(a, b, params)
    if place is None:
        return None
    text = _text_score(a, b, rarity)
    if gap > slack:
        # Beyond both precisions: only a misread day ("yesterday" against the wrong date)
        # of the same place told with the same details.
        if place < params.error_place_min or text < params.error_text_min:
            return None
        date_score = 0.0
    else:
        date_score = 1.0 if gap == 0 else max(0.0, 1.0 - gap / (slack + 1))
    actors = _actor_score(a, b, rarity)
    mode_conflict = bool(a.mode and b.mode and a.mode != b.mode)
    if a.mode and a.mode == b.mode:
        type_score = min(1.0, type_score + 0.25) if type_score < 1.0 else 1.0
    w = params.weights
    total = (
        w["place"] * place
        + w["date"] * date_score
        + w["actors"] * actors
        + w["type"] * type_score
        + w["text"] * text
    )
    if mode_conflict:
        # Told as done by other means ("shelling" against "small arms"): a detail that
        # disagrees, weighed as a shared one is.
        total -= params.same_toll_bonus[1]
    if _fatality_conflict(a.fatalities, b.fatalities):
        total -= 0.1
    else:
        total += _same_toll(a.fatalities, b.fatalities, params)
    if (
        _coarser_geo(a.geo, b.geo) in _COARSE
        and text < params.vague_text_min
        and not only_candidate
    ):
        # "Clashes in Donetsk province" fits every clash there that day: without a shared
        # detail, a province- or country-level report is no evidence of this event.
        total -= 0.15
    return total


def compatible(a: Event, b: Event, params: ClusterParams | None = None) -> bool:
    """Whether nothing rules out that ``a`` and ``b`` report one real event."""
    p = params or _default_params()
    return _pair(_Report.of(a, "a"), _Report.of(b, "b"), p) is not None


def score(a: Event, b: Event, params: ClusterParams | None = None) -> float | None:
    """Score in 0..1 that ``a`` and ``b`` report one real event; None when incompatible."""
    p = params or _default_params()
    return _pair(_Report.of(a, "a"), _Report.of(b, "b"), p)


# ---------------------------------------------------------------------------- clusterer


def _cluster_id_for(event_key: str) -> str:
    return "c" + event_key[:19]


def _first_report(r: _Report) -> tuple[bool, float, str]:
    """Order of reports for naming a cluster: the earliest published first, then by key."""
    published = r.event.published
    return (published is None, published.timestamp() if published else 0.0, r.key)


def _in_block(r: _Report, m: _Report, params: ClusterParams) -> bool:
    """Whether ``m`` is near enough ``r`` in time and space to be compared at all: the
    country, the dates their precisions allow, and (unless one place is a province or a
    country) the radius of the coarser place."""
    if r.country != m.country or r.day is None or m.day is None:
        return False
    slack = params.pair_slack(r.date_precision, m.date_precision) + params.date_error_days
    if abs(r.day - m.day) > slack:
        return False
    coarse = _coarser_geo(r.geo, m.geo)
    if coarse in _COARSE:
        return True
    assert r.lat is not None and r.lon is not None and m.lat is not None and m.lon is not None
    return haversine_km(r.lat, r.lon, m.lat, m.lon) <= params.radius(coarse)


@dataclass(slots=True)
class _Bucket:
    """The reports of one country, date precision and time bucket (see :class:`Clusterer`)."""

    every: list[_Report] = field(default_factory=list)
    coarse: list[_Report] = field(default_factory=list)
    cells: dict[tuple[int, int], list[_Report]] = field(default_factory=dict)


def _is_precise(r: _Report) -> bool:
    return r.geo in ("exact place", "near place") and r.date_precision == "day"


@dataclass
class Clusterer:
    """Incremental in-memory clustering, blocked by country, time bucket and grid cell.

    Each report is indexed under its country, date precision, geo precision, a time bucket as
    wide as its date slack and (for precise places) a grid cell as wide as its radius; a new
    report looks only at the buckets and cells it could match, so the work per report depends
    on how many reports fall in its block, not on how many are stored.

    Args:
        params: Clustering parameters; defaults to the packaged ones.
    """

    params: ClusterParams = field(default_factory=_default_params)
    members: dict[str, list[_Report]] = field(default_factory=dict)
    _index: dict[tuple[str | None, str, int], _Bucket] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)
    _present: set[tuple[str | None, str]] = field(default_factory=set)
    #: Cluster ids that no longer exist since creation (merged into another cluster, or
    #: renamed because a member with a smaller key joined): old id -> current id.
    merged: dict[str, str] = field(default_factory=dict)
    _absorbed: dict[str, list[str]] = field(default_factory=dict)

    # -- index layout
    # Reports are indexed by (country, date precision, time bucket); within a bucket, those
    # with a point at most a district wide by grid cell (cells as wide as the district radius,
    # the largest distance two such reports may be apart), coarser ones in a list of their
    # own. A precise query reads its 3 x 3 cells and the coarse reports of its buckets; a
    # coarse query reads every report of its buckets. Two levels rather than one table keyed
    # by cell: the table of buckets stays small however many reports are stored, and a
    # report in publication order only touches recent buckets, so the work per report does
    # not grow with the store (one flat table of every cell made lookups slower as it grew).

    def _bucket_days(self, date_precision: str) -> int:
        return 2 * self.params.slack(date_precision) + 2

    def _cell_deg(self) -> float:
        return self.params.radius("admin2") / _KM_PER_DEG

    def _candidates(self, r: _Report) -> list[_Report]:
        assert r.day is not None
        precise = r.geo not in _COARSE and r.lat is not None and r.lon is not None
        out: list[_Report] = []
        get = self._index.get
        error = self.params.date_error_days
        for dp in _DATE_ORDER:
            if (r.country, dp) not in self._present:
                continue
            width = self._bucket_days(dp)
            slack = self.params.pair_slack(dp, r.date_precision) + error
            buckets = range((r.day - slack) // width, (r.day + slack) // width + 1)
            if not precise:
                for b in buckets:
                    found = get((r.country, dp, b))
                    if found is not None:
                        out.extend(found.every)
                continue
            assert r.lat is not None and r.lon is not None
            size = self._cell_deg()
            # The cells the box of one district radius around the point overlaps.
            lon_reach = size / max(math.cos(math.radians(r.lat)), 0.05)
            rows = range(math.floor((r.lat - size) / size), math.floor((r.lat + size) / size) + 1)
            cols = range(
                math.floor((r.lon - lon_reach) / size), math.floor((r.lon + lon_reach) / size) + 1
            )
            for b in buckets:
                found = get((r.country, dp, b))
                if found is None:
                    continue
                out.extend(found.coarse)
                cells = found.cells
                for y in rows:
                    for x in cols:
                        out.extend(cells.get((y, x), ()))
        return out

    def seed(self, event: Event) -> None:
        """Index an event that already has a ``cluster_id`` (from the store) without scoring."""
        key = event.event_id or f"e{len(self._seen)}"
        if key in self._seen:
            return
        r = _Report.of(event, key)
        r.cluster = event.cluster_id or _cluster_id_for(key)
        self._insert(r)

    def _insert(self, r: _Report) -> None:
        assert r.cluster is not None
        # A tuple of strings is not tracked by the garbage collector (a frozenset always is):
        # every full collection walks what is tracked, so a million stored reports holding
        # sets would make each collection, and so each report, cost more as the store grows.
        r.text = tuple(r.text)
        self._seen.add(r.key)
        # Each report holds its cluster's member list: scoring a block reads the members of
        # its clusters through their reports, not through ``members`` (with a million reports
        # stored, each look-up in that table is a cache miss: the work per report grew with
        # the store).
        group = self.members.get(r.cluster)
        if group is None:
            group = self.members[r.cluster] = []
        group.append(r)
        r.group = group
        if r.day is not None:
            self._present.add((r.country, r.date_precision))
            key = (r.country, r.date_precision, r.day // self._bucket_days(r.date_precision))
            bucket = self._index.get(key)
            if bucket is None:
                bucket = self._index[key] = _Bucket()
            bucket.every.append(r)
            if r.geo not in _COARSE and r.lat is not None and r.lon is not None:
                size = self._cell_deg()
                cell = (math.floor(r.lat / size), math.floor(r.lon / size))
                bucket.cells.setdefault(cell, []).append(r)
            else:
                bucket.coarse.append(r)

    def block(self, event: Event) -> list[Event]:
        """The clustered events ``event`` is compared with: those in its country, time
        buckets and grid cells (everything else is never looked at)."""
        r = _Report.of(event, event.event_id or "?")
        if r.day is None:
            return []
        return list({id(c): c.event for c in self._candidates(r)}.values())

    def best_cluster(self, event: Event) -> tuple[str | None, float]:
        """The cluster ``event`` would join and its score, or ``(None, 0.0)``."""
        fits = self._fits(_Report.of(event, event.event_id or "?"))
        return fits[0] if fits else (None, 0.0)

    def _fit(
        self,
        r: _Report,
        members: list[_Report],
        rarity: dict[str, float] | None = None,
        *,
        only_candidate: bool = False,
    ) -> float:
        """Best score of ``r`` with ``members``, or -1 when one of them rules it out."""
        params = self.params
        if len(members) > params.max_members:
            members = sorted(members, key=lambda m: _precision_rank(m.geo))
            members = members[: params.max_members]
        top = 0.0
        precise = _is_precise(r)
        agree = -1  # members dated to the day of ``r``, counted when first needed
        for m in members:
            s = _pair(r, m, params, rarity, only_candidate=only_candidate)
            if s is None and m.date_precision == "day" and m.day != r.day:
                # A member whose day most of the cluster contradicts (a misread "yesterday")
                # does not rule out a report that agrees with the rest.
                if agree < 0:
                    agree = sum(1 for x in members if x.day == r.day and x.date_precision == "day")
                if (
                    agree
                    and sum(1 for x in members if x.day == m.day and x.date_precision == "day")
                    < agree
                    and _pair(
                        r, replace(m, day=r.day), params, rarity, only_candidate=only_candidate
                    )
                    is not None
                ):
                    continue
            # Every member must be compatible, and precise members a fair fit for a precise
            # report: a vague report in the cluster must not bridge two distinct events.
            if s is None or (precise and s < params.member_floor and _is_precise(m)):
                return -1.0
            top = max(top, s)
        return top

    def _fits(self, r: _Report) -> list[tuple[str, float]]:
        """Clusters ``r`` could join, best first."""
        if r.day is None or r.modality in _NEVER_MERGED:
            return []
        # The block is exactly the reports that pass _in_block, whichever index found them,
        # so the store (which reads a box from DuckDB) and memory see the same block.
        groups: dict[str, list[_Report]] = {}
        for c in self._candidates(r):
            if c.cluster and c.cluster not in groups and _in_block(r, c, self.params):
                assert c.group is not None
                groups[c.cluster] = c.group
        clusters = list(groups)
        # How many clusters of the block use each of this report's words: a word in several
        # (a bulletin's fixed wording) says little about which one this report belongs to.
        counts: Counter[str] = Counter()
        names = {"@" + x[0] for x in r.actors if x[0]}
        for cid in clusters:
            words: set[str] = set()
            for m in groups[cid]:
                words.update(m.text)
                words |= {"@" + x[0] for x in m.actors if x[0]}
            counts.update(words & names.union(r.text))
        rarity = {w: 1.0 / n for w, n in counts.items() if n > 1}
        tops = {cid: self._fit(r, groups[cid], rarity) for cid in clusters}
        open_ = [cid for cid, top in tops.items() if top >= 0]
        if len(open_) == 1 and r.geo in _COARSE:
            # The only cluster of the block this province- or country-level report is
            # compatible with: it needs no shared detail to say it is that one.
            cid = open_[0]
            tops[cid] = self._fit(r, groups[cid], rarity, only_candidate=True)
        fits = [(cid, top) for cid, top in tops.items() if top >= self.params.threshold]
        fits.sort(key=lambda f: (-f[1], f[0]))
        return fits

    def _mergeable(self, a: str, b: str) -> bool:
        """Whether two clusters a precise report fits can be one event: no cross pair rules
        it out (and precise cross pairs are a fair fit)."""
        return all(self._fit(r, self.members[a]) >= 0 for r in self.members[b])

    def _merge(self, into: str, other: str) -> None:
        """Move the members of ``other`` into ``into`` (which may be new: a rename)."""
        moved = self.members.pop(other)
        target = self.members.get(into)
        if target is None:  # a rename: the list moves as it is
            target = self.members[into] = moved
        else:
            target.extend(moved)
        for m in moved:
            m.cluster = into
            m.event.cluster_id = into
            m.group = target
        # Keep every absorbed id pointing at the cluster that holds its members now.
        absorbed = self._absorbed.pop(other, [])
        absorbed.append(other)
        for old in absorbed:
            self.merged[old] = into
        self._absorbed.setdefault(into, []).extend(absorbed)
        self.merged.pop(into, None)

    def _settle(self, cid: str, group: list[_Report]) -> str:
        """Give cluster ``cid`` (members ``group``) the id its members imply (see :meth:`add`);
        returns it."""
        want = _cluster_id_for(min(group, key=_first_report).key)
        if want == cid or want in self.members:
            # ``want in self.members``: a stored cluster named by an older scheme holds that
            # id already (never the case with ids derived from members); keep ``cid``.
            return cid
        self._merge(want, cid)
        return want

    def add(self, event: Event) -> str:
        """Cluster one event: join the best compatible cluster or start a new one.

        When the event fits two clusters that turn out to be one event (every cross pair
        compatible), they are merged first. A vague event (district, province or country;
        week or month) that fits two distinct clusters about equally well starts its own.

        A cluster's id is derived from its first report (earliest published, then smallest
        ``event_id``), so it names the same set of reports whatever order they were ingested
        in, and later reports joining it never rename it: ids stay stable on a live feed.
        When an earlier report arrives late (an archive loaded after the feed), or two
        clusters merge, the cluster takes the new first report's id and :attr:`merged` maps
        the old ids to it.

        Sets ``event.cluster_id`` and returns it. An event already added keeps its cluster.
        """
        key = event.event_id or f"e{len(self._seen)}"
        if event.cluster_id and key in self._seen:
            return event.cluster_id
        r = _Report.of(event, key)
        fits = self._fits(r)
        cid = fits[0][0] if fits else None
        if len(fits) > 1:
            first, second = fits[0][0], fits[1][0]
            if _is_precise(r) and self._mergeable(first, second):
                self._merge(first, second)
                cid = first
            else:
                if not _is_precise(r) and fits[0][1] - fits[1][1] < self.params.ambiguity_margin:
                    cid = None
        r.cluster = cid or _cluster_id_for(key)
        event.cluster_id = r.cluster
        self._insert(r)
        assert r.group is not None
        return self._settle(r.cluster, r.group)

    def cluster_of(self, cluster_id: str) -> list[Event]:
        """The member events of one cluster, in the order they were added."""
        return [m.event for m in self.members.get(cluster_id, [])]


def cluster_events(
    events: Iterable[Event], params: ClusterParams | None = None
) -> dict[str, list[Event]]:
    """Cluster events in the order given (their ``cluster_id`` and ``report_count`` are set).

    Args:
        events: Events, typically in publication order.
        params: Clustering parameters; defaults to the packaged ones.

    Returns:
        Cluster id -> member events.
    """
    clusterer = Clusterer(params or _default_params())
    for event in events:
        clusterer.add(event)
    out = {cid: [m.event for m in ms] for cid, ms in clusterer.members.items()}
    for members in out.values():
        count = _report_count(members)
        for event in members:
            event.report_count = count
    return out


# ---------------------------------------------------------------------------- canonical


def _report_count(members: Sequence[Event]) -> int:
    return len({m.article_id or m.event_id or id(m) for m in members})


def credible_fatalities(values: Iterable[int | None]) -> int | None:
    """The largest credible fatality figure among reports.

    With three or more figures, a figure more than twice the median (plus five) is taken as an
    outlier (a cumulative toll or a typo) and skipped; otherwise the largest figure wins.
    """
    figures = sorted(v for v in values if v is not None and v >= 0)
    if not figures:
        return None
    if len(figures) < 3:
        return figures[-1]
    cap = 2 * statistics.median(figures) + 5
    return max(v for v in figures if v <= cap)


def _mode(values: Iterable[Any]) -> Any:
    counts = Counter(v for v in values if v is not None)
    return counts.most_common(1)[0][0] if counts else None


def _when(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else math.inf


def _source_of(event: Event) -> str | None:
    if event.source:
        return event.source
    if event.url:
        host = re.sub(r"^[a-z]+://", "", event.url).split("/")[0]
        return host or None
    return None


def canonical(members: Sequence[Event]) -> Event:
    """The canonical record of a cluster.

    It takes the most precise place (ties: the place most reports give), the most precise date
    (ties: the date most reports give, then the earliest), the most common type, mode and
    actors, the largest credible fatality figure, the highest confidence, and the sentence of
    the report the place came from; ``report_count`` counts distinct articles.

    Raises:
        ValueError: ``members`` is empty.
    """
    if not members:
        raise ValueError("a cluster has at least one member")
    # Ties go to the earliest report, then the smallest id: not to the order members came in.
    members = sorted(members, key=lambda m: (_when(m.published), m.event_id or ""))
    place_votes = Counter((m.place, m.country) for m in members)
    by_place = min(
        members,
        key=lambda m: (
            _precision_rank(_geo(m)),
            -place_votes[(m.place, m.country)],
            _when(m.published),
        ),
    )
    dated = [m for m in members if m.event_date is not None]
    if dated:
        best_prec = min(
            _DATE_ORDER.index(m.date_precision) if m.date_precision in _DATE_ORDER else 1
            for m in dated
        )
        pool = [
            m
            for m in dated
            if (_DATE_ORDER.index(m.date_precision) if m.date_precision in _DATE_ORDER else 1)
            == best_prec
        ]
        date_votes = Counter(m.event_date for m in pool)
        when = min(date_votes, key=lambda d: (-date_votes[d], d))
        date_precision = _DATE_ORDER[best_prec]
    else:
        when, date_precision = None, None
    event_type = _mode(m.event_type for m in members)
    out = replace(by_place)
    out.event_type = event_type
    out.mode = _mode(m.mode for m in members if m.event_type == event_type)
    out.event_date, out.date_precision = when, date_precision
    for role in (1, 2):
        name = _mode(getattr(m, f"actor{role}") for m in members)
        donor = next((m for m in members if getattr(m, f"actor{role}") == name), by_place)
        for suffix in ("", "_text", "_country", "_kind"):
            setattr(out, f"actor{role}{suffix}", getattr(donor, f"actor{role}{suffix}"))
    out.fatalities = credible_fatalities(m.fatalities for m in members)
    out.confidence = max(m.confidence for m in members)
    published = [m.published for m in members if m.published is not None]
    out.published = min(published) if published else None
    out.report_count = _report_count(members)
    out.cluster_id = members[0].cluster_id or by_place.cluster_id
    out.source = ", ".join(sorted({s for s in map(_source_of, members) if s}))
    return out


# ---------------------------------------------------------------------------- DuckDB layer

#: Columns of the ``clusters`` table: the canonical record, then what only clusters have.
CLUSTER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("cluster_id", "VARCHAR"), ("event_type", "VARCHAR"), ("mode", "VARCHAR"),
    ("modality", "VARCHAR"),
    ("actor1", "VARCHAR"), ("actor1_text", "VARCHAR"), ("actor1_country", "VARCHAR"),
    ("actor1_kind", "VARCHAR"),
    ("actor2", "VARCHAR"), ("actor2_text", "VARCHAR"), ("actor2_country", "VARCHAR"),
    ("actor2_kind", "VARCHAR"),
    ("place", "VARCHAR"), ("place_text", "VARCHAR"), ("latitude", "DOUBLE"),
    ("longitude", "DOUBLE"), ("admin1", "VARCHAR"), ("admin2", "VARCHAR"),
    ("country", "VARCHAR"), ("geo_precision", "VARCHAR"), ("event_date", "DATE"),
    ("date_precision", "VARCHAR"), ("published", "TIMESTAMPTZ"), ("fatalities", "INTEGER"),
    ("sentence", "VARCHAR"), ("confidence", "DOUBLE"), ("acled_event_type", "VARCHAR"),
    ("acled_sub_event_type", "VARCHAR"), ("cameo_root", "VARCHAR"),
    ("pipeline_version", "VARCHAR"), ("event_id", "VARCHAR"), ("url", "VARCHAR"),
    ("report_count", "INTEGER"), ("sources", "VARCHAR[]"), ("urls", "VARCHAR[]"),
    ("event_ids", "VARCHAR[]"), ("method", "VARCHAR"),
)  # fmt: skip

_CANONICAL = [name for name, _ in CLUSTER_COLUMNS[:-5]]

#: Event columns read back from the store to cluster (all exist in ``events``).
_READ = (
    "event_id", "article_id", "url", "source", "event_type", "mode", "modality",
    "actor1", "actor1_text", "actor1_country", "actor1_kind",
    "actor2", "actor2_text", "actor2_country", "actor2_kind",
    "place", "place_text", "latitude", "longitude", "admin1", "admin2", "country",
    "geo_precision", "event_date", "date_precision", "published", "fatalities",
    "sentence", "start", "end", "confidence", "acled_event_type", "acled_sub_event_type",
    "cameo_root", "pipeline_version", "trigger", "place_id", "cluster_id", "report_count",
)  # fmt: skip
# Timestamps travel as epoch microseconds: converting TIMESTAMPTZ values to Python costs
# more than the rest of a row.
_SELECT = ", ".join(f'epoch_us("{c}")' if c == "published" else f'"{c}"' for c in _READ)
_SELECT_E = ", ".join(f'epoch_us(e."{c}")' if c == "published" else f'e."{c}"' for c in _READ)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def migrate_clusters_v2(conn: Any) -> None:
    """Store migration: create the ``clusters`` table and cluster every stored event.

    Idempotent. Existing events are clustered in publication order (the same result as if
    they had been added one article at a time); ``events.cluster_id`` and
    ``events.report_count`` are filled; ``clusters.cluster_id`` gets an index.

    Args:
        conn: An open DuckDB connection whose ``events`` table has the columns of
            :data:`~eventwire.model.EVENT_FIELDS`; the caller owns the transaction.

    Raises:
        StoreError: The database cannot be migrated.
    """
    import duckdb

    columns = ", ".join(f'"{n}" {t}' for n, t in CLUSTER_COLUMNS)
    try:
        conn.execute(f"CREATE TABLE IF NOT EXISTS clusters ({columns})")
        # Finding a cluster's members (its row lists their ids; events are then read by primary
        # key) and replacing its row are index lookups, whatever the size of the store. No
        # index on events.cluster_id: DuckDB rewrites every row whose indexed column changes,
        # which would make the backfill and each merge slow.
        conn.execute("CREATE INDEX IF NOT EXISTS clusters_cluster_id_idx ON clusters (cluster_id)")
        rows = conn.execute(
            f"SELECT {_SELECT} FROM events WHERE cluster_id IS NULL "
            "ORDER BY published NULLS LAST, article_id, start"
        ).fetchall()
        if rows:
            _write(conn, cluster_events(_event_from_row(r) for r in rows))
    except duckdb.Error as exc:
        raise StoreError(f"cannot add the clusters table: {exc}") from exc


def assign(conn: Any, events: Sequence[Event], params: ClusterParams | None = None) -> None:
    """Cluster one article's events against the store; call after inserting them.

    Only stored events in the new events' blocks (same country, dates within the largest
    slack, points within the largest radius or coarse places) are read, then the members of
    the clusters they belong to; the new events join those clusters or start new ones.
    ``events.cluster_id``/``report_count`` and the ``clusters`` rows of every touched cluster
    are updated, and the given Event objects get their ``cluster_id`` and ``report_count``.

    Args:
        conn: DuckDB connection inside the store's write transaction.
        events: The events just inserted (one article's, usually).
        params: Clustering parameters; defaults to the packaged ones.

    Raises:
        StoreError: A query failed.
    """
    import duckdb

    if not events:
        return
    p = params or _default_params()
    try:
        clusterer = Clusterer(p)
        for event in _block_rows(conn, events, p):
            clusterer.seed(event)
        touched: set[str] = set()
        for event in events:
            event.cluster_id = None
            touched.add(clusterer.add(event))
        # A later event may have merged a cluster an earlier one joined.
        touched = {clusterer.merged.get(cid, cid) for cid in touched}
        members = {cid: clusterer.cluster_of(cid) for cid in touched}
        _write(conn, members, replaced=touched | set(clusterer.merged))
        # Reports and their clusters' member lists refer to each other: emptied lists free
        # the block now rather than at the next full collection.
        for group in clusterer.members.values():
            group.clear()
    except duckdb.Error as exc:
        raise StoreError(f"cannot cluster events: {exc}") from exc


#: Extra days read around each block, so that a cluster's other members usually come along.
_MARGIN_DAYS = 2
#: Up to this many new events, one indexed range query each; more share one join.
_PER_EVENT_QUERIES = 32
_BLOCK_WHERE = (
    "e.cluster_id IS NOT NULL AND e.country IS NOT DISTINCT FROM {country} "
    "AND e.event_date BETWEEN {lo_any} AND {hi_any} "
    "AND (e.event_date BETWEEN {lo} AND {hi} OR coalesce(e.date_precision, 'week') <> 'day') "
    "AND (NOT {precise} OR e.latitude IS NULL "
    "     OR coalesce(e.geo_precision, 'admin2') IN ('admin1', 'country') "
    "     OR (e.latitude BETWEEN {lat0} AND {lat1} AND e.longitude BETWEEN {lon0} AND {lon1}))"
)
_PROBE_NAMES = (
    "country",
    "lo",
    "hi",
    "lo_any",
    "hi_any",
    "precise",
    "lat0",
    "lat1",
    "lon0",
    "lon1",
)


def _probe(e: Event, p: ClusterParams) -> tuple[Any, ...] | None:
    """The block of one new event as SQL bounds (a superset of what :func:`_in_block` keeps)."""
    if not isinstance(e.event_date, date) or e.modality in _NEVER_MERGED:
        return None
    own = p.pair_slack("day", e.date_precision) + p.date_error_days + _MARGIN_DAYS
    wide = max(p.pair_slack(dp, e.date_precision) for dp in _DATE_ORDER)
    wide += p.date_error_days + _MARGIN_DAYS
    precise = _geo(e) not in _COARSE
    lat, lon = (e.latitude or 0.0), (e.longitude or 0.0)
    reach = p.radius("admin2") / _KM_PER_DEG
    lon_reach = reach / max(math.cos(math.radians(lat)), 0.05)
    return (
        e.country, _shift(e.event_date, -own), _shift(e.event_date, own),
        _shift(e.event_date, -wide), _shift(e.event_date, wide), precise,
        lat - reach, lat + reach, lon - lon_reach, lon + lon_reach,
    )  # fmt: skip


def _block_rows(conn: Any, events: Sequence[Event], p: ClusterParams) -> list[Event]:
    """Stored events that could share a cluster with ``events``, with all their clusters'
    members.

    A few new events read their blocks with one range query each (the ``country`` and
    ``event_date`` indexes and DuckDB's min/max pruning keep them small on a large store);
    many share one join. The bounds are a superset of the exact block plus a margin, so the
    other members of a cluster usually come along; the members of a block's clusters that did
    not (fewer rows than the cluster's ``report_count``, which equals its number of members)
    are read by cluster id.
    """
    probes = list(dict.fromkeys(q for q in (_probe(e, p) for e in events) if q is not None))
    if not probes:
        return []
    new_ids = [e.event_id for e in events if e.event_id]
    if len(probes) <= _PER_EVENT_QUERIES:
        # Ids first, rows by primary key next: reading every column of the row groups a
        # range query touches costs more than the two index lookups.
        where = _BLOCK_WHERE.format(**{n: "?" for n in _PROBE_NAMES})
        ids_sql = " UNION ".join(f"SELECT e.event_id FROM events e WHERE {where}" for _ in probes)
        ids = [r[0] for r in conn.execute(ids_sql, [v for q in probes for v in q]).fetchall()]
        if not ids:
            return []
        sql = f"SELECT {_SELECT_E} FROM events e WHERE e.event_id IN ({', '.join('?' * len(ids))})"
        args: list[Any] = ids
    else:
        cols = [list(col) for col in zip(*probes, strict=True)]
        unnest = ", ".join(f"unnest(?) AS {n}" for n in _PROBE_NAMES)
        where = _BLOCK_WHERE.format(**{n: f"q.{n}" for n in _PROBE_NAMES})
        sql = (
            f"WITH q AS (SELECT {unnest}) "
            f"SELECT DISTINCT {_SELECT_E} FROM events e JOIN q ON {where}"
        )
        args = cols
    rows = [r for r in conn.execute(sql, args).fetchall() if r[0] not in set(new_ids)]
    stored = {r[0]: _event_from_row(r) for r in rows}
    # Clusters the exact blocks touch must come with every member.
    reports = [_Report.of(e, e.event_id or "?") for e in events if _probe(e, p) is not None]
    have: Counter[str] = Counter()
    size: dict[str, int] = {}
    for e in stored.values():
        assert e.cluster_id is not None
        have[e.cluster_id] += 1
        size[e.cluster_id] = max(size.get(e.cluster_id, 0), e.report_count or 0)
    missing = set()
    for e in stored.values():
        cid = e.cluster_id
        assert cid is not None
        if have[cid] >= size[cid] or cid in missing:
            continue
        m = _Report.of(e, e.event_id or "?")
        if any(_in_block(r, m, p) for r in reports):
            missing.add(cid)
    if missing:
        placeholders = ", ".join("?" * len(missing))
        member_ids = [
            i
            for (ids,) in conn.execute(
                f"SELECT event_ids FROM clusters WHERE cluster_id IN ({placeholders})",
                sorted(missing),
            ).fetchall()
            for i in ids or ()
            if i not in stored
        ]
        more = []
        if member_ids:
            placeholders = ", ".join("?" * len(member_ids))
            more = conn.execute(
                f"SELECT {_SELECT} FROM events WHERE event_id IN ({placeholders})", member_ids
            ).fetchall()
        for r in more:
            if r[0] not in stored and r[0] not in new_ids:
                stored[r[0]] = _event_from_row(r)
    return sorted(stored.values(), key=lambda e: (_when(e.published), e.event_id or ""))


def _shift(day: date, days: int) -> date:
    return date.fromordinal(day.toordinal() + days)


def _event_from_row(row: Sequence[Any]) -> Event:
    values = dict(zip(_READ, row, strict=True))
    for key in ("event_type", "sentence"):
        values[key] = values[key] or ""
    for key in ("start", "end"):
        values[key] = values[key] if values[key] is not None else 0
    values["confidence"] = values["confidence"] if values["confidence"] is not None else 0.0
    values["modality"] = values["modality"] or "reported"
    if isinstance(values["published"], int):
        values["published"] = _EPOCH + timedelta(microseconds=values["published"])
    if isinstance(values["event_date"], datetime):
        values["event_date"] = values["event_date"].date()
    return Event(**values)


def _write(conn: Any, clusters: dict[str, list[Event]], *, replaced: Iterable[str] = ()) -> None:
    """Write the cluster id and report count of every member of ``clusters``, and their
    canonical rows (replacing the rows of the ``replaced`` cluster ids)."""
    pairs = [(m.event_id, cid) for cid, ms in clusters.items() for m in ms if m.event_id]
    counts = []
    rows = []
    for cid, members in clusters.items():
        record = canonical(members)
        record.cluster_id = cid
        count = record.report_count or 1
        for m in members:
            m.report_count = count
        counts.append((cid, count))
        rows.append(_cluster_row(record, members))
    if pairs:
        size = {cid: n for cid, n in counts}
        conn.execute(
            "UPDATE events SET cluster_id = a.c, report_count = a.n "
            "FROM (SELECT unnest(?) AS e, unnest(?) AS c, unnest(?) AS n) a "
            "WHERE events.event_id = a.e "
            "AND (events.cluster_id IS DISTINCT FROM a.c "
            "     OR events.report_count IS DISTINCT FROM a.n)",
            [[e for e, _ in pairs], [c for _, c in pairs], [size[c] for _, c in pairs]],
        )
    gone = sorted(replaced)
    if gone:
        marks = ", ".join("?" * len(gone))
        conn.execute(f"DELETE FROM clusters WHERE cluster_id IN ({marks})", gone)
    if rows:
        columns = [list(col) for col in zip(*rows, strict=True)]
        conn.execute(
            "INSERT INTO clusters SELECT " + ", ".join(["unnest(?)"] * len(columns)), columns
        )


def _cluster_row(record: Event, members: Sequence[Event]) -> tuple[Any, ...]:
    values = [getattr(record, name) for name in _CANONICAL]
    sources = sorted({s for s in map(_source_of, members) if s})
    urls = sorted({m.url for m in members if m.url})
    ids = [m.event_id for m in members if m.event_id]
    return (*values, record.report_count, sources, urls, ids, _default_params().version)


def load_clusters(
    conn: Any,
    where: str = "",
    params: Sequence[Any] = (),
    *,
    limit: int | None = None,
) -> list[Event]:
    """Canonical records of clusters as events (``cluster_id``, ``report_count`` and
    ``source`` — the sources, comma-separated — set), most reported first.

    Args:
        conn: DuckDB connection.
        where: Optional SQL condition over the ``clusters`` columns (which share their names
            with ``events``), with ``?`` placeholders, e.g. ``"country = ? AND event_date >= ?"``.
        params: Values of the placeholders.
        limit: At most this many clusters.

    Raises:
        StoreError: The query failed (for example, the store predates the clusters table).
    """
    import duckdb

    names = [name for name, _ in CLUSTER_COLUMNS]
    sql = "SELECT " + ", ".join(f'"{n}"' for n in names) + " FROM clusters"
    if where:
        sql += f" WHERE {where}"
    sql += " ORDER BY report_count DESC, event_date DESC NULLS LAST, cluster_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    try:
        rows = conn.execute(sql, list(params)).fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"cannot read clusters: {exc}") from exc
    event_names = {f.name for f in fields(Event)}
    out = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        sources = values.pop("sources") or []
        for extra in ("urls", "event_ids", "method"):
            values.pop(extra)
        kwargs = {k: v for k, v in values.items() if k in event_names}
        kwargs["sentence"] = kwargs.get("sentence") or ""
        kwargs["event_type"] = kwargs.get("event_type") or ""
        kwargs["confidence"] = kwargs.get("confidence") or 0.0
        kwargs["modality"] = kwargs.get("modality") or "reported"
        event = Event(start=0, end=0, **kwargs)
        event.source = ", ".join(sources) or None
        out.append(event)
    return out
