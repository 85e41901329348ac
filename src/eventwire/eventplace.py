"""Event location: the place where each event happened.

For each event, the place attached to its clause (the preposition and the dependency path to
the trigger) comes first, then a place of the sentence, then the article's focus, with the
precision falling back honestly ("near place", "admin2", "admin1", "country").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from .gazetteer import Candidate, Gazetteer, haversine_km, normalise_name
from .geoparsing import (
    _CONTAINER_MARKS,
    NER_LABELS,
    Focus,
    _approximated,
    _asdict,
    _fill,
    _regional_admin1,
    _text,
    _words,
    article_focus,
    resolve_spans,
    span_of,
)
from .model import Toponym

__all__ = ["event_place"]

#: Weight of a place by the preposition that attaches it, and the precision it implies.
_AT_PREPS = frozenset({"in", "at", "on", "inside", "within", "across", "throughout", "over"})
_NEAR_PREPS = frozenset({"near", "outside", "around", "nearby", "beyond", "off", "between"})
_OBJECT_DEPS = frozenset({"dobj", "nsubjpass", "obj", "attr"})
_MODIFIER_DEPS = frozenset({"compound", "amod", "nmod"})
_PATH_PREPS = frozenset(
    {"towards", "toward", "to", "into", "from", "through", "via", "onto", "along"}
)
#: What one moves through or towards is a place even when its name also stands for a state
#: ("marched through Belgrade", "advanced towards Damascus"); "from" and "to" may name a
#: government ("pressure from Damascus", "a message to Moscow").
_ROUTE_PREPS = frozenset({"through", "via", "along", "into", "onto", "towards", "toward"})
_THROUGH_DEPS = frozenset({"compound", "amod", "nmod", "appos", "conj", "flat"})
#: Subjects and possessors name actors ("Damascus tries"); passive subjects are what the event
#: happened to ("Kisangani was captured") and stay candidates.
_SUBJECT_DEPS = frozenset({"nsubj", "poss", "agent", "csubj"})


def _root(doc: Any, start: int, end: int) -> Any | None:
    span = doc.char_span(start, end, alignment_mode="expand")
    return span.root if span is not None and len(span) else None


def _attachment(tok: Any) -> tuple[str | None, Any, Any]:
    """How ``tok`` hangs in its clause: ``(preposition, its head, node)``, where ``node`` is
    the token standing for the place after climbing compounds, conjunctions and "the town
    of X"; without a preposition, ``head`` is the node's own head."""
    for _ in range(6):
        if tok.dep_ == "poss" and tok.head.lower_ in _place_nouns() | _POSSESSED_PLACES:
            if any(c.dep_ in _MODIFIER_DEPS and c.pos_ == "PROPN" for c in tok.head.children) or (
                _named_of(tok.head)
            ):
                # "Baghdad's western Amriya district", "Baghdad's mainly Shiite neighborhood
                # of Kamaliya": Baghdad only says where Amriya or Kamaliya is.
                return "(container)", tok.head, tok
            tok = tok.head  # "Egypt's streets", "Sri Lanka's west coast"
        elif (
            tok.head.lower_ in _COMPASS
            and tok.dep_ in ("npadvmod", "compound", "nmod", "amod", "nsubj")
            and any(c.dep_ == "prep" and c.lower_ == "of" for c in tok.head.children)
        ):
            tok = tok.head  # "the town of al-Wafa west of Ramadi": al-Wafa stands for "west"
        elif tok.dep_ in _THROUGH_DEPS and tok.head is not tok:
            if tok.dep_ in _MODIFIER_DEPS and _is_time_noun(tok.head):
                # "demonstrated in Tbilisi Thursday", "marched through Rome Saturday": the
                # parser hung the name on the date; it stands where the date stands.
                tok = tok.head
                continue
            if (
                tok.dep_ in _MODIFIER_DEPS
                and tok.head.ent_type_ not in NER_LABELS
                and not _is_place_noun(tok.head)
            ):
                # "A US soldier", "Iraqi troops": the name describes someone, not where.
                return "(modifier)", tok.head, tok
            if (
                tok.dep_ in _MODIFIER_DEPS
                and (
                    tok.head.lower_ in _settlement_nouns()
                    or (tok.head.lower_ in _QUARTER_NOUNS and tok.ent_type_ == "GPE")
                )
                and (
                    _named_of(tok.head)
                    or (tok.head.dep_ == "appos" and tok.head.head.pos_ == "PROPN")
                )
            ):
                # "the Los Angeles suburb of Rosemead", "at Highfield, a Harare township":
                # the place is the name the settlement noun stands for.
                return "(container)", tok.head, tok
            tok = tok.head
        else:
            break
    prep: str | None = None
    head = tok.head
    for _ in range(4):
        if tok.dep_ == "pobj" and (tok.head.pos_ == "ADP" or tok.head.dep_ == "prep"):
            prep, head = tok.head.lower_, tok.head.head
        else:
            break
        if (
            prep == "of"
            and head.lower_ in _COMPASS
            and (
                any(c.pos_ == "PROPN" and c.i < head.i for c in head.children)
                or _distance_after_name(head)
            )
        ):
            # "the town of al-Wafa west of Ramadi", "in Fallujah, 50 km west of Baghdad":
            # Ramadi and Baghdad only say where al-Wafa and Fallujah are
            return "(container)", head, tok
        if prep in _EXAMPLE_PREPS and _is_place_noun(head):
            # "captured key towns in North Kivu, including Kanyabayonga": the named towns
            # stand where the towns stand.
            tok = head
            prep, head = None, tok.head
            continue
        if prep == "of" and head.pos_ in ("NOUN", "PROPN", "PRON", "NUM"):
            # "the Sunni neighborhood of Adhamiyah": a people's name names no area
            named_head = head.ent_type_ in NER_LABELS or any(
                c.dep_ in ("compound", "amod", "nmod")
                and c.pos_ == "PROPN"
                and c.ent_type_ != "NORP"
                for c in head.children
            )
            # A city's name on a neighbourhood noun is its container ("the Homs neighbourhood
            # of Baba Amr"); another name is the area's own ("the Bala Farms area").
            city_head = any(
                c.dep_ in _MODIFIER_DEPS and c.ent_type_ == "GPE" for c in head.children
            )
            if named_head and (
                tok.lower_ in _place_nouns()
                or (
                    head.lower_ in _area_nouns()
                    and not (city_head and head.lower_ in _QUARTER_NOUNS)
                )
            ):
                # "Daychopan district of Zabul province", "the Bala Farms area of rural
                # Damascus": the second name only says where the first is.
                return "(container)", head, tok
            if head.ent_type_ == "PERSON" or head.lemma_.lower() in _FORCE_NOUNS:
                # "Richard Fecteau of Massachusetts", "the military forces of Azerbaijan":
                # the name says who, not where.
                return "(modifier)", head, tok
            # "on the eastern edge of the province", "stormed the village of Mainok",
            # "captured half of Zaire": the place stands where its head noun stands.
            tok = head
            prep, head = None, tok.head
            continue
        break
    return prep, head, tok


#: Nouns of time a name can be misparsed as modifying ("in Tbilisi Thursday").
_TIME_NOUNS = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    | {"today", "tonight", "yesterday", "morning", "afternoon", "evening", "night"}
)


def _is_time_noun(tok: Any) -> bool:
    return tok.lower_ in _TIME_NOUNS or (tok.ent_type_ in ("DATE", "TIME") and tok.pos_ != "ADP")


