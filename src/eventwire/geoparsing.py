"""Toponym recognition and resolution over a parsed spaCy ``Doc``.

Recognition takes spaCy's GPE/LOC/FAC entities and recovers what the small model misses
(villages tagged PERSON, "the Kafr Loosing pass", "the M4") when the gazetteer and the
context agree. Resolution ranks gazetteer candidates jointly for the whole article: the
focus country, the admin hierarchy written in the text ("Barah ... in southern Idlib",
"Springfield, Illinois"), feature class and population, and distance to the other places.
Relative expressions ("near X", "30 km north of X", "southern X") lower the precision
instead of claiming an exact point. Every word list lives in ``data/geo/lexicon.json``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .gazetteer import (
    CURATED_SOURCE,
    Candidate,
    Gazetteer,
    haversine_km,
    lexicon,
    normalise_name,
    phonetic_key,
)
from .model import Toponym

__all__ = ["Focus", "article_focus", "find_toponyms", "resolve_spans"]

NER_LABELS = frozenset({"GPE", "LOC", "FAC"})
#: spaCy labels a recovered span may carry (small villages are often tagged PERSON).
RECOVERABLE_LABELS = frozenset({"", "PERSON"})
#: Labels the small model also puts on places ("Samarra" NORP, "Hama" ORG, "UAE" ORG,
#: "Erbil" PRODUCT, "Aleppo" LANGUAGE): these are recovered only with a locative context and a
#: gazetteer name that is not a demonym.
DOUBTFUL_LABELS = frozenset({"ORG", "NORP", "PRODUCT", "LANGUAGE", "WORK_OF_ART", "EVENT", "DATE"})

#: Bonus for a candidate in a first-level division another name of the text is in.
_SAME_ADMIN1 = 1.0
_NO_ADMIN_VOTE: frozenset[str] = frozenset({"PCLI"})
#: Country-level context fades for a candidate far less known than the best one (prior gap).
_COUNTRY_WEIGHT_FROM = 1.0
_COUNTRY_WEIGHT_SPAN = 2.5
_MIN_COUNTRY_WEIGHT = 0.25
#: How far from its point a second-level division may reach (km), when places do not say.
_ADM2_REACH_KM = 150.0
#: Weight of a nationality word ("Afghan forces") in the country votes, against 1 for a place.
_DEMONYM_VOTE = 0.5
#: A town this populous is itself, whatever division is written after it ("Barcelona, Liverpool").
_KNOWN_TOWN = 100_000
#: A country whose point is this close to the focus country's is a neighbour.
_NEIGHBOUR_KM = 1000.0
#: A town this big dwarfs namesakes :data:`_DWARF_RATIO` times smaller.
_DOMINANT_TOWN = 250_000
_DWARF_RATIO = 20
#: Prior weight of a place's population, per power of ten.
_POP_WEIGHT = 0.35
#: Prior bonus of the hand-picked regions, seas, rivers, islands and mountains.
_CURATED_BONUS = 1.0
#: Feature codes whose point stands for a large area: country precision at best.
_COARSE_CODES = frozenset(
    {
        "TERR",
        "CONT",
        "RGN",
        "OCN",
        "SEA",
        "STM",
        "LK",
        "LKS",
        "GULF",
        "BAY",
        "STRT",
        "CNL",
        "MTS",
        "ISL",
        "PEN",
        "DSRT",
    }
)
_DIVISION_CODES = frozenset({"PCLI", "PCL", "PCLD", "PCLF", "PCLS", "TERR", "ADM1"})
_MATCH_BONUS = {
    "name": 0.4,
    "abbreviation": 0.3,
    "alternate": 0.0,
    "demonym": 0.0,
    "phonetic": -0.9,
    "fuzzy": -1.6,
}
_MATCH_TRUST = {
    "name": 1.0,
    "abbreviation": 0.95,
    "alternate": 0.9,
    "demonym": 0.8,
    "phonetic": 0.7,
    "fuzzy": 0.55,
}


@dataclass
class _Words:
    locative: frozenset[str]
    near: frozenset[str]
    directions: frozenset[str]
    admin: frozenset[str]
    admin_prefix: frozenset[str]
    settlement: frozenset[str]
    features: frozenset[str]
    feature_prefix: frozenset[str]
    road: re.Pattern[str]
    road_words: frozenset[str]
    never: frozenset[str]
    titles: frozenset[str]
    ranks: dict[str, float]
    capture_verbs: frozenset[str]
    urban: frozenset[str]
    newspapers: frozenset[str]


@cache
def _words() -> _Words:
    lex = lexicon()

    def low(key: str) -> frozenset[str]:
        return frozenset(w.lower() for w in lex[key])

    return _Words(
        locative=low("locative_prepositions"),
        near=low("near_words"),
        directions=low("direction_adjectives"),
        admin=low("admin_words"),
        admin_prefix=low("admin_prefix_words"),
        settlement=low("settlement_words"),
        features=low("feature_words"),
        feature_prefix=low("feature_prefix_words"),
        road=re.compile(lex["road_pattern"]),
        road_words=low("road_words"),
        never=frozenset(lex["never_places"]),
        titles=low("person_titles"),
        ranks=dict(lex["feature_ranks"]),
        capture_verbs=low("capture_verbs"),
        urban=low("urban_feature_words"),
        newspapers=frozenset(lex["newspaper_words"]),
    )


@dataclass
class _Span:
    """A recognised place name, in token and character offsets."""

    start: int  # token index
    end: int  # token index (exclusive)
    start_char: int
    end_char: int
    text: str
    lookup: str  # the name to look up (without "the", "'s" or a trailing feature word)
    origin: str  # ner | recovered | feature | road | gold
    modifier: str | None = None  # near | direction | None
    admin_hint: bool = False  # an admin word is next to it ("X province", "province of X")
    settlement_hint: bool = False
    locative: bool = False  # governed by a locative word ("in X", "towards X")
    subject: bool = False  # the subject or possessor of a clause: often a metonym
    paragraph: int = 0
    parent: int | None = None  # index of the span it is a part of ("Pandi, Bulacan")
    candidates: list[tuple[float, Candidate]] = field(default_factory=list)
    prior_best: Candidate | None = None
    prior_p: float = 0.0
    part: bool = False  # resolved by the place its name starts or ends with
    confirmed: bool = False  # its place lies in the division the text writes after it
    person: bool = False  # the model took (part of) it for a person
    rejected: bool = False  # found by its context to be a person's name, not a place's
    agent: bool = False  # a one-word subject of a clause ("Granda was captured")
    verb_object: bool = False  # right after a verb ("encircles Arafat"), not a preposition


# --------------------------------------------------------------------------- recognition
def _is_abbreviation(text: str) -> bool:
    letters = text.replace(".", "")
    return letters.isupper() and len(letters) <= 5


def _trim(doc: Any, start: int, end: int) -> tuple[int, int]:
    while start < end and (doc[start].lower_ in ("the", "a", "an") or doc[start].is_punct):
        start += 1
    while end > start and (doc[end - 1].lower_ in ("'s", "’s", "'") or doc[end - 1].is_punct):
        end -= 1
    return start, end


def _has_candidates(gaz: Gazetteer, name: str, country: str | None) -> bool:
    if any(c.match != "demonym" for c in gaz.candidates(name, limit=3, phonetic=False)):
        return True
    if country:
        return bool(gaz.candidates(name, country=country, limit=1, fuzzy=True))
    return any(c.match != "demonym" for c in gaz.candidates(name, limit=3))


def _abbreviation_ok(gaz: Gazetteer, text: str) -> bool:
    """Whether an all-caps token is a known abbreviation of a country or region (UAE, EU)."""
    return any(c.match == "abbreviation" for c in gaz.candidates(text, limit=5, phonetic=False))


def _left_context(doc: Any, start: int) -> tuple[str, str, str]:
    """Lower-case text of the 1st, 2nd and 3rd tokens left of ``start`` (same sentence).

    Only the three tokens' sentence starts are read (``doc[start].sent`` walks the whole
    sentence, and this runs for every candidate name).
    """
    out = []
    inside = True
    for k in (1, 2, 3):
        i = start - k
        inside = inside and i >= 0 and not doc[i + 1].is_sent_start
        out.append(doc[i].lower_ if inside else "")
    return out[0], out[1], out[2]


def _modifier(doc: Any, start: int, w: _Words) -> str | None:
    p1, p2, p3 = _left_context(doc, start)
    if p1 in w.directions:
        return "direction"
    if p1 in ("near", "outside", "around", "nearby", "towards", "toward"):
        return "near"
    if p1 == "of" and (p2 in w.near or p2 in ("outskirts", "edge", "vicinity", "countryside")):
        return "near"
    if p1 == "to" and p2 in ("close", "next", "adjacent"):
        return "near"
    return None


def _context_ok(doc: Any, start: int, end: int, w: _Words, *, strict: bool = False) -> bool:
    """Whether the words around a name say it is a place ("in X", "shelled X", "X province").

    ``strict`` accepts only a governing preposition or verb (for names the model tagged as
    organisations or nationalities).
    """
    p1, p2, p3 = _left_context(doc, start)
    prev = doc[start - 1] if start > 0 else None
    if p1 in w.locative or p1 in w.directions:
        return True
    if p1 in w.settlement and p1 != "area" and (p2 in ("the", "a", "'s", "’s") or p2 in w.locative):
        return True  # "the village Huwaysis", "in the capital Dili"
    if prev is not None and prev.lemma_.lower() in w.capture_verbs:
        return True
    if p1 == "of" and (p2 in w.near or p2 in w.admin_prefix or p2 in w.settlement):
        return True
    if p1 == "the" and (p2 in w.locative or p2 in w.capture_verbs):
        return True
    if (
        p1 == "over"
        and p2 not in _OVER_NOT_PLACE
        and doc[start].ent_type_ != "PERSON"
        and not (end < len(doc) and doc[end].pos_ == "NOUN" and doc[end].text.islower())
    ):
        # "a drone shot down over Dhaka"; not "control over Smith", "a row over Skripal
        # poisoning"
        return True
    if p1 == "," and p2 in w.settlement and p2 not in ("area", "outskirts"):
        return True  # "the regional capital, Grozny", "in the capital, Harare"
    if p1 in _HELD_WORDS and p2 in ("-", "‑") and not doc[start - 2].whitespace_:
        return True  # "government-held Aleppo", "rebel-controlled Idlib"
    if (
        end + 1 < len(doc)
        and doc[end].lower_ in ("'s", "’s")
        and doc[end + 1].lemma_.lower() in _OF_PLACES
    ):
        return True  # "Grozny's streets", "Kabul's outskirts"
    if strict:
        return False
    if end < len(doc):
        nxt = doc[end].lower_
        if nxt in w.admin or nxt in w.features or nxt in w.settlement:
            return True
    return False


#: Prepositions after which a title and a name the gazetteer knows are a place ("in Sheikh
#: Maqsoud"), not a person ("with Sheikh Hasina").
_TITLED_PLACE_PREPS = frozenset({"in", "near", "at", "into", "outside", "inside"})

#: Past participles that, joined by a hyphen to who holds it, make the next name a place:
#: "government-held Aleppo", "rebel-controlled Idlib", "Kurdish-run Qamishli".
_HELD_WORDS = frozenset({"held", "controlled", "run", "occupied", "besieged", "dominated"})

#: Nouns after which "over X" is a claim on a person or a thing, not a place overflown.
_OVER_NOT_PLACE = frozenset(
    {"control", "win", "victory", "lead", "power", "authority", "dispute", "influence", "edge"}
)

#: Parts of speech of capitalised words that start a sentence, not a name ("In", "The").
_FUNCTION_POS = frozenset({"ADP", "DET", "CCONJ", "SCONJ", "PRON", "AUX", "PART", "ADV"})

#: Prepositions after which a capitalised name the model left untagged is a place.
_PLACE_PREPS = frozenset(
    {"in", "at", "near", "into", "towards", "toward", "outside", "around", "inside"}
)


def _plainly_a_place(doc: Any, start: int, end: int, w: _Words) -> bool:
    """Whether a capitalised name the gazetteer lacks is still plainly a place: right after a
    place preposition ("entered Quraytayn"), after "the villages of" / "the district of", or
    before a lower-case settlement or division noun ("Huwaysis village", "Mansour district")."""
    if start == 0 or doc[start].is_sent_start:
        return False
    toks = doc[start:end]
    if (
        not all(
            t.pos_ == "PROPN"
            or t.is_punct
            or t.lower_ in _articles()
            or (t.text in _NAME_PARTICLES and t.i > start)
            for t in toks
        )
        or any(t.text in w.never for t in toks)
        or len(toks.text) < 4
    ):
        return False
    k = start - 1
    while k > 0 and doc[k].is_quote:
        k -= 1  # "the town of ‘Ibta"
    prev = doc[k].lower_
    if prev in _PLACE_PREPS or doc[k].lemma_.lower() in _place_object_verbs():
        return True  # "in Dhuluiya", "entered Al-Fijah", "liberated Tal Areen"
    if prev in w.directions and k >= 1 and doc[k - 1].lower_ in _PLACE_PREPS:
        return True  # "in eastern Khattab"
    if prev == "of" and k >= 1 and doc[k - 1].lemma_.lower() in _generic_places() | _OF_PLACES:
        return True
    if end + 2 < len(doc) and doc[end + 1].lower_ == "of" and doc[end + 2].text[:1].isupper():
        return False  # "the Sunni neighborhood of Adhamiyah": the name follows "of"
    return (
        end < len(doc)
        and doc[end].lemma_.lower() in _generic_places() | {"home"}
        and not doc[end].text[:1].isupper()
    )


#: Nouns whose "of" name is a place, besides settlements and divisions ("the streets of
#: Lusaka", "the outskirts of Darayya").
_OF_PLACES = frozenset(
    {
        "street",
        "outskirts",
        "suburb",
        "suburbs",
        "edge",
        "countryside",
        "centre",
        "center",
        "heart",
        "environs",
        "vicinity",
    }
)


@cache
def _place_object_verbs() -> frozenset[str]:
    """Verbs whose object is a place, never a person ("entered", "liberated", "shelled")."""
    return frozenset(lexicon()["place_object_verbs"])


@cache
def _generic_places() -> frozenset[str]:
    """Nouns that say the name before them, or the "of" name after them, is a settlement or a
    division ("Huwaysis village", "the neighbourhood of Al-Bayaa"); not "department", which in
    English news is mostly a ministry ("Department of Health")."""
    w = _words()
    return (
        w.settlement
        | w.admin
        | frozenset(
            {
                "neighbourhood",
                "neighborhood",
                "quarter",
                "district",
                "suburb",
                "township",
                "axis",
                "sector",
                "farms",
                "commune",
                "residence",
                "locality",
            }
        )
    ) - {"area", "capital", "state", "outskirts", "department"}


_NAME_START = re.compile(
    r"^(?:(?:al|el|ad|ar|as|an|at|az|ash|ad)[-‑])?[ʿʾ‘’`']?[A-Z]"
    # Nguni names keep their class prefix in lower case: "iLembe", "eThekwini", "uMzinyathi".
    r"|^[a-z][A-Z][a-z]"
)


def _capitalised(text: str) -> bool:
    """Whether a token starts a name: "Aleppo", "al-Latmana", "‘Ibta"."""
    return text[:1].isupper() or bool(_NAME_START.match(text))


def _article_start(doc: Any, i: int) -> bool:
    """Whether token ``i`` is a lower-case article opening a name: "al - Latmana"."""
    return (
        doc[i].lower_ in _articles()
        and i + 2 < len(doc)
        and doc[i + 1].text in ("-", "‑")
        and not doc[i].whitespace_
        and doc[i + 2].text[:1].isupper()
    )


def _name_run_end(doc: Any, i: int, w: _Words) -> int:
    """End (exclusive) of the capitalised name run starting at token ``i``."""
    j = i
    n = len(doc)
    while j < n:
        tok = doc[j]
        text = tok.text
        if tok.is_sent_start and j > i:
            break
        if _capitalised(text) and text not in w.never and not tok.is_punct:
            j += 1
        elif text in ("-", "‑") and j > i and not doc[j - 1].whitespace_ and j + 1 < n:
            j += 1
        elif j > i and _connector_before_name(doc, j):
            j += 1  # "Juiz de Fora", "Leon de los Aldama"
        elif (
            text.lower() in _articles()
            and j + 1 < n
            and (doc[j + 1].text in ("-", "‑") or doc[j + 1].text[:1].isupper())
            and (j > i or _article_start(doc, j))
        ):
            j += 1
        else:
            break
    while j > i and (doc[j - 1].is_punct or doc[j - 1].lower_ in _articles()):
        j -= 1
    return j


#: Lower-case particles inside Romance and Dutch place names ("Juiz de Fora", "San Pedro de
#: la Paz"): part of the name when a capitalised word follows.
_NAME_PARTICLES = frozenset(
    {
        "de",
        "del",
        "da",
        "do",
        "dos",
        "das",
        "di",
        "du",
        "des",
        "la",
        "las",
        "los",
        "le",
        "y",
        "van",
        "der",
        "den",
    }
)


def _connector_before_name(doc: Any, j: int) -> bool:
    """Whether token ``j`` is a particle continuing a name (then a capitalised word)."""
    k = j
    while k < len(doc) and k - j < 2 and doc[k].lower_ in _NAME_PARTICLES and doc[k].text.islower():
        k += 1
    return k > j and k < len(doc) and doc[k].text[:1].isupper() and not doc[k].is_sent_start


@cache
def _headed_places() -> frozenset[str]:
    """Generic nouns that end a place's own name ("Al-Quds Hospital", "Idlib Governorate")."""
    w = _words()
    return (
        w.features
        | w.urban
        | w.admin
        | frozenset(
            {
                "village",
                "town",
                "city",
                "camp",
                "neighbourhood",
                "neighborhood",
                "suburb",
                "quarter",
                "district",
                "airbase",
                "farms",
                "gorge",
                "mountains",
                "lga",  # Nigeria's local government areas: "Maru LGA"
            }
        )
    ) - frozenset(
        {
            "front",
            "court",
            "house",
            "club",
            "way",
            "place",
            "hall",
            "state",
            "center",
            "centre",
            "base",
            "gate",
            "field",
            "market",
            "department",
        }
    )