def _distance_after_name(compass: Any) -> bool:
    """Whether a compass word with a distance follows a name after a comma ("Fallujah, 50 km
    west of Baghdad")."""
    distance = [
        c
        for c in compass.children
        if c.dep_ in ("npadvmod", "nmod") and any(g.like_num for g in c.children)
    ]
    if not distance:
        return False
    k = min(compass.left_edge.i, *(c.left_edge.i for c in distance)) - 1
    doc = compass.doc
    return k >= 1 and doc[k].text == "," and doc[k - 1].pos_ == "PROPN"


#: Compass words of relative expressions ("west of Ramadi").
_COMPASS = frozenset(
    {"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"}
)

#: Prepositions that name examples of the noun they hang on ("towns including X").
_EXAMPLE_PREPS = frozenset({"including", "like", "as"})


def _is_place_noun(tok: Any) -> bool:
    """Whether ``tok`` is a noun a place name can modify and still be the place ("Mada and
    Wonaka districts")."""
    nouns = _place_nouns()
    if tok.lower_ == "government":  # "in Sanga local government (area)"
        return any(c.lower_ == "local" for c in tok.children)
    return tok.lower_ in nouns or (tok.pos_ == "NOUN" and tok.lemma_.lower() in nouns)


def _named_noun(doc: Any, noun: Any, container: Toponym, toponyms: Sequence[Toponym]) -> bool:
    """Whether a toponym other than ``container`` names ``noun`` ("the Los Angeles suburb of
    Rosemead": Rosemead names the suburb), known to the gazetteer or not."""
    naming = {noun.i}
    for c in noun.children:
        if c.dep_ in _MODIFIER_DEPS or c.dep_ == "compound":
            naming.add(c.i)
        elif c.dep_ == "prep" and c.lower_ == "of":
            naming.update(g.i for g in c.children if g.dep_ == "pobj")
    for t in toponyms:
        if t is container or (t.start < container.end and container.start < t.end):
            continue
        tok = _root(doc, t.start, t.end)
        if tok is not None and tok.i in naming:
            return True
    return False


def _named_of(noun: Any) -> bool:
    """Whether ``noun`` carries its own name in an "of" phrase ("the town of Mainok")."""
    return any(
        c.dep_ == "prep"
        and c.lower_ == "of"
        and any(g.dep_ == "pobj" and g.pos_ == "PROPN" for g in c.children)
        for c in noun.children
    )


@cache
def _place_nouns() -> frozenset[str]:
    """Nouns a place name can modify and still be the place ("Vedeno region", "Hama
    countryside", "Silopi town"), unlike "US soldier"."""
    w = _words()
    return (
        w.admin
        | w.settlement
        | w.features
        | w.urban
        | frozenset(
            {"region", "area", "residence", "home", "outskirts", "suburbs", "vicinity", "township"}
            | {"axis", "front", "valley", "plain", "plains", "farms", "post", "checkpost"}
            | _SUBDIVISION_NOUNS
        )
    )


#: Words for local divisions and quarters that the admin and settlement lexicons lack.
_SUBDIVISION_NOUNS = frozenset(
    {
        "locality",
        "taluka",
        "taluk",
        "tehsil",
        "subdivision",
        "sub-division",
        "commune",
        "regency",
        "ward",
        "colony",
        "community",
        "sector",
        "quarter",
        "lga",
    }
)

#: Nouns of states' forces and authorities, whose "of" name is an actor, not a place.
_FORCE_NOUNS = frozenset(
    {
        "force",
        "forces",
        "troop",
        "army",
        "military",
        "soldier",
        "police",
        "government",
        "authority",
        "authorities",
        "navy",
        "president",
        "minister",
        "ministry",
        "embassy",
        "official",
        "militia",
    }
)

#: Parts of a city: "the Homs neighbourhood of Baba Amr" names the part after "of".
_QUARTER_NOUNS = frozenset({"neighbourhood", "neighborhood"})

#: Nouns a country's possessive can locate ("Egypt's streets").
_POSSESSED_PLACES = frozenset(
    {
        "streets",
        "waters",
        "coast",
        "coastline",
        "border",
        "borders",
        "north",
        "south",
        "east",
        "west",
        "capital",
        "soil",
        "cities",
        "towns",
        "villages",
        "regions",
        "provinces",
    }
)


@cache
def _settlement_nouns() -> frozenset[str]:
    """Nouns of settlements whose "of" name is the place and whose modifier its container."""
    return frozenset(
        {
            "town",
            "city",
            "village",
            "suburb",
            "hamlet",
            "camp",
            "settlement",
            "capital",
            "port",
            "township",
            "community",
        }
    )


@cache
def _area_nouns() -> frozenset[str]:
    """Nouns whose own name comes before them and whose "of" phrase is their container ("the
    Bala Farms area of rural Damascus"), unlike settlements ("the West Bank town of Ramallah")."""
    return _words().admin | frozenset(
        {
            "area",
            "region",
            "sector",
            "neighbourhood",
            "neighborhood",
            "quarter",
            "farms",
            "valley",
            "plain",
            "plains",
            "district",
            "axis",
            "front",
        }
    )


#: Dependencies by which a verb heads a clause of its own.
_CLAUSE_DEPS = frozenset(
    {"ROOT", "advcl", "ccomp", "xcomp", "conj", "relcl", "acl", "pcomp", "csubj", "parataxis"}
)


def _clause(tok: Any) -> Any:
    """The verb heading the clause ``tok`` stands in (the sentence root at worst)."""
    for node in (tok, *tok.ancestors):
        if node.pos_ in ("VERB", "AUX") and node.dep_ in _CLAUSE_DEPS:
            return node
    return tok.sent.root


def _path_length(a: Any, b: Any) -> int:
    ancestors = {a.i: 0}
    for depth, anc in enumerate(a.ancestors, 1):
        ancestors[anc.i] = depth
    if b.i in ancestors:
        return ancestors[b.i]
    for depth, anc in enumerate(b.ancestors, 1):
        if anc.i in ancestors:
            return depth + ancestors[anc.i]
    return 12


def _anaphors(doc: Any, start: int, end: int) -> list[tuple[int, int, str]]:
    """Definite references to a division ("the province", "the area") inside a sentence."""
    w = _words()
    out: list[tuple[int, int, str]] = []
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return out
    for tok in span:
        low = tok.lower_
        if low not in w.admin and low != "country":
            continue
        k = tok.i - 1
        while (
            k > span.start
            and tok.i - k < 4
            and doc[k].pos_ in ("ADJ", "PROPN")
            and doc[k].lower_ not in ("the", "this", "that")
        ):
            k -= 1
        if k < 0 or doc[k].lower_ not in ("the", "this", "that"):
            continue
        named = [t for t in doc[k + 1 : tok.i] if t.pos_ == "PROPN"]
        # "the East Ghouta region": a division of its own name, which the gazetteer lacks;
        # the reference keeps that name
        first = named[0].idx if named else tok.idx
        nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
        if (
            nxt is not None
            and nxt.lower_ == "of"
            and tok.i + 2 < len(doc)
            and doc[tok.i + 2].text[:1].isupper()
        ):
            continue  # "the province of Idlib" names the province itself
        out.append((first, tok.idx + len(tok.text), "country" if low == "country" else "admin1"))
    return out