@cache
def _articles() -> frozenset[str]:
    return frozenset(lexicon()["articles"])


_SPLIT_MARKS = frozenset({",", "(", ")", ";"})


def _split_at_marks(doc: Any, s: int, e: int, gaz: Gazetteer) -> list[tuple[int, int]]:
    """The parts of an entity the model ran over a comma or bracket: "Chihuahua, Chihuahua"
    is a town and its state, unless the gazetteer knows the whole ("Washington, D.C.")."""
    marks = [k for k in range(s, e) if doc[k].text in _SPLIT_MARKS]
    if not marks or _sure_match(gaz, doc[s:e].text):
        return [(s, e)]
    out: list[tuple[int, int]] = []
    start = s
    for k in [*marks, e]:
        ps, pe = _trim(doc, start, k)
        if ps < pe:
            out.append((ps, pe))
        start = k + 1
    return out


def _sure_match(gaz: Gazetteer, text: str) -> bool:
    return any(c.match in _SURE_MATCHES for c in gaz.candidates(text, limit=3, phonetic=False))


#: How far a name may be widened beyond what the model tagged, in tokens each side.
_WIDEN_REACH = 6


def _name_part(tok: Any, w: _Words) -> bool:
    """Whether a token may belong to a multi-word name next to a tagged place: a capitalised
    word the model took for no other kind of thing, or a hyphen or short particle joined to
    its neighbours without spaces ("Rabat-e", "Sangi-ye")."""
    if tok.ent_type_ not in NER_LABELS and tok.ent_type_ not in RECOVERABLE_LABELS:
        return False
    if tok.text in ("-", "‑"):
        return True
    if tok.is_punct or tok.text in w.never or tok.like_num:
        return False
    return _capitalised(tok.text) or (len(tok.text) <= 3 and tok.text.isalpha())


def _joined(doc: Any, k: int) -> bool:
    """Whether tokens ``k`` and ``k + 1`` are written together or are both capitalised words."""
    a, b = doc[k], doc[k + 1]
    if not a.whitespace_:
        return True
    if a.text.islower() and k > 0 and doc[k - 1].text in ("-", "‑") and not doc[k - 1].whitespace_:
        return _capitalised(b.text)  # "Rabat-e Sangi": a joined particle, then the name goes on
    return (
        _capitalised(a.text)
        and _capitalised(b.text)
        and not b.is_sent_start
        and b.text not in ("-", "‑")
    )


def _widen(doc: Any, s: int, e: int, gaz: Gazetteer, w: _Words) -> tuple[int, int]:
    """The longest name around tokens ``s:e`` that the gazetteer knows exactly, or that a
    settlement word closes ("Tilaiya Damar village"); ``(s, e)`` when there is none."""
    lo = s
    while lo > 0 and s - lo < _WIDEN_REACH and _name_part(doc[lo - 1], w) and _joined(doc, lo - 1):
        if doc[lo - 1].is_sent_start and not _capitalised(doc[lo - 1].text):
            break
        lo -= 1
    hi = e
    n = len(doc)
    while hi < n and hi - e < _WIDEN_REACH and _name_part(doc[hi], w) and _joined(doc, hi - 1):
        if doc[hi].is_sent_start:
            break
        hi += 1
    if lo == s and hi == e:
        return s, e
    options = sorted(
        ((a, b) for a in range(lo, s + 1) for b in range(e, hi + 1) if (a, b) != (s, e)),
        key=lambda ab: ab[0] - ab[1],
    )
    for a, b in options:
        if not _capitalised(doc[a].text) or not _capitalised(doc[b - 1].text):
            continue
        if _sure_match(gaz, doc[a:b].text):
            return a, b
    # "Tilaiya Damar village": capitalised words closed by a settlement word are one name.
    if (
        hi > e
        and hi < n
        and doc[hi].lower_ in w.settlement
        and all(_capitalised(t.text) for t in doc[e:hi])
        and not _sure_match(gaz, doc[s:e].text)
    ):
        return s, hi
    return s, e


def _recognise(
    doc: Any, gaz: Gazetteer, country_hint: str | None, exclude: Sequence[tuple[int, int]]
) -> list[_Span]:
    w = _words()
    taken = [False] * len(doc)
    spans: list[_Span] = []

    def blocked(s: int, e: int) -> bool:
        a, b = doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text)
        return any(taken[s:e]) or any(a < xe and xs < b for xs, xe in exclude)

    def add(s: int, e: int, origin: str, lookup_end: int | None = None) -> _Span | None:
        if s >= e:
            return None
        whole = _whole_name(doc, s, e, gaz, w)
        if whole is None:
            return None  # "the Church", "Islamic State": a common noun, not a place's name
        if whole != (s, e):
            s, e = whole  # "Tal Al-'Eiss", "Port of Spain", "Barra de Santo Antonio"
            lookup_end = None
        if blocked(s, e):
            return None
        le = lookup_end if lookup_end is not None else e
        span = _Span(
            start=s,
            end=e,
            start_char=doc[s].idx,
            end_char=doc[e - 1].idx + len(doc[e - 1].text),
            text=doc[s:e].text,
            lookup=doc[s:le].text,
            origin=origin,
            person=any(t.ent_type_ == "PERSON" for t in doc[s:e]),
        )
        for k in range(s, e):
            taken[k] = True
        spans.append(span)
        return span

    # 1. NER places, split at the commas and brackets the model ran over ("Chihuahua,
    # Chihuahua") and widened to the whole name the gazetteer knows ("San Salvador Atenco",
    # "Boa Vista" tagged as two places, "Rabat-e Sangi-ye Pain" of which the model saw one word).
    pieces: list[tuple[int, int]] = []
    for ent in doc.ents:
        if ent.label_ not in NER_LABELS:
            continue
        s, e = _trim(doc, ent.start, ent.end)
        if s >= e:
            continue
        for ps, pe in _split_at_marks(doc, s, e, gaz):
            pieces.append(_widen(doc, ps, pe, gaz, w))
    for s, e in pieces:
        if s >= e or any(taken[s:e]):
            continue
        if e < len(doc) and _connector_before_name(doc, e):
            # "Leon de los Aldama": the model stopped at the particle; keep the whole name
            # when the gazetteer knows it.
            longer = _name_run_end(doc, s, w)
            if longer > e and any(
                c.match in _SURE_MATCHES
                for c in gaz.candidates(doc[s:longer].text, limit=3, phonetic=False)
            ):
                e = longer
        text = doc[s:e].text
        if not any(c.isupper() for c in text):
            continue
        if all(t.text in w.never or t.is_punct for t in doc[s:e]):
            continue
        if _is_abbreviation(text):
            if not any(
                c.match == "abbreviation" or c.feature_class == "A"
                for c in gaz.candidates(text, limit=5, phonetic=False)
            ):
                continue
        if e < len(doc) and doc[e].lower_ in w.features and not doc[e].text[:1].isupper():
            add(s, e + 1, "feature", lookup_end=e)
        else:
            add(s, e, "ner")

    # 2. Roads: "the M4", "the M5 highway".
    for tok in doc:
        if taken[tok.i] or not w.road.match(tok.text):
            continue
        prev = doc[tok.i - 1].lower_ if tok.i else ""
        nxt = doc[tok.i + 1].lower_ if tok.i + 1 < len(doc) else ""
        if nxt in w.road_words:
            add(tok.i, tok.i + 2, "road", lookup_end=tok.i + 1)
        elif prev in ("the",) or prev in w.locative:
            add(tok.i, tok.i + 1, "road")

    # 3. Capitalised runs the model did not tag as places.
    i = 0
    n = len(doc)
    while i < n:
        tok = doc[i]
        if (
            taken[i]
            or not (_capitalised(tok.text) or (tok.text in _articles() and _article_start(doc, i)))
            or tok.text in w.never
            or (tok.is_stop and tok.pos_ in _FUNCTION_POS)
        ):
            # "In Samarra, ...": a capitalised preposition or article starts no name.
            i += 1
            continue
        j = _name_run_end(doc, i, w)
        if j <= i:
            i += 1
            continue
        s, e = i, j
        i = j
        if any(taken[s:e]):
            continue
        labels = {t.ent_type_ for t in doc[s:e]}
        text = doc[s:e].text
        if _is_abbreviation(text):
            if _abbreviation_ok(gaz, text) and _context_ok(doc, s, e, w, strict=True):
                add(s, e, "recovered")
            continue
        if len(text) < 3:
            continue
        has_feature = e < n and doc[e].lower_ in w.features and not doc[e].text[:1].isupper()
        prefix = doc[s].lower_ in w.feature_prefix and e - s >= 2
        if (
            e - s >= 2
            and doc[e - 1].lower_ in _headed_places()
            and labels <= RECOVERABLE_LABELS | DOUBTFUL_LABELS
            and (s == 0 or doc[s - 1].lower_.rstrip(".") not in w.titles)
            and not any(t.text in w.never for t in doc[s : e - 1])
        ):
            # "the Al-Bassel Hospital", "Deir Ezzor Governorate", "Minya University": a name
            # with its generic head is a place even when the model calls it an organisation.
            add(s, e, "feature", lookup_end=e - 1)
            continue
        if not labels <= RECOVERABLE_LABELS:
            if (
                labels <= RECOVERABLE_LABELS | DOUBTFUL_LABELS
                and _context_ok(doc, s, e, w, strict=True)
                and _has_candidates(gaz, text, None)
            ):
                add(s, e, "recovered")
            elif (
                labels <= RECOVERABLE_LABELS | DOUBTFUL_LABELS
                and _plainly_a_place(doc, s, e, w)
                and doc[s - 1].lower_ not in _PLACE_PREPS
            ):
                add(s, e, "unlisted")  # "the villages of Aleis", "the Fdhiliyah neighborhood"
            elif has_feature and labels <= {"", "ORG"}:
                add(s, e + 1, "feature", lookup_end=e)
            continue
        if s > 0 and doc[s - 1].lower_.rstrip(".") in w.titles:
            if (
                s >= 2
                and doc[s - 1].text[:1].isupper()
                and doc[s - 2].lower_ in _TITLED_PLACE_PREPS
                and not doc[s - 1].is_sent_start
                and (
                    _sure_match(gaz, doc[s - 1 : e].text)
                    or (country_hint and gaz.candidates(doc[s - 1 : e].text, country=country_hint))
                )
            ):
                # "in Sheikh Maqsoud", "near Sheikh Najjar": after "in", a title and a name
                # that the gazetteer knows together are a place named after a saint or sheikh.
                add(s - 1, e, "recovered")
            continue
        if not all(t.pos_ in ("PROPN", "NOUN", "ADJ", "PUNCT", "DET", "X") for t in doc[s:e]):
            continue
        after_the = s > 0 and doc[s - 1].lower_ == "the"
        if has_feature and (after_the or _context_ok(doc, s, e, w)):
            add(s, e + 1, "feature", lookup_end=e)
        elif prefix and (_context_ok(doc, s, e, w) or _has_candidates(gaz, text, country_hint)):
            add(s, e, "feature")
        elif _context_ok(doc, s, e, w) and _has_candidates(gaz, text, country_hint):
            add(s, e, "recovered")
        elif _plainly_a_place(doc, s, e, w):
            # "entered Quraytayn", "a bomb in Dhuluiya": a name the gazetteer lacks, right
            # after a place preposition. Kept, resolved only as far as the context allows.
            add(s, e, "unlisted")

    # 3b. "in Barangay Kapitan Pepe, Cabanatuan, Nueva Ecija": the model may take a whole
    # address for people; a division at its end, written after a comma, is a place, and so
    # are the known names before it in the chain.
    for k in range(1, len(doc) - 1):
        if doc[k].text not in (",", "(") or not _capitalised(doc[k - 1].text):
            continue
        if not _capitalised(doc[k + 1].text) or taken[k + 1]:
            continue
        end = _name_run_end(doc, k + 1, w)
        if end <= k + 1 or blocked(k + 1, end):
            continue
        if {t.ent_type_ for t in doc[k + 1 : end]} - (DOUBTFUL_LABELS | RECOVERABLE_LABELS):
            continue
        if not _is_division_name(gaz, doc[k + 1 : end].text):
            continue
        add(k + 1, end, "recovered")
        e = k  # the comma or bracket
        while e >= 1 and doc[e].text in (",", "("):
            s = e
            while s > 0 and _capitalised(doc[s - 1].text) and doc[s - 1].pos_ == "PROPN":
                s -= 1
                if (
                    s >= 2
                    and doc[s - 1].text in ("-", "‑")
                    and not doc[s - 1].whitespace_
                    and not doc[s - 2].whitespace_
                ):
                    s -= 1  # "Mayo-Sava, Extreme-Nord": the whole hyphenated name
            if s == e:
                break
            if not _has_candidates(gaz, doc[s:e].text, country_hint):
                # "a village in Mayo-Sava, Extreme-Nord": a name the gazetteer lacks, right
                # after a place preposition, is in the division written after it.
                if _plainly_a_place(doc, s, e, w):
                    add(s, e, "unlisted")
                break
            if add(s, e, "recovered") is None:
                break
            e = s - 1

    # 4. Coordinated names: "towards Talhia and Al-Bawabiya", "Homs, Hama and Aleppo".
    grew = True
    while grew:
        grew = False
        for span in list(spans):
            k = span.end
            if k < n and doc[k].text.islower() and doc[k].lower_ in w.settlement | w.admin:
                k += 1  # "Bossaso town (Bossaso, Bari)"
            if (
                k + 1 < n
                and doc[k].lower_ in ("and", ",", "or", "(")
                and not taken[k + 1]
                and doc[k + 1].text[:1].isupper()
            ):
                e = _name_run_end(doc, k + 1, w)
                # "Bossaso town (Bossaso, Bari)", "Pipri, Kaushambi (UP)": the divisions
                # written in brackets after a place.
                listed = doc[k].text in ("(", ",") and e < n and doc[e].text in (",", ")")
                if (
                    listed
                    and e > k + 1
                    and _is_abbreviation(doc[k + 1 : e].text)
                    and _abbreviation_ok(gaz, doc[k + 1 : e].text)
                ):
                    grew |= add(k + 1, e, "recovered") is not None
                elif (
                    e > k + 1
                    and {t.ent_type_ for t in doc[k + 1 : e]}
                    <= RECOVERABLE_LABELS | DOUBTFUL_LABELS
                    and not _is_abbreviation(doc[k + 1 : e].text)
                ):
                    if _has_candidates(gaz, doc[k + 1 : e].text, country_hint):
                        grew |= add(k + 1, e, "recovered") is not None
                    elif (span.origin == "unlisted" or (listed and doc[k].text == "(")) and all(
                        t.pos_ == "PROPN" or t.is_punct for t in doc[k + 1 : e]
                    ):
                        # "the villages of Khan Touman, Aleis and Alzorba": the list goes on
                        grew |= add(k + 1, e, "unlisted") is not None

    # "Noushera and Samba sectors", "Demsare, Wunamokoh and Taboungo villages": an unknown
    # name coordinated before one plainly a place is a place too.
    for span in sorted(spans, key=lambda sp: -sp.start):
        k = span.start - 1
        while span.origin == "unlisted" and k >= 1 and doc[k].lower_ in ("and", ",", "or"):
            e = k
            s = e
            while (
                s > 0
                and _capitalised(doc[s - 1].text)
                and not taken[s - 1]
                and doc[s - 1].pos_ == "PROPN"
                and doc[s - 1].text not in w.never
                and not doc[s - 1].is_sent_start
            ):
                s -= 1
            if s == e or {t.ent_type_ for t in doc[s:e]} - (RECOVERABLE_LABELS | DOUBTFUL_LABELS):
                break
            if doc[s - 1].lower_.rstrip(".") in w.titles if s > 0 else False:
                break
            if add(s, e, "unlisted") is None:
                break
            k = s - 1

    spans.sort(key=lambda sp: sp.start)
    for idx, span in enumerate(spans):
        _annotate(doc, span, w)
        if idx + 1 < len(spans):
            nxt = spans[idx + 1]
            if _contained_by(doc, span, nxt, w):
                span.parent = idx + 1
    return spans