def event_place(
    doc: Any,
    event: Any,
    toponyms: Sequence[Toponym],
    gazetteer: Gazetteer,
    *,
    actor_spans: Sequence[tuple[int, int]] = (),
    focus: Focus | None = None,
) -> tuple[Toponym | None, str | None]:
    """The place where one event happened, and the precision to record it with.

    The toponym attached to the trigger's clause by a locative preposition comes first, then
    other places in the sentence (never those inside actor mentions or used as subjects,
    which name actors), then a definite reference such as "the province" resolved to the
    division in focus, then the article's focus region or country.

    Args:
        doc: The parsed article.
        event: An :class:`~eventwire.model.Event` with sentence ``start``/``end`` and
            ``trigger_start``/``trigger_end`` in article offsets.
        toponyms: The article's toponyms.
        gazetteer: An open gazetteer (for the divisions of the focus fallback).
        actor_spans: Character spans of actor mentions; places inside them are skipped.
        focus: The article focus (computed from ``toponyms`` when None).

    Returns:
        ``(toponym, precision)``, or ``(None, None)`` when nothing honest can be said.
    """
    if focus is None:
        focus = article_focus(toponyms, gazetteer)
    trigger = None
    if event.trigger_start is not None and event.trigger_end is not None:
        trigger = _root(doc, event.trigger_start, event.trigger_end)
    if trigger is None:
        sent = doc.char_span(event.start, event.end, alignment_mode="expand")
        trigger = sent.root if sent is not None and len(sent) else None
    toponyms = [*toponyms, *_attached_names(doc, event, toponyms, actor_spans, gazetteer, focus)]
    options: list[tuple[float, Toponym, str | None]] = []
    located: set[int] = set()  # toponyms after "in", "at"...
    containers: set[int] = set()  # "the Badrok area of Chaghcharan city": Chaghcharan
    loose: list[tuple[float, Toponym, str | None]] = []  # subjects and possessors
    parts: set[int] = set()  # nouns of unknown parts whose container stands for them
    nearby: set[int] = set()  # toponyms after "near", "outside", "close to"...
    for t in toponyms:
        if t.start < event.start or t.end > event.end:
            continue
        tok = _root(doc, t.start, t.end)
        if tok is None:
            continue
        before = doc[tok.left_edge.i - 1] if tok.left_edge.i > 0 else None
        after_at = before is not None and before.lower_ in _AT_PREPS
        if (
            tok.dep_ in _SUBJECT_DEPS
            and not (tok.dep_ == "poss" and tok.head.lower_ in _place_nouns() | _POSSESSED_PLACES)
            # "In Paucarpata, Arequipa, workers staged ...": a misparse, not a subject
            and not (after_at and tok.dep_ == "nsubj")
        ):
            # "Damascus tries", "Ankara's violations": an actor, not a place, unless nothing
            # else is ("Japan's top police official has been shot")
            if not any(t.start < e and s < t.end for s, e in actor_spans):
                loose.append(
                    (_attachment_score(tok, trigger, t)[0] - _SUBJECT_PENALTY, t, t.geo_precision)
                )
            continue
        prep, _, _ = _attachment(tok)
        recovered = None
        after = doc[tok.right_edge.i + 1] if tok.right_edge.i + 1 < len(doc) else None
        if (
            before is not None
            and before.lower_ in _AT_PREPS
            and (
                (prep is None and tok.dep_ not in _OBJECT_DEPS)
                or (prep == "(modifier)" and after is not None and after.text == ",")
            )
        ):
            # The parse may miss "In Cosoleacaque, Veracruz, men ..." or "in San Pedro de la
            # Paz, Biobio, ...": the name right after "in" is still put "in" it.
            recovered = prep = before.lower_
        if prep in _AT_PREPS or (before is not None and before.lower_ in _AT_PREPS):
            located.add(id(t))
        elif prep == "(container)":
            containers.add(id(t))
        elif prep in _NEAR_PREPS or (prep == "to" and _attachment(tok)[1].lower_ == "close"):
            nearby.add(id(t))
        if (
            prep not in _AT_PREPS
            and prep not in _NEAR_PREPS
            and prep != "(container)"
            and prep not in _ROUTE_PREPS
            and any(t.start < e and s < t.end for s, e in actor_spans)
        ):
            # "pressed from Damascus": the actor; "in Syria", "militants in the X area of
            # Jurm district" stay places
            continue
        score, precision = _attachment_score(tok, trigger, t, recovered)
        if prep == "(container)" and t.name is not None and not _approximated(t):
            noun = _attachment(tok)[1]
            if noun.i not in parts and not _named_noun(doc, noun, t, toponyms):
                parts.add(noun.i)  # the first container only: "of Spin Boldak district, Kandahar"
                # "in the Aab-a-Raghak area of Jurm district, Badakhshan": the gazetteer
                # does not know the area, so the event is near the town that contains it.
                score, precision = _attachment_score(noun, trigger, t)
                score -= _UNNAMED_PART
                if precision == "exact place":
                    precision = "near place"
        options.append((score, t, precision))
    for s, e, level in _anaphors(doc, event.start, event.end):
        tok = _root(doc, s, e)
        if tok is None:
            continue
        named = _named_before(doc, tok, event.start, toponyms) if s == tok.idx else None
        if named is not None:
            # "fighting around the Homs neighbourhood of Baba Amr, as regime forces seized
            # control of the district": the district the sentence has just named
            score, _ = _attachment_score(tok, trigger, named)
            options.append((score - 0.25, named, named.geo_precision))
            continue
        ref = _focus_toponym(toponyms, gazetteer, focus, s, level)
        if ref is None:
            continue
        ref.text, ref.start, ref.end = _text(doc)[s:e], s, e
        score, _ = _attachment_score(tok, trigger, ref)
        options.append((score - 0.25, ref, ref.geo_precision))
    options = [
        (score - _contained_penalty(t, prec, options), t, prec) for score, t, prec in options
    ]
    options = _weigh_containers(
        _text(doc),
        options,
        [t for t in toponyms if event.start <= t.start < event.end],
        gazetteer,
    )
    weak = [
        o
        for o in options
        if o[1].name is not None and not _approximated(o[1]) and id(o[1]) in located
    ]
    scored = options  # containers below the floor still say where a part of them is
    options = [o for o in options if o[0] > (_FLOOR if o[1].name is not None else _FLOOR_UNLISTED)]
    if options:
        # A name attached to the clause is the answer even when the gazetteer cannot place
        # it: the record keeps its text, with no coordinates and no precision.
        score, best, precision = max(options, key=lambda o: o[0])
        town = (
            _facility_town(doc, best, toponyms)
            if best.name is None or _approximated(best)
            else None
        )
        if town is not None:
            # "near the al-Shaab Football Stadium in eastern Baghdad", "outside the Victoria
            # Hotel in Warsaw": a building or a street the gazetteer lacks is where its town is
            best, precision = town, town.geo_precision
        elif best.text[:1].isupper() and (best.name is None or _approximated(best)):
            best, precision = _near_known_town(
                doc, best, precision, scored, located | containers | nearby
            )
            if best.name is None:
                best, precision = _in_named_division(doc, best, event, toponyms, gazetteer, focus)
        elif precision in ("exact place", "near place") and _quarter_name(doc, best):
            best, precision = _quarter_of_town(
                doc, best, precision, scored, located, containers, toponyms
            )
        elif precision in ("exact place", "near place"):
            best, precision = _namesake_in_town(doc, best, precision, scored, containers)
        return best, precision if best.name is not None else None
    pos = event.trigger_start if event.trigger_start is not None else event.start
    ref = _focus_toponym(toponyms, gazetteer, focus, pos, "admin1")
    if ref is not None:
        # A place of the sentence loosely attached to the event but inside the region the
        # article is about ("In Cosoleacaque, Veracruz, armed men ... carried out a
        # shooting") is a finer answer than that region.
        inside = [
            o
            for o in weak
            if o[0] > _FLOOR - _WEAK_SLACK
            and o[1].country == ref.country
            and (ref.geo_precision == "country" or o[1].admin1 == ref.admin1)
        ]
        if inside:
            _, best, precision = max(inside, key=lambda o: o[0])
            return best, precision
        # "citizens from Redeyef (Gafsa) protested", "the Aab-a-Raghak area of Jurm district,
        # Badakhshan": a town the sentence names in that region is nearer than the region.
        towns = [
            t
            for t in toponyms
            if event.start <= t.start < event.end
            and t.name is not None
            and not _approximated(t)
            and t.geo_precision in ("exact place", "near place")
            and t.country == ref.country
            and (ref.geo_precision == "country" or t.admin1 == ref.admin1)
            and not any(t.start < e and s < t.end for s, e in actor_spans)
        ]
        if towns and all(_km(towns[0], t) <= _SAME_TOWN_KM for t in towns[1:]):
            return replace(towns[0], geo_precision="near place"), "near place"
        earlier = _inherited_place(doc, toponyms, event.start, ref)
        if earlier is not None:
            return earlier, earlier.geo_precision
        return ref, ref.geo_precision
    # Nothing is attached and the article has no focus: a place the sentence names only as a
    # possessor or modifier ("Mexico's police chief was shot", "captured on an Afghanistan
    # battlefield") is still the best honest answer, at its own precision.
    last = [
        o
        for o in [*scored, *loose]
        if o[1].name is not None and not _approximated(o[1]) and o[0] > _LAST_RESORT
    ]
    if last:
        _, best, precision = max(last, key=lambda o: o[0])
        return best, precision
    return None, None


def _attachment_score(
    tok: Any, trigger: Any | None, t: Toponym, recovered: str | None = None
) -> tuple[float, str | None]:
    prep, head, node = _attachment(tok)
    if recovered is not None and prep in (None, "(modifier)"):
        # the preposition the text puts right before a misparsed name
        prep, head = recovered, node.head
    precision = t.geo_precision
    if prep in _AT_PREPS:
        weight = 3.0
    elif prep in _NEAR_PREPS:
        weight = 2.5
        precision = "near place" if precision == "exact place" else precision
    elif prep == "from" and head.pos_ in ("NOUN", "PROPN", "PRON") and not _is_place_noun(head):
        # "refugees from Abkhazia demonstrated", "a chef from Chichester was killed": where
        # someone or something comes from, not where the event happened.
        weight = 0.0
    elif prep in _PATH_PREPS:
        weight = 1.5
        precision = "near place" if precision == "exact place" else precision
    elif prep in ("by", "with", "against", "(modifier)"):
        weight = -1.0  # "captured by U.S. forces", "a US soldier": an actor
    elif prep == "(container)":
        weight = -0.5
    elif prep is not None:
        weight = 0.5
    elif node.dep_ == "nsubjpass" and t.name is None and node.lower_ not in _place_nouns():
        weight = 0.5  # "Lindh was captured": an unknown name in subject place is a person
    elif node.dep_ in _OBJECT_DEPS and trigger is not None and node.head == trigger:
        # "shelled Barah", "Kisangani was captured": what a verb of taking or striking hit;
        # the object of "shot" or "killed" is more often a person.
        weight = (
            _OBJECT_WEIGHT
            if trigger.lemma_.lower() in _words().capture_verbs or node.lower_ in _place_nouns()
            else 1.5
        )
    elif (
        node.dep_ in _OBJECT_DEPS
        and trigger is not None
        and node.head.pos_ == "VERB"
        and node.head in trigger.ancestors
        and (node.head.lemma_.lower() in _words().capture_verbs or _is_place_noun(node))
    ):
        # "stormed the village of Mainok, killing 39 people": the place the governing verb
        # took or struck is where what followed happened.
        weight = _GOVERNING_OBJECT
    elif (
        node.dep_ in _OBJECT_DEPS
        and trigger is not None
        and node.head.pos_ == "VERB"
        and node.head.dep_ in ("xcomp", "advcl", "acl", "relcl")
        and trigger in node.head.ancestors
        and node.head.lemma_.lower() in _words().capture_verbs
        and any(c.dep_ == "aux" and c.lower_ == "to" for c in node.head.children)
        and precision != "country"  # "attempts to seize Syria's industrial capital"
    ):
        # "launched an offensive to capture the town of Kabbani": the objective of the
        # offensive is where it was fought
        weight = _OBJECTIVE
    else:
        weight = 0.0
    distance = _path_length(head if prep else node, trigger) if trigger is not None else 4
    if prep in ("(modifier)", "(container)"):
        prep = None
    score = weight - _DISTANCE * distance + 0.5 * t.confidence
    if trigger is not None and weight > 0 and _clause(head if prep else node) == _clause(trigger):
        # "launched an assault in Deir Ezzor, targeting defenses around the Panorama area":
        # the place in the trigger's own clause is where that event happened.
        score += _SAME_CLAUSE
    score += _PRECISION_BONUS.get(precision or "", 0.0)
    if prep in _AT_PREPS and (
        head.ent_type_ in NER_LABELS
        or head.pos_ == "PROPN"
        or (
            head.lower_ in _place_nouns()
            and any(c.dep_ in _MODIFIER_DEPS and c.pos_ == "PROPN" for c in head.children)
        )
    ):
        # "near Ain Issa in northern Syria", "in Saidiyah district in southern Baghdad": the
        # second name only says where the first is.
        score -= 1.5
    if t.name is None:
        score -= _UNLISTED_PENALTY
        if tok.ent_type_ == "NORP" or tok.pos_ == "ADJ":
            return score - _DEMONYM, precision  # "the Togolese capital Lome": a people's name
        if prep in _AT_PREPS or prep in _NEAR_PREPS:
            score += _UNLISTED_AT  # as fine as a village: the gazetteer just does not know it
    return score, precision


_FLOOR = -1.0
_SAME_CLAUSE = 1.0
_GOVERNING_OBJECT = 3.0
_OBJECTIVE = 2.5
#: Score above which a loosely attached known place is used when nothing else is found.
_LAST_RESORT = -3.0
_SUBJECT_PENALTY = 1.0
#: How much less an unknown name that is a people's adjective ("Togolese") weighs.
_DEMONYM = 3.0
#: How much less a town containing an unknown part ("the X area of Jurm district") weighs
#: than a place the clause names itself.
_UNNAMED_PART = 0.5
#: Places this close are taken for one town and its parts ("Acapulco ... La Venta").
_SAME_TOWN_KM = 30.0
#: Confidence above which a place stays where the gazetteer puts it whatever the text's
#: containers say ("Nawabshah city (Nawabshah, Punjab)").
_SURE_PLACE = 0.7
#: Population above which a place is taken to be meant even against the text's containers.
_NOTABLE = 100_000
_WEAK_SLACK = 2.0
_OBJECT_WEIGHT = 4.0
_UNLISTED_PENALTY = 0.0
_UNLISTED_AT = 0.9
_DISTANCE = 0.25
_FLOOR_UNLISTED = -1.0
_PRECISION_BONUS = {
    "exact place": 0.5,
    "near place": 0.4,
    "admin2": 0.3,
    "admin1": 0.2,
    "country": -0.3,
}