#: Words that begin place names and are generic nouns or prefixes on their own ("Tal
#: Abyad", "Port Sudan", "Barra do Garças", "Ras al-Ain"): alone before more of the name,
#: they are not the place.
_NAME_PREFIXES = frozenset(
    {
        "tal",
        "tell",
        "tel",
        "port",
        "porto",
        "puerto",
        "barra",
        "san",
        "santa",
        "santo",
        "sao",
        "são",
        "ras",
        "ain",
        "kafr",
        "kfar",
        "deir",
        "beit",
        "bir",
        "khan",
        "jisr",
        "bab",
        "umm",
        "wadi",
        "jabal",
        "jebel",
        "mount",
        "fort",
        "cape",
        "lake",
        "bay",
        "new",
        "saint",
    }
)


@cache
def _common_nouns() -> frozenset[str]:
    """Generic nouns of places, buildings and divisions ("church", "hotel", "state", "port"):
    capitalised in a name or a heading, alone they are not a place's name."""
    w = _words()
    return (
        w.urban
        | w.features
        | w.settlement
        | w.admin
        | w.road_words
        | _OF_PLACES
        | frozenset({"mosque", "embassy", "compound", "base", "camp", "office", "headquarters"})
    ) - frozenset({"st", "rd", "ave", "blvd", "mt"})


def _whole_name(doc: Any, s: int, e: int, gaz: Gazetteer, w: _Words) -> tuple[int, int] | None:
    """The span to keep for a recognised name at tokens ``s:e``: None for a lone common noun
    ("at the Church", "Islamic State"); the whole name when ``s:e`` is a prefix followed by the
    rest of it ("Tal Al-'Eiss", "Port of Spain"), the end of one ("Barra de Santo Antonio")
    or a known place's name after its title word ("in Sheikh Najjar")."""
    n = len(doc)
    tok = doc[s]
    if (
        s >= 2
        and doc[s - 1].lower_ in w.titles
        and doc[s - 1].text[:1].isupper()
        and doc[s - 2].lower_ in _TITLED_PLACE_PREPS
        and not doc[s - 1].is_sent_start
        and not doc[s].is_sent_start
        and _sure_match(gaz, doc[s - 1 : e].text)
    ):
        return s - 1, e  # "near Sheikh Najjar": the model saw the place in the name only
    # "Barra de Santo Antonio": the model kept the end of the name after a particle.
    if (
        s >= 2
        and doc[s - 1].lower_ in _NAME_PARTICLES
        and doc[s - 1].text.islower()
        and _capitalised(doc[s - 2].text)
        and not doc[s - 1].is_sent_start
        and not doc[s].is_sent_start
    ):
        a = s - 2
        while a > 0 and _capitalised(doc[a - 1].text) and not doc[a].is_sent_start:
            a -= 1
        for start in range(a, s - 1):
            if doc[start].text in w.never:
                continue
            if doc[start].lower_ in _NAME_PREFIXES or _sure_match(gaz, doc[start:e].text):
                return _whole_name(doc, start, e, gaz, w) or (start, e)
    # "Tal Al-'Eiss", "Port of Spain city": a name prefix alone before more of the name.
    if e - s == 1 and tok.lower_ in _NAME_PREFIXES and e < n and not doc[e].is_sent_start:
        run = _name_run_end(doc, s, w)
        if (
            e + 1 < n
            and run == e
            and doc[e].lower_ == "of"
            and _capitalised(doc[e + 1].text)
            and not doc[e + 1].is_sent_start
        ):
            longer = _name_run_end(doc, e + 1, w)
            if longer > e + 1 and _sure_match(gaz, doc[s:longer].text):
                return s, longer  # "Port of Spain"
            return None  # "Port of Tartus" is a port of Tartus: the name after "of" is the place
        if run > e:
            return s, run
    if e - s == 1 and tok.lower_ in _common_nouns():
        if (
            e + 1 < n
            and doc[e].lower_ == "of"
            and _capitalised(doc[e + 1].text)
            and not doc[e + 1].is_sent_start
        ):
            # "the University of Alberta": the name is the whole, not its first word
            longer = _name_run_end(doc, e + 1, w)
            return (s, longer) if longer > e + 1 else None
        if e < n and doc[e].like_num and not doc[e].is_sent_start:
            return s, e + 1  # "Hill 30", "Camp 7"
        if e < n and doc[e].text.islower() and doc[e].lower_ in _generic_places():
            return s, e  # "the downtown Plateau quarter": the quarter's name
        if any(
            c.source == CURATED_SOURCE and c.match in _SURE_MATCHES
            for c in gaz.candidates(tok.text, limit=5, phonetic=False)
        ):
            return s, e  # "the Gulf": a sea the news names so
        # "the Hotel", "Islamic State", "the Church in Bethlehem" are a building or an
        # organisation; "here in the Valley" a place the text knows.
        k = s - 1 if s > 0 and not tok.is_sent_start else -1
        if k >= 0 and doc[k].lower_ == "the" and not doc[k].is_sent_start:
            k -= 1
        nxt = doc[e] if e < n and not doc[e].is_sent_start else None
        if (
            tok.ent_type_ not in ("GPE", "LOC")
            or k < 0
            or doc[k].lower_ not in _PLACE_PREPS
            or (s > 0 and _capitalised(doc[s - 1].text) and not tok.is_sent_start)
            or (nxt is not None and _capitalised(nxt.text))
        ):
            return None
    return s, e


#: What separates a place from the division that contains it: "Pandi, Bulacan", "Surat
#: (Gujarat)".
_CONTAINER_MARKS = frozenset({",", "("})


def _is_division_name(gaz: Gazetteer, name: str) -> bool:
    """Whether ``name`` is exactly the name of a first- or second-level division."""
    return any(
        c.match in ("name", "alternate") and c.feature_code in ("ADM1", "ADM2")
        for c in gaz.candidates(name, limit=10, phonetic=False)
    )


def _contained_by(doc: Any, span: _Span, nxt: _Span, w: _Words) -> bool:
    """Whether ``nxt`` is written as the container of ``span``: "Pandi, Bulacan", "Surat
    (Gujarat)", "Cuauhtemoc municipality, Chihuahua", "Bafoussam town (Mifi, Ouest)"."""
    gap = doc[span.end : nxt.start]
    if len(gap) == 2 and gap[0].text.islower() and gap[0].lower_ in w.settlement | w.admin:
        gap = gap[1:]
    return len(gap) == 1 and gap[0].text in _CONTAINER_MARKS


def _text(doc: Any) -> str:
    # spaCy rebuilds Doc.text from its tokens on every access: keep one copy per document.
    cached = doc.user_data.get("eventwire.text")
    if cached is None:
        cached = doc.user_data["eventwire.text"] = doc.text
    return cached


def _annotate(doc: Any, span: _Span, w: _Words) -> None:
    span.modifier = _modifier(doc, span.start, w)
    e = span.end
    if (
        " " not in span.lookup
        and span.lookup.lower() in w.directions
        and e + 2 < len(doc)
        and doc[e].lower_ in ("and", "or", "&")
        and doc[e + 1].lower_ in w.directions
    ):
        # "Central and South America", "North and South Korea": the first direction word
        # shares the name after the second.
        k = _name_run_end(doc, e + 2, w)
        if k > e + 2:
            span.lookup = f"{span.lookup} {doc[e + 2 : k].text}"
    p1, p2, _ = _left_context(doc, span.start)
    nxt = doc[span.end].lower_ if span.end < len(doc) else ""
    span.admin_hint = (
        nxt in w.admin or (p1 == "of" and p2 in w.admin) or span.modifier == "direction"
    )
    span.settlement_hint = (
        nxt in w.settlement
        or (p1 == "of" and p2 in w.settlement)
        # "The Washington Post", "the Miami Herald": a newspaper of the city
        or (span.end < len(doc) and doc[span.end].text in w.newspapers)
    )
    span.locative = p1 in w.locative or (p1 == "the" and p2 in w.locative)
    root = doc[span.start : span.end].root
    span.subject = root.dep_ in ("nsubj", "nsubjpass", "poss")
    span.agent = root.dep_ in ("nsubj", "nsubjpass") and span.end - span.start == 1
    span.verb_object = (
        span.start > 0
        and doc[span.start - 1].pos_ == "VERB"
        and not doc[span.start].is_sent_start
        and (span.end >= len(doc) or doc[span.end].lower_ not in _generic_places())
    )
    span.paragraph = _text(doc).count("\n", 0, span.start_char)