def _contained_penalty(
    t: Toponym, precision: str | None, options: Sequence[tuple[float, Toponym, str | None]]
) -> float:
    """A country or division that only contains a finer place of the same sentence says
    less about where the event was than that place."""
    if precision not in ("country", "admin1") or t.name is None:
        return 0.0
    for _, other, other_precision in options:
        if other is t:
            continue
        if precision == "country" and other.name is None:
            return 1.0  # "in the Shebaa Farms in south Lebanon": the unknown name is finer
        if other.name is None or other.country != t.country:
            continue
        if precision == "country" and other_precision != "country":
            return 1.0
        if (
            precision == "admin1"
            and other_precision in ("exact place", "near place")
            and other.admin1 == t.admin1
        ):
            # A name the gazetteer lacks, placed at its division only by guess ("Hazira
            # industrial area in Surat city"), says less than a known place of that division.
            return 0.5
    return 0.0


def _near_known_town(
    doc: Any,
    t: Toponym,
    precision: str | None,
    options: Sequence[tuple[float, Toponym, str | None]],
    located: set[int],
) -> tuple[Toponym, str | None]:
    """A name the gazetteer lacks, unplaced or placed at its division only by guess ("the
    Hazira industrial area in Surat city", "Amroussa village in Bouinan district", "in La
    Plata, ... protested in Moreno Square"), is near the known town of that division the
    sentence names with it (the nearest in the text; for an unplaced name, one the sentence
    puts things "in" or "at"); its own name is kept."""
    towns = [
        other
        for _, other, other_precision in options
        if other is not t
        and other.name is not None
        and not _approximated(other)
        and other_precision in ("exact place", "near place")
        and (
            (t.name is None and id(other) in located)
            or (other.country == t.country and other.admin1 == t.admin1)
        )
    ]
    if doc is not None and _quarter_name(doc, t):
        # "in Rio de Janeiro, ... in Andarai, Cordovil and Vila Isabel neighborhoods":
        # Cordovil is near the town, not near another of its quarters.
        towns = [o for o in towns if not _quarter_name(doc, o)]
    if not towns and (t.name is None or precision == "admin1"):
        # "the Khan Touman axis of southern Aleppo": an unknown part of a division the text
        # names is placed, honestly, at that division; "Alaudia-Saray village ... in Nalanda
        # district (Bihar)": at the finer of the divisions named
        divisions = [
            (other, other_precision)
            for _, other, other_precision in options
            if id(other) in located
            and other.name is not None
            and other_precision in (("admin2", "admin1") if t.name is None else ("admin2",))
            and other.start > t.start
            and (t.name is None or (other.country, other.admin1) == (t.country, t.admin1))
        ]
        if divisions:
            division, level = min(divisions, key=lambda o: o[0].start)
            return _inside(division, t, level, min(division.confidence, 0.5)), level
    if not towns:
        return t, precision
    town = min(towns, key=lambda o: abs(o.start - t.start))
    return _near(town, t, min(town.confidence, t.confidence + 0.1)), "near place"


#: Urban words that name parts of a town rather than buildings and streets.
_NOT_FACILITIES = frozenset(
    {"neighborhood", "neighbourhood", "quarter", "district", "heights", "place", "way",
     "field", "court", "port", "harbor", "harbour", "campus", "beach", "park", "gardens"}
)  # fmt: skip
_FACILITY_GAP = re.compile(
    r"\s+in\s+(?:the\s+)?(?:(?:north|south|east|west|central|downtown|northern|southern|"
    r"eastern|western|north-?eastern|north-?western|south-?eastern|south-?western)\s+)?"
)


def _facility_town(doc: Any, t: Toponym, toponyms: Sequence[Toponym]) -> Toponym | None:
    """The town written right after a building or street's name ("the Victoria Hotel in
    Warsaw", "the al-Qanat road in eastern Baghdad"), when the gazetteer knows the town."""
    words = {w.strip(".,'’").lower() for w in t.text.split()}
    w = _words()
    if not words & (w.urban - _NOT_FACILITIES - w.admin - w.settlement):
        return None
    text = _text(doc)
    for other in toponyms:
        if (
            other.start >= t.end
            and other.name is not None
            and not _approximated(other)
            and other.geo_precision in ("exact place", "near place", "admin1", "admin2")
            and _FACILITY_GAP.fullmatch(text[t.end : other.start])
        ):
            return other
    return None


#: Nouns of divisions within a town, which a definite reference may name again.
_LOCAL_DIVISIONS = frozenset({"district", "area", "sector", "subdistrict", "sub-district"})


def _named_before(doc: Any, noun: Any, start: int, toponyms: Sequence[Toponym]) -> Toponym | None:
    """The place of the sentence named before "the district" or "the area" that the
    reference takes up again: the last one written with that noun or as a part of a town."""
    if noun.lower_ not in _LOCAL_DIVISIONS:
        return None
    earlier = [
        t
        for t in toponyms
        if start <= t.start
        and t.end <= noun.idx
        and (t.name is None or t.geo_precision in ("exact place", "near place"))
        and (_quarter_name(doc, t) or _of_quarter(doc, t))
    ]
    return earlier[-1] if earlier else None


def _of_quarter(doc: Any, t: Toponym) -> bool:
    """Whether ``t`` is named after "the neighbourhood of" or "the district of"."""
    tok = _root(doc, t.start, t.end)
    return (
        tok is not None
        and tok.dep_ == "pobj"
        and tok.head.lower_ == "of"
        and tok.head.head.lower_ in _QUARTER_AFTER | _LOCAL_DIVISIONS
    )


def _in_named_division(
    doc: Any,
    t: Toponym,
    event: Any,
    toponyms: Sequence[Toponym],
    gazetteer: Gazetteer,
    focus: Focus,
) -> tuple[Toponym, str | None]:
    """A name the gazetteer cannot place, with no known town beside it, is in the division
    the sentence names after it ("in Makhanpur village, Bhagwanpur (Uttarakhand)"), else in
    the region the article is about: its own text is kept, at that division's precision."""
    divisions = [
        o
        for o in toponyms
        if event.start <= o.start < event.end
        and o.start > t.start
        and o.name is not None
        and not _approximated(o)
        and o.geo_precision in ("admin2", "admin1")
    ]
    if divisions:
        division = min(divisions, key=lambda o: o.start)
    else:
        found = _focus_toponym(toponyms, gazetteer, focus, t.start, "admin1")
        if found is None or found.geo_precision != "admin1":
            return t, None
        # "in the North Zone of Rio de Janeiro, ... A shoot-out broke out in the locality
        # Fazendinha": near the town the paragraph put things in
        earlier = _inherited_place(doc, toponyms, event.start, found)
        if earlier is not None:
            return _near(earlier, t, min(earlier.confidence, 0.5)), "near place"
        division = found
    level = division.geo_precision
    return _inside(division, t, level, min(division.confidence, 0.4)), level


#: Nouns after a name that make it a part of a town ("Renascenca neighborhood").
_QUARTER_AFTER = frozenset(
    {"neighborhood", "neighbourhood", "community", "colony", "sector", "ward", "quarter", "area"}
)
#: Words before a name that make it a part of a town ("Colonia La Esperanza").
_QUARTER_BEFORE = frozenset({"colonia", "barangay", "barrio", "bairro", "fraccionamiento"})


#: Urban words that also name divisions or are too vague to mark a feature.
_NOT_FEATURES = frozenset({"district", "quarter", "place", "way", "field", "court", "heights"})