# ---------------------------------------------------------------------------- resolution
def _prior(c: Candidate, span: _Span, w: _Words) -> float:
    fc = f"{c.feature_class}.{c.feature_code}"
    rank = w.ranks.get(fc, w.ranks.get(c.feature_class or "", 0.0))
    score = rank + _POP_WEIGHT * math.log10(c.population + 1) + _MATCH_BONUS.get(c.match, 0.0)
    if c.source == CURATED_SOURCE:
        score += _CURATED_BONUS  # a sea, river or region picked because the news names it
        if c.feature_class == "S":
            score += _CURATED_BONUS  # a seat of power the news names for its government
    admin = c.feature_class == "A"
    if span.admin_hint:
        # "Idlib province", "southern Idlib": the division; "southern Mexico" is the country
        # as much as the state of that name.
        region = c.feature_code != "PCLI" or span.modifier == "direction"
        # "the eastern Pacific", "northern Europe": the ocean or continent, not a county.
        wide = span.modifier == "direction" and (
            c.source == CURATED_SOURCE or c.feature_code == "CONT"
        )
        score += 2.5 if (admin and region) or wide else 0.0
    elif admin and c.feature_code in ("ADM1", "ADM2"):
        score -= 0.6  # a bare name is more often the city than its province
    if span.settlement_hint:
        score += 1.0 if c.feature_class == "P" else -1.0
    return score


#: Words before a place's name in the name of a part of it ("Old Town Manassas").
_PART_PREFIXES = frozenset({"old", "downtown", "greater", "uptown", "midtown"})

#: Streets and roads are named after anything: their names say little about where they are.
_STREET_WORDS = frozenset(
    {
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "boulevard",
        "blvd",
        "lane",
        "drive",
        "way",
        "place",
        "parkway",
        "highway",
        "terrace",
        "court",
        "square",
        "route",
        "motorway",
    }
)
_DIRECTION_NAMES = frozenset(
    {
        "north",
        "south",
        "east",
        "west",
        "northwest",
        "northeast",
        "southwest",
        "southeast",
        "central",
        "the",
    }
)

#: "Republic of", "Kingdom of the"... before a country's short name.
_STATE_FORM = re.compile(
    r"(?:the\s+)?(?:"
    + "|".join(re.escape(f) for f in sorted(lexicon()["state_forms"], key=len, reverse=True))
    + r")\s+(?:the\s+)?",
    re.IGNORECASE,
)

#: Matches that name the place itself, not a loose spelling of it.
_SURE_MATCHES = frozenset({"name", "alternate", "abbreviation"})

#: Settlement nouns that can follow a settlement's name without being part of it.
_STRIPPABLE_SETTLEMENTS = frozenset({"city", "town", "village", "hamlet"})


_EZAFE = re.compile(r"\b([A-Z][a-z]{2,})(?:i|-i) (?=[A-Z])")


def _lookup(gaz: Gazetteer, span: _Span, country: str | None) -> list[Candidate]:
    name = span.lookup
    found = {c.place_id: c for c in gaz.candidates(name, limit=25)}
    words = name.split()
    w = _words()
    form = _STATE_FORM.match(name)
    if form and not any(c.match in _SURE_MATCHES for c in found.values()):
        # "Republic of Armenia", "Kingdom of Saudi Arabia": the country (or state) itself.
        found = {
            c.place_id: c
            for c in gaz.candidates(name[form.end() :], limit=25, phonetic=False)
            if c.feature_class == "A" and c.feature_code in _DIVISION_CODES
        } or found
    generic = words[-1].lower() if len(words) > 1 else ""
    if (generic in w.admin and not found) or (
        generic in _STRIPPABLE_SETTLEMENTS
        and not words[-2].endswith(("'s", "’s"))
        and not any(c.match in _SURE_MATCHES for c in found.values())
    ):
        # "Orange County", "Idlib Governorate": the bare name, as a division, is the next
        # best; "Sukkur city", "Bossaso town": the bare name, as a settlement.
        bare = " ".join(words[:-1])
        again = {c.place_id: c for c in gaz.candidates(bare, limit=25)}
        if again or not found:
            name, found = bare, again
            if generic in w.admin:
                span.admin_hint = True
            else:
                span.settlement_hint = True
    if len(words) > 1 and not any(c.match in _SURE_MATCHES for c in found.values()):
        # Persian names join their words with the ezafe, written "-e" or "-i" or run into the
        # word: "Nahri Saraj" is "Nahr-e Saraj", "Rabati Sangi" is "Rabat-e Sangi".
        ezafe = _EZAFE.sub(r"\1-e ", name)
        if ezafe != name:
            found.update(
                (c.place_id, c)
                for c in gaz.candidates(ezafe, limit=10, phonetic=False)
                if c.match in _SURE_MATCHES
            )
    if span.admin_hint and not any(
        c.match in _SURE_MATCHES and c.feature_class == "A" for c in found.values()
    ):
        # "the province of Anbar": a division whose official name keeps the Arabic article
        # ("Al Anbar", "Al Jawf") is written without it.
        found.update(
            (c.place_id, c)
            for c in gaz.candidates(f"Al {name}", limit=5, phonetic=False)
            if c.match in _SURE_MATCHES and c.feature_code in ("ADM1", "ADM2")
        )
    if country:
        local = gaz.candidates(name, country=country, limit=10)
        if not local and len(name) >= 4:
            local = gaz.candidates(name, country=country, limit=5, fuzzy=True)
        for c in local:
            found.setdefault(c.place_id, c)
    out = list(found.values())
    if len(words) > 1 and not any(c.match in _SURE_MATCHES for c in out):
        part = _named_part(gaz, words, w) or (
            _named_within(gaz, words, w) if span.origin == "gold" or not out else []
        )
        if part:
            # "Da Nang International Airport", "Lake Manassas", "Bank of Japan": near the
            # place it is named after.
            span.part = True
            out = part
    if any(c.match in ("name", "alternate", "abbreviation") for c in out):
        # A loose spelling is a fallback: "Seattle" is Seattle even in an article about
        # Russia, where the phonetic key also finds Shatura.
        out = [c for c in out if c.match not in ("phonetic", "fuzzy")]
    return out


def _named_part(gaz: Gazetteer, words: list[str], w: _Words) -> list[Candidate]:
    """Places named by the start of a facility's or feature's name ("Da Nang International
    Airport", "Salinas Valley") or by its end after a feature word ("Lake Manassas")."""
    last, first = words[-1].lower().strip(".,"), words[0].lower()
    parts: list[str] = []
    if (last in w.urban or last in w.features) and last not in _STREET_WORDS:
        parts = [" ".join(words[:k]) for k in range(len(words) - 1, 0, -1)]
    elif first in w.feature_prefix or first in _PART_PREFIXES:
        parts = [" ".join(words[k:]) for k in range(1, len(words))]
    for part in parts:
        if (
            len(part) < 3
            or not part[:1].isupper()
            or part.lower() in _DIRECTION_NAMES
            or any(ch.isdigit() for ch in part)
        ):
            continue
        named = [
            c
            for c in gaz.candidates(part, limit=25, phonetic=False)
            if c.match in ("name", "alternate")
        ]
        if named:  # the longest part that names places decides
            return _well_known(named)
    return []


def _named_within(gaz: Gazetteer, words: list[str], w: _Words) -> list[Candidate]:
    """Well-known places in the name of an organisation, event or area that the gazetteer
    lacks: "Bank of Japan", "University of California", "Dubai World Cup", "European
    Commission", "US Federal Reserve", "South Florida" (a part of Florida)."""
    lowered = [x.lower() for x in words]
    last = lowered[-1].strip(".,")
    if (
        last in w.urban
        or last in w.features
        or last in w.admin
        or last in w.settlement
        or (last == "township")
    ):
        return []  # a building, a feature or a division: named after anything (_named_part)
    # (part, whether it is a part of that place: "West Surrey", "South Florida")
    parts: list[tuple[str, bool]] = []
    if (lowered[0] in w.directions or lowered[0] in _DIRECTION_NAMES) and lowered[0] != "central":
        parts.append((" ".join(words[1:]), True))
    if "of" in lowered[1:-1]:
        k = len(lowered) - 1 - lowered[::-1].index("of")
        if lowered[k - 1] in w.urban:
            return []  # "Mall of Asia", "University of California": a building somewhere
        tail = words[k + 1 :]
        if tail and tail[0].lower() == "the":
            tail = tail[1:]
        parts.append((" ".join(tail), False))
    parts += [(" ".join(words[:k]), False) for k in range(len(words) - 1, 0, -1)]
    for part, region in parts:
        low = part.lower()
        if (
            len(part) < 2
            or not all(x[:1].isupper() and x.replace("-", "").isalpha() for x in part.split())
            or low in _DIRECTION_NAMES
            or low in w.directions
            or low in w.feature_prefix
            or part in w.never
        ):
            continue
        known = [
            c
            for c in gaz.candidates(part, limit=25, phonetic=False)
            if (c.match == "demonym" and not region)
            or (
                c.match in ("name", "abbreviation")
                and (
                    c.source == CURATED_SOURCE
                    or c.feature_code == "CONT"
                    or (region and c.feature_code == "ADM2")
                    or c in _well_known([c])
                )
            )
        ]
        if known:  # the first part that names well-known places decides
            return known
    # "Nazi Germany", "Imperial Japan": a country qualified by its regime or era.
    return (
        [
            c
            for c in gaz.candidates(words[-1], limit=5, phonetic=False)
            if c.match == "name" and (c.feature_code or "").startswith("PCL")
        ]
        if words[-1][:1].isupper()
        else []
    )


def _well_known(places: list[Candidate]) -> list[Candidate]:
    """A street or a hospital is often named after a person or a small namesake, rarely
    after a big city or a country by chance."""
    return [
        c
        for c in places
        if (
            c.feature_code in _DIVISION_CODES
            or (c.feature_class == "P" and c.population >= _KNOWN_TOWN)
        )
    ]


def _softmax_top(scores: Sequence[float]) -> float:
    top = max(scores)
    total = sum(math.exp(s - top) for s in scores)
    return 1.0 / total


def _contains(outer: Candidate, inner: Candidate) -> bool:
    if outer.place_id == inner.place_id or outer.country_code != inner.country_code:
        return False
    if outer.feature_code and outer.feature_code.startswith("PCL"):
        return True
    if outer.feature_code == "ADM1":
        return outer.admin1_code == inner.admin1_code
    if outer.source == CURATED_SOURCE and outer.feature_code == "RGN":
        # A region of one country ("Yorkshire"): its places are those near its point.
        return (
            haversine_km(outer.latitude, outer.longitude, inner.latitude, inner.longitude)
            < _ADM2_REACH_KM
        )
    if outer.feature_code == "ADM2":
        if outer.admin2 is not None and outer.admin2 == inner.admin2:
            return True
        # Places rarely carry their second-level division: one in the same first-level
        # division and close to the division's point is taken to be inside it.
        return (
            outer.admin1_code == inner.admin1_code
            and haversine_km(outer.latitude, outer.longitude, inner.latitude, inner.longitude) < 60
        )
    return False