def _quarter_name(doc: Any, t: Toponym) -> bool:
    """Whether the text names ``t`` as a part of a town ("Guama neighborhood")."""
    span = doc.char_span(t.start, t.end, alignment_mode="expand")
    if span is None:
        return False
    nxt = doc[span.end].lower_ if span.end < len(doc) else ""
    prev = doc[span.start - 1].lower_ if span.start > 0 else ""
    first = span[0].lower_
    last = span[-1].lower_
    noun = span.root
    for _ in range(4):  # "in Andarai, Cordovil and Vila Isabel neighborhoods"
        if noun.dep_ in ("conj", "compound") and noun.head is not noun:
            noun = noun.head
        else:
            break
    if noun is not span.root and noun.lemma_.lower() in _QUARTER_AFTER:
        return True
    w = _words()
    urban = w.urban - w.admin - w.settlement - _NOT_FEATURES
    return (
        nxt in _QUARTER_AFTER
        or prev in _QUARTER_BEFORE
        or first in _QUARTER_BEFORE
        # "Armas square", "Murree road": a feature of the town, named after some other place
        or (len(span) > 1 and last in urban)
        or nxt in urban
    )


def _quarter_of_town(
    doc: Any,
    t: Toponym,
    precision: str | None,
    options: Sequence[tuple[float, Toponym, str | None]],
    located: set[int],
    containers: set[int],
    toponyms: Sequence[Toponym],
) -> tuple[Toponym, str | None]:
    """A part of a town ("in Teresina, Piaui, a man was shot in Renascenca neighborhood")
    that the gazetteer finds only far from the town the sentence (or, failing that, the
    paragraph before) puts things in is a namesake: the event is near that town."""
    towns = [
        other
        for _, other, other_precision in sorted(options, key=lambda o: o[1].start)
        if other is not t
        and (id(other) in located or id(other) in containers)
        and other.name is not None
        and not _approximated(other)
        and other_precision in ("exact place", "near place")
        and not _quarter_name(doc, other)
    ]
    if not towns and t.latitude is not None:
        region = Toponym(text=t.text, start=t.start, end=t.end)
        earlier = _inherited_place(doc, toponyms, t.start, region, anywhere=True)
        towns = [earlier] if earlier is not None else []
    if not towns:
        return t, precision
    # the town that contains it ("Tombo neighbourhood of Freetown"), else the first town the
    # sentence puts things in ("in Tijuana, Baja California, ... in Colonia La Presa")
    held = [o for o in towns if id(o) in containers]
    town = min(held, key=lambda o: abs(o.start - t.start)) if held else towns[0]
    if _km(town, t) <= _SAME_TOWN_KM:
        return t, precision
    return _near(town, t, min(town.confidence, 0.6)), "near place"


def _near(town: Toponym, t: Toponym, confidence: float) -> Toponym:
    """``t`` (its text and offsets) placed near ``town``: at its point, "near place"."""
    return _inside(town, t, "near place", confidence)


def _inside(place: Toponym, t: Toponym, precision: str | None, confidence: float) -> Toponym:
    """``t`` (its text and offsets) placed by ``place``: at its point, with ``precision``."""
    return replace(
        place,
        text=t.text,
        start=t.start,
        end=t.end,
        geo_precision=precision,
        confidence=round(confidence, 3),
    )


def _namesake_in_town(
    doc: Any,
    t: Toponym,
    precision: str | None,
    options: Sequence[tuple[float, Toponym, str | None]],
    containers: set[int],
) -> tuple[Toponym, str | None]:
    """A place the gazetteer finds only in another division than the town the text puts it
    in ("Banihar village in Sendhwa taluka", "the Saleem Khil area of Azra district") is a
    namesake: the event is near that town."""
    text = _text(doc)
    towns = [
        other
        for _, other, other_precision in options
        if other is not t
        and other.name is not None
        and not _approximated(other)
        and other_precision in ("exact place", "near place", "admin2")
        and (
            id(other) in containers
            or (other.start >= t.end and _in_container_gap(text[t.end : other.start].strip()))
        )
    ]
    if not towns:
        return t, precision
    town = min(towns, key=lambda o: abs(o.start - t.start))
    if (
        (town.country, town.admin1) == (t.country, t.admin1)
        or _km(town, t) <= _SAME_TOWN_KM
        or town.confidence < t.confidence  # the container's own reading is the weaker one
    ):
        return t, precision
    return _near(town, t, min(town.confidence, 0.6)), "near place"


def _inherited_place(
    doc: Any, toponyms: Sequence[Toponym], before: int, region: Toponym, *, anywhere: bool = False
) -> Toponym | None:
    """The place the nearest earlier sentence of the paragraph that puts things "in" or "at"
    a place put them, when it lies in ``region``: "Protesters gathered in Cacak, Serbia. They
    demanded ..." happened in Cacak, not just somewhere in Serbia. Places far apart ("in
    Maarat al-Numan and Saraqib") leave the question open; "in Acapulco, Guerrero, students
    took over the booth in La Venta" names one town and a place of it."""
    text = _text(doc)
    paragraph = text.rfind("\n", 0, before)
    previous = [
        sent for sent in doc.sents if sent.end_char <= before and sent.start_char > paragraph
    ]
    for sent in reversed(previous):
        located: list[Toponym] = []
        for t in toponyms:
            if t.start < sent.start_char or t.end > sent.end_char or t.name is None:
                continue
            tok = _root(doc, t.start, t.end)
            if tok is None:
                continue
            prep, _, _ = _attachment(tok)
            before_tok = doc[tok.left_edge.i - 1] if tok.left_edge.i > 0 else None
            if prep in _AT_PREPS or (before_tok is not None and before_tok.lower_ in _AT_PREPS):
                located.append(t)
        fine = [
            t
            for t in located
            if not _approximated(t) and t.geo_precision in ("exact place", "near place")
        ]
        # "in Niteroi, Rio de Janeiro, police raided Morro do Palacio, in Inga neighborhood":
        # the town, not its quarters (the gazetteer finds those as namesakes far away)
        fine = [t for t in fine if not _quarter_name(doc, t)] or fine
        if not anywhere and region.geo_precision != "country" and len(fine) > 1:
            # "in Niteroi, Rio de Janeiro, ... in Inga": a namesake outside the region the
            # article is about is no second town
            fine = [t for t in fine if t.admin1 == region.admin1] or fine
        if not fine:
            if located:
                return None  # the earlier sentence only names a region
            continue
        t = fine[0]
        if any(_km(t, other) > _SAME_TOWN_KM or _conjoined(doc, t, other) for other in fine[1:]):
            return None
        if not anywhere and (
            t.country != region.country
            or (region.geo_precision != "country" and t.admin1 != region.admin1)
        ):
            return None
        return t
    return None


def _conjoined(doc: Any, a: Toponym, b: Toponym) -> bool:
    """Whether two names are coordinated ("in Maarat al-Numan and Saraqib"): two places."""
    ta, tb = _root(doc, a.start, a.end), _root(doc, b.start, b.end)
    if ta is None or tb is None:
        return False
    return (tb.dep_ == "conj" and ta in tb.ancestors) or (ta.dep_ == "conj" and tb in ta.ancestors)


def _km(a: Toponym, b: Toponym) -> float:
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return float("inf")
    return haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)  # type: ignore[arg-type]


#: Words that end a run of modifiers between "in" and a name: what follows is no container.
_GAP_STOPS = frozenset(
    {"a", "an", "and", "or", "on", "at", "by", "with", "for", "from", "to", "near", "which",
     "where", "when", "after", "before", "while", "as", "its", "their", "his", "her"}
)  # fmt: skip


def _in_container_gap(gap: str) -> bool:
    """ "Djakana in the commune of Mora", "in Fallujah, in the restive western province of
    Al-Anbar", "near Mandali in northern Diyala": the second name, put after "in", says where
    the first is."""
    words = gap.lstrip(",").split()
    if words[:1] == ["also"]:
        words = words[1:]
    if words[:1] != ["in"]:
        return False
    words = words[1:]
    if words[:1] == ["the"]:
        words = words[1:]
    if words and words[-1] == "of":
        if len(words) < 2 or words[-2] not in _words().admin | _words().settlement:
            return False
        words = words[:-2]
    return len(words) <= 3 and all(
        w.isalpha() and w.islower() and w not in _GAP_STOPS for w in words
    )