@dataclass(frozen=True)
class Focus:
    """What an article is about, geographically.

    Attributes:
        country: ISO alpha-2 of the focus country, or None.
        share: Share of resolved mentions in that country (0..1).
        admin1: First-level division code within that country most salient in the text.
        admin1_share: Weight of that division among the country's divisions (0..1).
        strong: Whether the country clearly dominates (or was given as a hint).
        mentions: Surely resolved mentions of places in that country.
    """

    country: str | None
    share: float
    admin1: str | None
    admin1_share: float
    strong: bool = False
    mentions: int = 0


def _focus_of(picks: Iterable[tuple[Candidate, float, _Span | None]], hint: str | None) -> Focus:
    picks = list(picks)
    votes: dict[str, float] = {}
    admins: dict[str, float] = {}
    for cand, p, span in picks:
        if not cand.country_code or cand.match in ("phonetic", "fuzzy"):
            continue
        # Places inside a country say more about the focus than the names of countries,
        # which conflict news cites as actors; capitals often stand for governments.
        code = cand.feature_code or ""
        weight = p * (1.0 if code.startswith("PCL") else 0.7 if code == "PPLC" else 1.5)
        votes[cand.country_code] = votes.get(cand.country_code, 0.0) + weight
        if cand.admin1_code and not (cand.feature_code or "").startswith("PCL"):
            # Capitals are often metonyms for governments; regions and villages locate events.
            aw = 0.5 if cand.feature_code == "PPLC" else 1.0
            if span is not None and (span.modifier or span.admin_hint):
                aw *= 2.0
            key = f"{cand.country_code}.{cand.admin1_code}"
            admins[key] = admins.get(key, 0.0) + p * aw
    if hint:
        votes[hint] = votes.get(hint, 0.0) + max(2.0, sum(votes.values()))
    if not votes:
        return Focus(None, 0.0, None, 0.0, False)
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])[:2]
    country, top = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    share = top / sum(votes.values())
    mentions = sum(
        1
        for cand, _, _ in picks
        if cand.country_code == country and cand.match not in ("phonetic", "fuzzy")
    )
    strong = hint is not None or (
        share >= 0.3 and top >= 1.3 * runner_up and top >= 1.0 and mentions >= 2
    )
    local = {k: v for k, v in admins.items() if k.startswith(country + ".")}
    if not local:
        return Focus(country, share, None, 0.0, strong, mentions)
    code, weight = max(local.items(), key=lambda kv: kv[1])
    return Focus(
        country, share, code.split(".", 1)[1], weight / sum(local.values()), strong, mentions
    )


def _resolve(
    doc: Any, spans: list[_Span], gaz: Gazetteer, country_hint: str | None
) -> list[Toponym]:
    w = _words()
    hint = gaz.country_code(country_hint) if country_hint else None
    # Pass 1: each name on its own.
    for span in spans:
        cands = _lookup(gaz, span, hint)
        scored = sorted(((_prior(c, span, w), c) for c in cands), key=lambda sc: -sc[0])[:30]
        span.candidates = scored
        if scored:
            span.prior_best = scored[0][1]
            span.prior_p = _softmax_top([s for s, _ in scored])
    # "Afghan forces", "Nigerian police": nationality words say which country the text is
    # about, though they name no place; they count half as much as a place.
    nations = _demonym_countries(doc, gaz, spans)
    focus = _focus_of(
        [(sp.prior_best, sp.prior_p, sp) for sp in spans if sp.prior_best]
        + [(c, _DEMONYM_VOTE, None) for c in nations],
        hint,
    )
    strong = focus.strong
    home = gaz.country_place(focus.country) if focus.country else None
    # Pass 2: in the context of the others.
    if focus.country:
        for span in spans:
            have = {c.place_id for _, c in span.candidates}
            extra = [c for c in _lookup(gaz, span, focus.country) if c.place_id not in have]
            span.candidates += [(_prior(c, span, w), c) for c in extra]
    mentioned = {
        c.country_code
        for sp in spans
        for _, c in sp.candidates[:1]
        if c.feature_code and c.feature_code.startswith("PCL")
    }
    anchors = [(sp, sp.prior_best) for sp in spans if sp.prior_best and sp.prior_p >= 0.5]
    # One vote per name: "Gaza" written three times is one piece of evidence, not three.
    voters: dict[str, Candidate] = {}
    for sp in spans:
        if sp.prior_best is not None:
            voters.setdefault(normalise_name(sp.lookup), sp.prior_best)
    country_votes: dict[str | None, float] = {}
    for c, vote in [(c, 1.0) for c in voters.values()] + [(c, _DEMONYM_VOTE) for c in nations]:
        country_votes[c.country_code] = country_votes.get(c.country_code, 0.0) + vote
    total_votes = sum(country_votes.values()) or 1
    admin_votes = Counter((c.country_code, c.admin1_code) for c in voters.values() if c.admin1_code)
    children: dict[int, list[int]] = {}
    for k, sp in enumerate(spans):
        if sp.parent is not None:
            children.setdefault(sp.parent, []).append(k)
    chosen: list[tuple[tuple[float, Candidate] | None, list[float]]] = []
    containers: list[Candidate | None] = []
    text = _text(doc)
    listed = _enumerations(spans, text)
    siblings = _list_levels(spans, text)
    for index, span in enumerate(spans):
        inner = [] if index in listed else [spans[k] for k in _descendants(index, children)]
        opened = text.rfind("(", 0, span.start_char)
        # "(Anzourou, Tillaberi)": the last name in brackets after a place is its division
        bracketed = (
            bool(inner)
            and opened > text.rfind(")", 0, span.start_char)
            and span.start_char - opened < 80
        )
        best: tuple[float, Candidate] | None = None
        scores: list[float] = []
        # "Pipri, Kaushambi (UP)": every division written after the place says where it is.
        ancestors: list[_Span] = []
        up = span.parent
        # In a list of states or countries, the next name is a sibling, not a container.
        while (
            up is not None
            and index not in siblings
            and len(ancestors) < (1 if index in listed else 3)
        ):
            ancestors.append(spans[up])
            up = spans[up].parent
        primary = any(c.match == "name" for _, c in span.candidates)
        divisions = {
            (c.country_code, c.admin1_code)
            for _, c in span.candidates
            if c.feature_code in ("ADM1", "ADM2")
        }
        # The division and its seat both carry the name ("Luhansk", "Ghazni").
        seat_of_division = any(
            c.feature_class == "P" and (c.country_code, c.admin1_code) in divisions
            for _, c in span.candidates
        )
        best_by_country: dict[str | None, float] = {}
        for prior, c in span.candidates:
            if prior > best_by_country.get(c.country_code, -math.inf):
                best_by_country[c.country_code] = prior
        # The best-known town of the name: "Louisville" is the city of 600,000 in Kentucky
        # before the towns of 9,000 in Ohio or Mississippi, unless the text says otherwise.
        dominant = max(
            (
                c.population
                for _, c in span.candidates
                if c.feature_class == "P" and c.match == "name"
            ),
            default=0,
        )
        for prior, c in span.candidates:
            s = prior
            # The seat of a same-named division: "Idlib", "New York City"; not a village
            # that only has the division's name among its alternates ("Colorado City").
            seat = (
                c.feature_class == "P"
                and (c.country_code, c.admin1_code) in divisions
                and (c.match == "name" or c.population >= 100_000)
            )
            if primary and c.match == "alternate" and not seat:
                s -= 1.0  # "Liverpool" is Liverpool before any place once called so
            if seat and not span.admin_hint:
                s += 1.5  # "New York", "Idlib": the city, unless the text says province
            own = (
                1
                if span.prior_best is not None and span.prior_best.country_code == c.country_code
                else 0
            )
            share = (country_votes.get(c.country_code, 0.0) - own) / total_votes
            # That the text is about a country says little about which of its namesakes a
            # name is when another candidate is far better known: "London" in an article
            # about the US is still London, not London, Ohio.
            weight = 1.0
            if c.feature_code not in _DIVISION_CODES:
                foreign = max(
                    (v for k, v in best_by_country.items() if k != c.country_code), default=prior
                )
                weight = _country_weight(foreign - prior)
            # A small namesake of a big city gets little from soft evidence (the country or
            # region the text is about, places nearby); the text naming its division decides.
            dwarfed = (
                c.feature_class == "P"
                and dominant >= _DOMINANT_TOWN
                and c.population * _DWARF_RATIO <= dominant
            )
            if dwarfed:
                weight = min(weight, _MIN_COUNTRY_WEIGHT)
            s += 2.0 * share * weight
            if c.country_code == focus.country:
                s += 1.0 * weight
            elif c.country_code is None:
                s += 1.5  # oceans, continents, regions: no country to agree or disagree with
            if hint is not None and c.country_code == hint:
                s += 3.0
            if c.country_code in mentioned and not (c.feature_code or "").startswith("PCL"):
                s += 0.8 * weight
            if c.admin1_code:
                own_a = (
                    1
                    if span.prior_best is not None
                    and span.prior_best.admin1_code == c.admin1_code
                    and span.prior_best.country_code == c.country_code
                    else 0
                )
                if (
                    admin_votes[(c.country_code, c.admin1_code)] - own_a > 0
                    and c.feature_code not in _NO_ADMIN_VOTE
                ):
                    s += _SAME_ADMIN1 * (weight if dwarfed else 1.0)  # "Franklin" in Ohio
            if any(_contains(pc, c) for parent in ancestors for _, pc in parent.candidates[:10]):
                # In a list ("Washington, New York and Boston") the next name is less surely
                # the division the place is in.
                s += 1.5 if index in listed else 3.0
            if c.feature_class == "A" and any(
                _contains(c, cc) for child in inner for _, cc in child.candidates[:10]
            ):
                s += 2.0  # "Leon, Guanajuato": the state that holds Leon, not its capital
            elif c.feature_class == "A" and bracketed and c.feature_code in ("ADM1", "ADM2"):
                s += 1.0
            elif c.feature_code in ("ADM1", "ADM2") and inner and seat_of_division:
                # "Orikhove, Luhansk": written after a place, a name shared by a division and
                # its seat is the division even when the place is not known inside it.
                s += 1.0
            s += _coherence(c, span, anchors) * (weight if dwarfed else 1.0)
            if (
                home is not None
                and (c.feature_code or "").startswith("PCL")
                and c.country_code != home.country_code
                and haversine_km(home.latitude, home.longitude, c.latitude, c.longitude)
                < _NEIGHBOUR_KM
            ):
                s += 0.5  # "Georgia" in a text about Azerbaijan: the neighbour, not the state
            if index in siblings and siblings[index] == _level(c):
                s += _LIST_LEVEL  # "Arkansas, Colorado, Delaware": states, not the town
            if c.match in ("phonetic", "fuzzy") and c.country_code != focus.country:
                s -= 3.0
            scores.append(s)
            if best is None or s > best[0]:
                best = (s, c)
        if best is not None and index not in listed:
            span.confirmed = any(
                _contains(pc, best[1]) for parent in ancestors for _, pc in parent.candidates[:10]
            )
        chosen.append((best, scores))
        if index in listed:
            containers.append(None)
        elif best is not None:
            containers.append(_written_container(span, best[1], ancestors, focus.country))
        else:
            # "Maphumulo (iLembe, KwaZulu-Natal)": a name the gazetteer lacks is in the
            # division written after it.
            containers.append(_unknown_in(ancestors, focus.country))
    # "in El Callao, Bolivar state ... armed groups in El Callao": a name the text placed in
    # its division once means the same place when written again without it.
    placed: dict[str, Candidate] = {}
    for span, (best, _) in zip(spans, chosen, strict=True):
        if span.confirmed and best is not None:
            placed.setdefault(normalise_name(span.lookup), best[1])
    if placed:
        for k, span in enumerate(spans):
            known = placed.get(normalise_name(span.lookup))
            best = chosen[k][0]
            if (
                known is None
                or span.confirmed
                or best is None
                or containers[k] is not None
                or k in children  # the division written after a place of the same name
            ):
                continue
            if best[1].place_id != known.place_id and any(
                c.place_id == known.place_id for _, c in span.candidates
            ):
                chosen[k] = ((best[0], known), chosen[k][1])
                span.confirmed = True
    picks = [
        (sp, b[1], _softmax_top(sc))
        for sp, (b, sc), holder in zip(spans, chosen, containers, strict=True)
        if b is not None and holder is None
    ]
    out: list[Toponym] = []
    for span, (best, scores), holder in zip(spans, chosen, containers, strict=True):
        if holder is not None:
            # "Orikhove, Luhansk" when the only Orikhove known is in Crimea: the division the
            # text puts it in, not a namesake outside it.
            t = Toponym(text=span.text, start=span.start_char, end=span.end_char)
            precision = _precision(holder, span) if holder.feature_class == "A" else "near place"
            _fill(t, holder, precision, 0.3)
            out.append(t)
            continue
        regional = city = None
        if focus.country:
            regional = _regional_admin1(span.start_char, picks, focus.country, span.paragraph)
            city = _salient_city(span.start_char, picks, focus.country)
        out.append(_toponym(span, best, scores, focus, strong, gaz, regional, city))
    return out


def _written_divisions(container: _Span, country: str | None) -> list[Candidate]:
    """First- and second-level divisions a container span surely names; a close spelling of
    a division of the text's country ("Urozgan") is that division."""
    return [
        pc
        for _, pc in container.candidates[:10]
        if (pc.match in _SURE_MATCHES or (pc.match == "phonetic" and pc.country_code == country))
        and (
            pc.feature_code in ("ADM1", "ADM2")
            # "Oulton Park, Cheshire": a county known as a region of one country
            or (pc.source == CURATED_SOURCE and pc.feature_code == "RGN" and pc.country_code)
        )
    ]


def _written_container(
    span: _Span, best: Candidate, ancestors: list[_Span], country: str | None
) -> Candidate | None:
    """The division written after a place ("X, Luhansk", "X (Kidal)") when no place of that
    name lies inside it: the division, rather than a namesake elsewhere."""
    local = best.feature_class == "P" or best.feature_code in ("ADM2", "ADM3")
    if not ancestors or not local or best.population >= _KNOWN_TOWN:
        return None
    divisions = _written_divisions(ancestors[0], country)
    if not divisions:
        return _district_seat(span, best, ancestors)
    if any(_may_contain(pc, c) for pc in divisions for _, c in span.candidates):
        return None
    return divisions[0]


def _unknown_in(ancestors: list[_Span], country: str | None) -> Candidate | None:
    """The division written right after a name the gazetteer lacks, when it is sure."""
    divisions = _written_divisions(ancestors[0], country) if ancestors else []
    if not divisions:
        return None
    # The division of the text's country when the name is shared ("Punjab").
    return next((pc for pc in divisions if pc.country_code == country), divisions[0])


def _district_seat(span: _Span, best: Candidate, ancestors: list[_Span]) -> Candidate | None:
    """ "Jalalpur, Shamli (UP)": a district written by the name of its seat, itself inside the
    state written last. When every place of the first name lies far from that seat, the
    place is near the seat rather than at a namesake across the state."""
    if len(ancestors) < 2:
        return None
    states = [pc for _, pc in ancestors[1].candidates[:10] if pc.feature_code == "ADM1"]
    seats = [
        pc
        for _, pc in ancestors[0].candidates[:10]
        if pc.match in _SURE_MATCHES
        and pc.feature_class == "P"
        and pc.country_code == best.country_code
        and any(_contains(st, pc) for st in states)
    ]
    if not seats:
        return None
    seat = seats[0]
    if any(
        haversine_km(seat.latitude, seat.longitude, c.latitude, c.longitude) < _ADM2_REACH_KM
        for _, c in span.candidates
    ):
        return None
    return seat


def _may_contain(outer: Candidate, inner: Candidate) -> bool:
    """Whether ``inner`` may lie in the division ``outer``: looser than :func:`_contains`
    for second-level divisions, whose point is only the middle of their towns."""
    if outer.feature_code == "ADM2" and outer.admin2 != inner.admin2:
        return (
            outer.country_code == inner.country_code
            and outer.admin1_code == inner.admin1_code
            and haversine_km(outer.latitude, outer.longitude, inner.latitude, inner.longitude)
            < _ADM2_REACH_KM
        )
    return _contains(outer, inner)


def _demonym_countries(doc: Any, gaz: Gazetteer, spans: Sequence[_Span]) -> list[Candidate]:
    """The countries named by nationality words of the text (NORP entities such as "Afghan",
    "Nigerian"), one per distinct word, leaving out those already among the place names."""
    taken = {normalise_name(sp.lookup) for sp in spans}
    out: dict[str, Candidate] = {}
    for ent in doc.ents:
        if ent.label_ != "NORP":
            continue
        key = normalise_name(ent.text)
        if key in taken or key in out:
            continue
        found = [
            c
            for c in gaz.candidates(ent.text, limit=5, phonetic=False)
            if c.match == "demonym" and (c.feature_code or "").startswith("PCL")
        ]
        if len(found) == 1:
            out[key] = found[0]
    return list(out.values())


def _country_weight(gap: float) -> float:
    """How much country-level context counts for a candidate whose prior is ``gap`` below
    the best-known candidate's elsewhere: fully up to a gap of :data:`_COUNTRY_WEIGHT_FROM`,
    then less, down to :data:`_MIN_COUNTRY_WEIGHT`."""
    return max(
        _MIN_COUNTRY_WEIGHT, min(1.0, 1.0 - (gap - _COUNTRY_WEIGHT_FROM) / _COUNTRY_WEIGHT_SPAN)
    )


def _descendants(index: int, children: dict[int, list[int]]) -> list[int]:
    """The places a span contains per the text, through "Bafoussam town (Mifi, Ouest)"."""
    out: list[int] = []
    todo = [index]
    while todo and len(out) < 6:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _enumerations(spans: Sequence[_Span], text: str) -> set[int]:
    """Indices of spans in comma chains that are lists, not hierarchies: "Arkansas,
    Oklahoma, Texas and Ontario" (four or more names, or an "and"/"or" after the last)."""
    out: set[int] = set()
    k = 0
    while k < len(spans):
        chain = [k]
        up = spans[k].parent
        while up is not None and up > chain[-1]:
            chain.append(up)
            up = spans[up].parent
        last = spans[chain[-1]]
        after = text[last.end_char : last.end_char + 6].lower().split()
        if len(chain) >= 4 or (after and after[0] in ("and", "or", "&")):
            out.update(chain)
        k = chain[-1] + 1
    return out


#: Bonus for a candidate of the kind (country, or state of one country) the other names of
#: its list are: "Texas and Georgia", "Alberta, Manitoba, Ontario and New Brunswick".
_LIST_LEVEL = 1.5
_LIST_GAP = re.compile(r"\s*(?:,|,?\s*(?:and|or|&))\s*")


def _level(c: Candidate) -> tuple[str | None, str] | None:
    code = c.feature_code or ""
    if code.startswith("PCL"):
        return (None, "PCL")
    if code == "ADM1":
        return (c.country_code, "ADM1")
    return None


def _list_levels(spans: Sequence[_Span], text: str) -> dict[int, tuple[str | None, str]]:
    """For spans in lists of names ("X, Y and Z"), the kind of division most of the other
    names of the list surely are (countries, or first-level divisions of one country)."""
    out: dict[int, tuple[str | None, str]] = {}
    k = 0
    while k < len(spans):
        run = [k]
        while run[-1] + 1 < len(spans):
            a, b = spans[run[-1]], spans[run[-1] + 1]
            if b.start_char < a.end_char or not _LIST_GAP.fullmatch(
                text[a.end_char : b.start_char]
            ):
                break
            run.append(run[-1] + 1)
        k = run[-1] + 1
        gaps = [text[spans[i].end_char : spans[i + 1].start_char] for i in run[:-1]]
        # "Columbus, Ohio" and "Leon, Guanajuato, Mexico" are hierarchies, not lists.
        if len(run) < 4 and not any(g.strip(" ,") for g in gaps):
            continue
        levels: dict[int, tuple[str | None, str] | None] = {}
        for i in run:
            best = spans[i].prior_best
            levels[i] = _level(best) if best is not None and best.match in _SURE_MATCHES else None
        for i in run:
            votes = Counter(lv for j, lv in levels.items() if j != i and lv is not None)
            if votes:
                level, n = votes.most_common(1)[0]
                if 2 * n > len(run) - 1:
                    out[i] = level
    return out


def _coherence(c: Candidate, span: _Span, anchors: list[tuple[_Span, Candidate]]) -> float:
    if c.feature_class == "A":
        return 0.0
    nearest = math.inf
    for other, anchor in anchors:
        if other is span or anchor.place_id == c.place_id or anchor.feature_class == "A":
            continue
        if abs(anchor.latitude - c.latitude) > 3 or abs(anchor.longitude - c.longitude) > 4:
            continue
        nearest = min(
            nearest, haversine_km(c.latitude, c.longitude, anchor.latitude, anchor.longitude)
        )
    if nearest < 50:
        return 1.0
    if nearest < 200:
        return 0.5
    return 0.0


def _precision(c: Candidate, span: _Span) -> str:
    code = c.feature_code or ""
    if code.startswith("PCL") or code in _COARSE_CODES:
        return "country"  # the coarsest precision there is
    if code == "ADM1":
        return "admin1"
    if code == "ADM2":
        return "admin2"
    if span.modifier in ("near", "direction") or span.part:
        return "near place"
    return "exact place"


def _fill(t: Toponym, c: Candidate, precision: str, confidence: float) -> None:
    t.name = c.name
    t.latitude = c.latitude
    t.longitude = c.longitude
    t.country = c.country
    t.admin1 = c.admin1
    t.admin2 = c.admin2
    t.geonames_id = c.geonames_id
    t.feature_code = c.feature_code
    t.pcode = c.pcode
    t.geo_precision = precision
    t.confidence = round(max(0.0, min(1.0, confidence)), 3)