def _container_gap(between: str) -> bool:
    """Whether the text between two names puts the second as the first's container: ", ",
    " (", " town (", " district, "."""
    gap = between.strip()
    if _in_container_gap(gap):
        return True
    if not gap or gap[-1] not in _CONTAINER_MARKS:
        return False
    noun = gap[:-1].strip()
    # "in El Vado community, Mercaderes municipality, Cauca department"
    nouns = _words().settlement | _words().admin | _SUBDIVISION_NOUNS | _settlement_nouns()
    return not noun or (noun.islower() and noun in nouns)


def _weigh_containers(
    text: str,
    options: list[tuple[float, Toponym, str | None]],
    sentence: Sequence[Toponym] = (),
    gazetteer: Gazetteer | None = None,
) -> list[tuple[float, Toponym, str | None]]:
    """ "Leon, Guanajuato", "Surat city (Surat, Gujarat)": a division written right after a
    place (after a comma or in brackets) says where that place is; the place is the answer.
    When the gazetteer does not know the place ("Doutchi village (Diffa)"), or knows it only
    outside that division (a homonym), it is placed, honestly, at the division.
    ``sentence`` holds all toponyms of the sentence (containers need not be options)."""
    options = list(options)
    ordered = sorted(range(len(options)), key=lambda k: options[k][1].start)
    adjust = [0.0] * len(options)
    pool = sorted(sentence or [o[1] for o in options], key=lambda t: t.start)
    by_start = {options[k][1].start: k for k in ordered}
    for a in ordered:
        score, inner, inner_precision = options[a]
        at = next((k for k, t in enumerate(pool) if t.start == inner.start), None)
        if at is None:
            continue
        for prev, outer in zip(pool[at:], pool[at + 1 :], strict=False):
            if not _container_gap(text[prev.end : outer.start]):
                break
            if outer.name is None:
                continue
            outer_precision = outer.geo_precision
            division = outer_precision in ("admin1", "admin2", "country")
            # "Pipri, Kaushambi (UP)": a known place outside the division written after it
            # is a homonym; the text's own hierarchy wins.
            unknown = inner.name is None or (_approximated(inner) and inner.text[:1].isupper())
            misplaced = (
                not unknown
                and inner.name is not None
                and division
                and inner_precision in ("exact place", "near place", "admin2")
                and (
                    # "Dunda (Uttarakhand)": a namesake in another country
                    inner.country != outer.country
                    or (
                        outer_precision != "country"
                        and inner.admin1 != outer.admin1
                        and (
                            inner.confidence < min(_SURE_PLACE, outer.confidence)
                            # a loose spelling: "Kech" found as Ketsch
                            or normalise_name(inner.name) not in normalise_name(inner.text)
                        )
                    )
                )
            )
            if (
                misplaced
                and gazetteer is not None
                and any(
                    c.geonames_id == inner.geonames_id and c.population >= _NOTABLE
                    for c in gazetteer.candidates(inner.text, limit=25, phonetic=False)
                )
            ):
                # "Bafoussam town (Mifi, Ouest)": a city is no village's namesake; the
                # gazetteer rather lacks the division's name in that country.
                misplaced = False
            if not unknown and not misplaced:
                if division:
                    break
                continue
            precision = outer_precision if division else "near place"
            located = replace(
                outer,
                text=inner.text,
                start=inner.start,
                end=inner.end,
                geo_precision=precision,
                confidence=round(min(outer.confidence, 0.5), 3),
            )
            options[a] = (score, located, precision)
            if outer.start in by_start:
                adjust[by_start[outer.start]] -= 2.0
            break
    for a, b in zip(ordered, ordered[1:], strict=False):
        inner, outer = options[a][1], options[b][1]
        outer_precision = options[b][2]
        if not _container_gap(text[inner.end : outer.start]):
            continue
        if outer.name is not None and inner.geonames_id == outer.geonames_id:
            adjust[b] -= 1.0  # "Palmyra (Tadmur)": another name of the same place
            continue
        bracket = "(" in text[inner.end : outer.start]
        # "in Bhikhampur village, Bilslanda, Pilibhit (UP)": a run of names joined by commas
        # alone, no "and" closing it as a list, goes from the finest place to its containers
        gap = text[inner.end : outer.start].strip()
        chained = (gap == "," and not re.match(r"\s*,?\s*(?:and|or|&)\b", text[outer.end :])) or (
            # "an ambush at Kafr Shams town in Deraa countryside"
            gap.split(" ", 1)[0] in _settlement_nouns() and _in_container_gap(gap.split(" ", 1)[-1])
        )
        if (
            (bracket or chained)
            and outer.name is not None
            and outer_precision in ("exact place", "near place")
            and options[a][2] in ("exact place", "near place")
            and inner.country == outer.country
            and inner.admin1 == outer.admin1
        ):
            # "Sehwan Sharif town (Jamshoro, Sindh)": a town's name in brackets after a place
            # names its district, not where the event was.
            adjust[b] -= 2.0
            continue
        if (
            outer.name is None
            and inner.name is not None
            and options[a][2] in ("exact place", "near place")
            and _in_container_gap(text[inner.end : outer.start].strip())
        ):
            # "in the town of Remolinos, in the northern region of Madgalena": an unknown
            # region after a known town is its container
            adjust[b] -= 2.0
            continue
        if outer.name is None or outer_precision not in ("admin1", "admin2", "country"):
            continue
        if (
            inner.country == outer.country
            and (outer_precision == "country" or inner.admin1 == outer.admin1)
            and options[a][2] not in ("country", "admin1")
            or (options[a][2] == "admin1" and outer_precision == "country")
        ):
            adjust[b] -= 2.0
    return [(score + adjust[k], t, prec) for k, (score, t, prec) in enumerate(options)]


def _focus_toponym(
    toponyms: Sequence[Toponym], gazetteer: Gazetteer, focus: Focus, position: int, level: str
) -> Toponym | None:
    """A toponym standing for the focus division (or country), near ``position``."""
    if focus.country is None:
        return None
    picks = []
    for t in toponyms:
        if t.name is None or gazetteer.country_code(t.country) != focus.country:
            continue
        if _approximated(t):
            continue
        code = gazetteer.admin1_code(focus.country, t.admin1) if t.admin1 else None
        if code is None:
            continue
        cand = gazetteer.admin1_place(focus.country, code)
        if cand is None:
            continue
        span = span_of(t)
        proxy = Candidate(**{**_asdict(cand), "feature_code": t.feature_code, "admin1_code": code})
        picks.append((span, proxy, max(t.confidence, 0.3)))
    region = _regional_admin1(position, picks, focus.country) if level == "admin1" else None
    if region is not None:
        cand = gazetteer.admin1_place(focus.country, region)
        inside = [sp for sp, c, _ in picks if c.admin1_code == region]
        naming = [
            sp
            for sp in inside
            if normalise_name(sp.text) == normalise_name(cand.name if cand else "")
        ]
        mention = min(naming or inside, key=lambda sp: abs(sp.start_char - position))
        if cand is not None:
            t = Toponym(text=mention.text, start=mention.start_char, end=mention.end_char)
            _fill(t, cand, "admin1", 0.3)
            return t
    nation = gazetteer.country_place(focus.country)
    mentions = [
        t for t in toponyms if t.name and gazetteer.country_code(t.country) == focus.country
    ]
    if nation is None or not mentions or not focus.strong:
        return None
    nearest = min(mentions, key=lambda m: abs(m.start - position))
    found = Toponym(text=nearest.text, start=nearest.start, end=nearest.end)
    _fill(found, nation, "country", 0.2)
    return found