def _toponym(
    span: _Span,
    best: tuple[float, Candidate] | None,
    scores: list[float],
    focus: Focus,
    strong: bool,
    gaz: Gazetteer,
    regional: str | None,
    city: Candidate | None,
) -> Toponym:
    t = Toponym(text=span.text, start=span.start_char, end=span.end_char)
    if best is not None:
        score, c = best
        foreign = focus.country is not None and c.country_code != focus.country
        small = c.feature_class == "P" and c.feature_code != "PPLC" and c.population < 50_000
        notable = c.feature_class == "A" or c.population >= 50_000
        guessed = span.origin != "gold"
        if guessed and span.agent and c.match in ("phonetic", "fuzzy"):
            # "Granda was captured": a one-word subject of a clause spelt only like a place
            # is somebody, not Granada.
            span.rejected = True
            return t
        if (
            guessed
            and span.person
            and span.verb_object
            and small
            and foreign
            and c.match in _SURE_MATCHES
        ):
            # "the army encircles Arafat": a name the model took for a person, object of a
            # verb rather than of a preposition, is a person unless a place of the text's
            # own country bears it.
            span.rejected = True
            return t
        if c.match in ("phonetic", "fuzzy") and (
            foreign or (focus.country is None and not notable)
        ):
            # A loose spelling match is trusted inside the text's country, or for a place
            # notable enough to be written about from anywhere ("Deir Ezzor", "Ingushetia").
            best = None
        elif foreign and strong and small and span.origin != "gold" and not span.confirmed:
            best = None
    if best is not None:
        score, c = best
        p = _softmax_top(scores)
        confidence = p * _MATCH_TRUST.get(c.match, 0.8)
        if span.origin in ("recovered", "feature", "unlisted"):
            confidence *= 0.85
        _fill(t, c, _precision(c, span), 0.15 + 0.85 * confidence)
        return t
    # Recognised but not in the gazetteer: a street, feature, road or village that the
    # context puts in the article's focus. Say so honestly: "near" the salient city for
    # urban features, else the salient division (admin1), else the country.
    urban = span.text.split()[-1].lower() in _words().urban
    given = span.origin == "gold" and (urban or (focus.share >= 0.5 and focus.mentions >= 2))
    if not (focus.country and (strong or given)):
        # A name given as a place (not guessed) is placed near what the text is about when
        # most of the text's places agree, or when it is a street or building.
        return t
    if (urban or span.origin == "gold") and city is not None:
        _fill(t, city, "near place", 0.25)
        return t
    if (
        span.origin in ("feature", "road", "recovered", "gold") or span.locative
    ) and regional is not None:
        region = gaz.admin1_place(focus.country, regional)
        if region is not None:
            _fill(t, region, "admin1", 0.3)
            return t
    if span.origin in ("feature", "road", "recovered", "gold") or span.locative:
        nation = gaz.country_place(focus.country)
        if nation is not None:
            _fill(t, nation, "country", 0.25)
    return t


def _salient_city(
    position: int, picks: Sequence[tuple[_Span, Candidate, float]], country: str
) -> Candidate | None:
    """The populated place most salient around character ``position`` (resolved surely)."""
    best: tuple[float, Candidate] | None = None
    for span, cand, p in picks:
        if (
            cand.country_code != country
            or cand.feature_class != "P"
            or p < 0.5
            or cand.match not in ("name", "alternate")
        ):
            continue
        weight = (
            p
            * math.exp(-abs(span.start_char - position) / 800)
            * (1 + math.log10(cand.population + 1) / 7)
        )
        if weight >= 0.1 and (best is None or weight > best[0]):
            best = (weight, cand)
    return best[1] if best else None


def _regional_admin1(
    position: int, picks: Sequence[tuple[_Span, Candidate, float]], country: str, paragraph: int = 0
) -> str | None:
    """Admin1 most salient around character ``position`` (in ``paragraph``): nearby mentions
    weigh more."""
    weights: dict[str, float] = {}
    for span, cand, p in picks:
        if cand.country_code != country or not cand.admin1_code:
            continue
        code = cand.feature_code or ""
        if code.startswith("PCL"):
            continue
        w = (
            p
            * (0.5 if code == "PPLC" else 1.0)
            * (2.0 if span.modifier or span.admin_hint else 1.0)
        )
        if span.subject:
            w *= 0.3  # "Damascus tries...": a government, not a place where things happen
        if span.paragraph != paragraph:
            w *= 0.5
        weights[cand.admin1_code] = weights.get(cand.admin1_code, 0.0) + w * math.exp(
            -abs(span.start_char - position) / 400
        )
    if not weights:
        return None
    code, top = max(weights.items(), key=lambda kv: kv[1])
    return code if top >= 0.3 * sum(weights.values()) else None


# --------------------------------------------------------------------------- public API
def find_toponyms(
    doc: Any,
    gazetteer: Gazetteer,
    *,
    country_hint: str | None = None,
    exclude: Sequence[tuple[int, int]] = (),
) -> list[Toponym]:
    """Recognise and resolve the place names in a parsed document.

    Args:
        doc: A spaCy ``Doc`` with entities (and ideally the parse and tags).
        gazetteer: An open gazetteer.
        country_hint: ISO alpha-2 or alpha-3 code of the country the text is most likely
            about; it weighs as much as all other evidence together.
        exclude: Character spans to skip (e.g. actor mentions used as metonyms).

    Returns:
        Toponyms in text order, offsets indexing ``doc.text``. Unresolved ones have
        ``name`` None and confidence 0.
    """
    if len(doc) == 0:
        return []
    hint = gazetteer.country_code(country_hint)
    country = hint or _preliminary_focus(doc, gazetteer, exclude)
    spans = _recognise(doc, gazetteer, country, exclude)
    resolved = _resolve(doc, spans, gazetteer, country_hint)
    return [t for t, span in zip(resolved, spans, strict=True) if not span.rejected]


def _preliminary_focus(doc: Any, gaz: Gazetteer, exclude: Sequence[tuple[int, int]]) -> str | None:
    """Focus country from the model's own place entities, to guide recovery of the rest."""
    w = _words()
    picks = []
    for ent in doc.ents:
        if ent.label_ not in NER_LABELS or _is_abbreviation(ent.text):
            continue
        if any(ent.start_char < xe and xs < ent.end_char for xs, xe in exclude):
            continue
        s, e = _trim(doc, ent.start, ent.end)
        if s >= e:
            continue
        span = _Span(
            s,
            e,
            doc[s].idx,
            doc[e - 1].idx + len(doc[e - 1].text),
            doc[s:e].text,
            doc[s:e].text,
            "ner",
        )
        scored = sorted(
            ((_prior(c, span, w), c) for c in gaz.candidates(span.lookup, limit=25)),
            key=lambda sc: -sc[0],
        )
        if scored:
            picks.append((scored[0][1], _softmax_top([x for x, _ in scored]), span))
    focus = _focus_of(picks, None)
    return focus.country if focus.strong else None


def resolve_spans(
    doc: Any,
    gazetteer: Gazetteer,
    spans: Sequence[tuple[int, int]],
    *,
    country_hint: str | None = None,
    context: bool = False,
) -> list[Toponym]:
    """Resolve given place-name spans (e.g. gold annotations) jointly.

    Args:
        doc: A parsed spaCy ``Doc``.
        gazetteer: An open gazetteer.
        spans: Character ``(start, end)`` offsets into ``doc.text``.
        country_hint: As for :func:`find_toponyms`.
        context: Also recognise the other place names of the text and resolve them with the
            given spans, as evidence (they are not returned).

    Returns:
        One toponym per span, in the order given.
    """
    w = _words()
    built: list[_Span] = []
    extra: list[_Span] = []
    if context:
        hint = gazetteer.country_code(country_hint)
        country = hint or _preliminary_focus(doc, gazetteer, ())
        extra = [sp for sp in _recognise(doc, gazetteer, country, spans)]
    for start, end in spans:
        sp = doc.char_span(start, end, alignment_mode="expand")
        ts, te = (sp.start, sp.end) if sp is not None else (0, 0)
        text = _text(doc)
        span = _Span(
            start=ts,
            end=te,
            start_char=start,
            end_char=end,
            text=text[start:end],
            lookup=text[start:end],
            origin="gold",
        )
        if te > ts:
            _annotate(doc, span, w)
        built.append(span)
    every = built + extra
    order = sorted(range(len(every)), key=lambda k: every[k].start_char)
    ordered = [every[k] for k in order]
    for k, span in enumerate(ordered):
        span.parent = None
        nxt = ordered[k + 1] if k + 1 < len(ordered) else None
        if nxt is not None and _contained_by(doc, span, nxt, w):
            span.parent = k + 1
    resolved = _resolve(doc, ordered, gazetteer, country_hint)
    out: list[Toponym] = [Toponym(text="", start=0, end=0)] * len(every)
    for k, top in zip(order, resolved, strict=True):
        out[k] = top
    return out[: len(built)]


def span_of(t: Toponym) -> _Span:
    """A resolved toponym as the span resolution ranks (its precision as the hints)."""
    return _Span(
        0,
        0,
        t.start,
        t.end,
        t.text,
        t.text,
        "ner",
        modifier="direction" if t.geo_precision == "near place" else None,
        admin_hint=t.geo_precision == "admin1",
    )


def article_focus(toponyms: Sequence[Toponym], gazetteer: Gazetteer) -> Focus:
    """The focus country and most salient first-level division of resolved toponyms.

    Regions and villages count more than capitals, which often stand for governments.
    """
    picks = []
    for t in toponyms:
        if t.name is None or t.country is None or t.confidence <= 0 or _approximated(t):
            continue
        code = gazetteer.country_code(t.country)
        adm1 = gazetteer.admin1_code(code, t.admin1) if code and t.admin1 else None
        cand = Candidate(
            geonames_id=t.geonames_id,
            name=t.name,
            latitude=t.latitude or 0.0,
            longitude=t.longitude or 0.0,
            country=t.country,
            country_code=code,
            admin1_code=adm1,
            admin1=t.admin1,
            admin2=t.admin2,
            feature_class="A" if t.geo_precision in ("country", "admin1") else "P",
            feature_code=t.feature_code,
            population=0,
            pcode=t.pcode,
            source="",
        )
        picks.append((cand, max(t.confidence, 0.3), span_of(t)))
    return _focus_of(picks, None)


def _approximated(t: Toponym) -> bool:
    """Whether ``t`` was placed at its region or country only because the context put it there
    (its own name is not that region's)."""
    return (
        t.geo_precision in ("admin1", "country")
        and t.name is not None
        and phonetic_key(t.text) != phonetic_key(t.name)
        and normalise_name(t.text) != normalise_name(t.name)
    )


def _asdict(c: Candidate) -> dict[str, Any]:
    return {f: getattr(c, f) for f in c.__dataclass_fields__}