#: Prepositions after which a name the recogniser left out is taken for the event's place.
_ATTACH_PREPS = frozenset(
    {"in", "at", "inside", "near", "outside", "around", "towards", "toward", "into", "through"}
)
#: Entity labels that never name a place.
_NOT_PLACE_LABELS = frozenset(
    {"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY", "NORP", "LAW",
     "LANGUAGE", "WORK_OF_ART", "PRODUCT", "EVENT"}
)  # fmt: skip


@cache
def _generic_words() -> frozenset[str]:
    """Capitalised common nouns that name a kind of place, not one ("Church", "Street")."""
    w = _words()
    return (
        _place_nouns()
        | w.urban
        | w.features
        | w.settlement
        | frozenset(
            {"church", "republic", "kingdom", "state", "embassy", "consulate", "parliament"}
        )
    )


#: Nouns whose "of" name is a place ("the stronghold of Dhuluiya", "her hometown of X").
_OF_PLACE_NOUNS = frozenset({"stronghold", "bastion", "hometown", "island", "outskirts"})
#: Nouns whose "of" name is a person's or an institution's ("in front of the Israeli
#: Embassy", "the home of Abed Rabbo").
_NOT_OF_PLACES = frozenset({"front", "home", "house", "residence", "part", "parts", "rest"})
_LOWER_TAIL = re.compile(r"-[a-z]+$")
_UNLISTED_PREPS = frozenset({"in", "at", "near", "outside", "inside"})
_UNLISTED_LABELS = frozenset({"ORG"})
#: Heads of names of institutions, units and events, which are not places.
_INSTITUTION_NOUNS = frozenset(
    {"office", "ministry", "council", "committee", "parliament", "party", "parade",
     "festival", "room", "regiment", "regiments", "brigade", "battalion", "division",
     "company", "bank", "court", "commission", "agency", "front", "army", "forces", "police",
     "van", "car"}
)  # fmt: skip


def _attached_names(
    doc: Any,
    event: Any,
    toponyms: Sequence[Toponym],
    actor_spans: Sequence[tuple[int, int]],
    gazetteer: Gazetteer,
    focus: Focus | None,
) -> list[Toponym]:
    """Names of the event's sentence that a place preposition attaches ("shot outside the
    regional capital, Grozny", "demonstrations began in the capital, Harare") which the
    recogniser left out (the model tagged them as people or organisations) but the gazetteer
    knows by that very name: resolved with the article's focus country as the hint."""
    sent = doc.char_span(event.start, event.end, alignment_mode="expand")
    if sent is None:
        return []
    spans: list[tuple[int, int]] = []
    unlisted: list[Toponym] = []
    for tok in sent:
        if tok.pos_ != "PROPN" or tok.ent_type_ in _NOT_PLACE_LABELS:
            continue
        node = tok
        named_place = False  # a place noun says the name is a place ("the Swat area")
        if (
            tok.dep_ == "compound"
            and _is_place_noun(tok.head)
            and tok.head.pos_ == "NOUN"
            and tok.head.lemma_.lower() not in _words().urban - _words().admin
        ):
            node, named_place = tok.head, True  # "in the Swat area", "in Chitaun district"
        elif (
            tok.dep_ == "pobj"
            and tok.head.lower_ == "of"
            and (
                tok.head.head.lower_ in _settlement_nouns() | _OF_PLACE_NOUNS
                or tok.head.head.lower_ in _words().admin
                or _is_place_noun(tok.head.head)
            )
            and tok.head.head.pos_ == "NOUN"
            and tok.head.head.lower_ not in _NOT_OF_PLACES
        ):
            # "in the village of Alhoula", "near the insurgent stronghold of Dhuluiya",
            # "captured the island of Hanish al-Kabir"
            node, named_place = tok.head.head, True
        if node.dep_ == "appos" and node.head.lower_ in _settlement_nouns():
            node = node.head  # "in the capital, Harare"
        elif (
            tok.i >= 2
            and doc[tok.i - 1].text == ","
            and doc[tok.i - 2].lower_ in _settlement_nouns()
            and not doc[tok.i - 2].text[:1].isupper()
        ):
            node = doc[tok.i - 2]  # the same, with the name parsed apart from "capital"
        taken = (
            named_place
            and node.dep_ in ("dobj", "nsubjpass")
            and node.head.lemma_.lower() in _words().capture_verbs
        )
        attached = node.dep_ == "pobj" and (
            node.head.lower_ in _ATTACH_PREPS or (named_place and node.head.lower_ == "on")
        )
        if not attached and not taken:
            continue
        held = node.head.head if attached else node.head
        if held.pos_ == "PROPN" or (
            _is_place_noun(held) and any(c.pos_ == "PROPN" for c in held.children)
        ):
            continue  # "Mubingi commune, outside the capital, Bujumbura": where Mubingi is
        if held.dep_ in ("nsubj", "nsubjpass") and held.pos_ == "NOUN":
            continue  # "people of Mubingi, outside the capital, Bujumbura": where they live
        left = tok
        while (
            left.i > sent.start
            and doc[left.i - 1].pos_ == "PROPN"
            and doc[left.i - 1].dep_ in ("compound", "flat")
        ):
            left = doc[left.i - 1]
        start, end = left.idx, tok.idx + len(tok.text)
        text = doc.text[start:end]
        if not text[:1].isupper() or text.isupper() or len(text) < 4 or _LOWER_TAIL.search(text):
            continue  # "the U.S.-run prison": a modifier, not a name
        if left.i == tok.i and (
            tok.lower_ in _generic_words() or tok.lemma_.lower() in _generic_words()
        ):
            continue  # "at Bethlehem's Church of the Nativity", "in the 20th Street"
        if any(start < t.end and t.start < end for t in toponyms):
            continue
        if any(start < e and s < end for s, e in actor_spans):
            continue
        if any(t.ent_type_ == "NORP" for t in doc[left.i : tok.i + 1]):
            continue  # "a former Soviet Scud missile base"
        if not any(
            c.match in ("name", "alternate") and c.feature_class in ("P", "A")
            for c in gazetteer.candidates(text, limit=10, phonetic=False)
        ):
            if (
                (taken or node.head.lower_ in _UNLISTED_PREPS or (named_place and attached))
                and (named_place or tok.ent_type_ not in _UNLISTED_LABELS)
                and tok.lower_ not in _INSTITUTION_NOUNS
                and tok.lemma_.lower() not in _INSTITUTION_NOUNS
                and all(t.pos_ == "PROPN" for t in doc[left.i : tok.i + 1])
            ):
                # "in Okha village", "at Kulgam Chowk": a name the gazetteer lacks is still
                # where the event was; it is placed near the town or in the division around
                unlisted.append(Toponym(text=text, start=start, end=end))
            continue
        spans.append((start, end))
    if not spans:
        return unlisted
    hint = focus.country if focus is not None else None
    # resolved with the other places of the sentence as evidence ("in Lima-La Victoria, Lima
    # Province": the district of Lima, not a namesake elsewhere)
    base = sent.start_char
    found = resolve_spans(
        sent.as_doc(),
        gazetteer,
        [(s - base, e - base) for s, e in spans],
        country_hint=hint,
        context=True,
    )
    return unlisted + [
        replace(t, start=t.start + base, end=t.end + base) for t in found if t.name is not None
    ]
