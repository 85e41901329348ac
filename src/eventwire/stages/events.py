"""Stage ``events.lexicon.v1``: events from trigger lexicons and dependency patterns
(``events.hybrid.v2`` in :mod:`eventwire.stages.hybrid` refines them with trained
classifiers).

Per sentence unit (a parser sentence, split again at blank lines so headlines stand
alone), every verb or eventive noun found in ``data/triggers.json`` is a candidate event.
A candidate becomes an event when the lexicon's conditions hold (required objects, context
words, for nouns a support verb or an actor of their own); its governors decide modality
(``data/modality.json``), its arguments the actors, the sentence the mode and fatalities
(``data/fatalities.json``). Types map to ACLED and CAMEO through :mod:`eventwire.ontology`.

ACLED's coding conventions are data too (``triggers.json``): the target decides between an
attack on civilians and an armed clash (``armed_targets``; off-duty forces are civilians,
gang members are not), a target firing back or repelling the attack, fire in both
directions, a paragraph telling of a clash or small arms make a clash, heavy weapons
alone shelling; crowd violence is a violent demonstration only with a demonstration in its
paragraph (``demonstration_cues``), else mob violence; an attack that only hit property is
property destruction; non-violent activity of non-state armed groups is a change to
group/activity (``acled_by_actor_kind``). State forces shooting at or arresting the crowd
of a protest make it excessive force or an intervention, unless the sentence tells the
crowd was violent (``violent_crowd_cues``: a riot); several ordinary people beating,
attacking with no weapon named or clashing with someone are a mob, and so are party
members; a takeover with no fighting in its paragraph is a non-violent transfer
of territory; people fleeing are no transfer of territory; shots into the air are a
show of force. What a party says it will or must do is restated
as the statement it is (``statements`` in ``modality.json``: AGREE, REJECT, THREATEN,
REQUEST). When the text names no perpetrator, actor1 is ACLED's stand-in from the alias
table (``implied_actor1``: unidentified armed group, protesters, rioters, police for
arrests) with no surface text and no offsets, so nothing is highlighted for it.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from .. import ontology
from ..actors import ActorEntry, AliasTable
from ..model import ActorMention, Document, Event
from ..nlp import sentence_unit_bounds
from ..pipeline import Context, stage

__all__ = ["Lexicon", "code_events", "fatalities_in", "sentence_units"]

_PRONOUNS = frozenset({"it", "they", "them", "its", "their", "he", "she", "his", "her", "him"})
_CLIMB_DEPS = frozenset(
    {
        "xcomp",
        "conj",
        "advcl",
        "pcomp",
        "prep",
        "acl",
        "ccomp",
        "dobj",
        "pobj",
        "agent",
        "attr",
        "nsubj",
        "nsubjpass",
        "oprd",
        "relcl",
    }
)
_SUBJECT_CLIMB = frozenset({"xcomp", "conj", "advcl", "pcomp", "prep", "acomp"})
_OWN = frozenset({"its", "their", "his", "her", "our"})
_NP_EDGES = frozenset({"compound", "amod", "poss", "nmod", "appos"})
_ANAPHORIC = frozenset({"the", "this", "that", "these", "those"})
_NONE_WORDS = frozenset({"no", "nobody", "none", "neither", "nor", "without"})
_TERMINAL = (".", "!", "?", "”", '"', "»", ":")
_VIOLENT = frozenset({"ASSAULT", "PROTEST", "COERCE"})


@dataclass(frozen=True)
class Lexicon:
    """Trigger, modality and fatality data, read once from the package data files."""

    verbs: dict[str, dict[str, Any]]
    nouns: dict[str, dict[str, Any]]
    light_verbs: frozenset[str]
    noun_subject_verbs: frozenset[str]
    existential_verbs: frozenset[str]
    suppressing: frozenset[str]
    actor2_preps: dict[str, tuple[str, ...]]
    mode_cues: dict[str, list[tuple[str, tuple[str, ...]]]]
    armed_kinds: frozenset[str]
    absorbs: dict[str, frozenset[str]]
    retype: dict[str, dict[str, list[str]]]
    symmetric: frozenset[str]
    adjectives: dict[str, dict[str, Any]]
    paragraph_cues: dict[str, list[tuple[str, tuple[str, ...]]]]
    retype_cues: dict[str, list[tuple[tuple[str, ...], tuple[str, str], bool]]]
    retype_unless: dict[str, tuple[str, ...]]
    role_kinds: dict[str, dict[str, str]]
    role_kind_from: frozenset[str]
    modality: dict[str, Any]
    fatalities: dict[str, Any]
    demonstration_cues: tuple[str, ...] = ()
    individuals: tuple[str, ...] = ()
    crowd_nouns: frozenset[str] = frozenset()
    armed_modifiers: frozenset[str] = frozenset()
    acled_by_actor_kind: dict[str, Any] = field(default_factory=dict)
    armed_targets: frozenset[str] = frozenset()
    civilian_targets: frozenset[str] = frozenset()
    off_duty: tuple[str, ...] = ()
    criminal_victims: tuple[str, ...] = ()
    fighting: tuple[str, ...] = ()
    people_nouns: frozenset[str] = frozenset()
    protester_nouns: frozenset[str] = frozenset()
    protester_except: frozenset[str] = frozenset()
    property_targets: frozenset[str] = frozenset()
    casualty_cues: tuple[str, ...] = ()
    violent_crowd: tuple[str, ...] = ()
    implied_actor1: dict[str, dict[str, str]] = field(default_factory=dict)
    known: frozenset[str] = frozenset()
    #: Repaired lemmas by (lemma, lower-case form) string ids (see ``_Coder._lemma``).
    lemma_memo: dict[tuple[int, int], str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = set(self.verbs) | set(self.nouns) | self.light_verbs | self.noun_subject_verbs
        words |= self.existential_verbs | self.suppressing
        for rule in self.modality.values():
            if isinstance(rule, dict):
                words |= set(rule.get("governors", ()))
        object.__setattr__(self, "known", frozenset(words))

    @classmethod
    def load(cls) -> Lexicon:
        """Read ``triggers.json``, ``modality.json`` and ``fatalities.json`` from the package."""
        base = resources.files("eventwire").joinpath("data")
        trig = json.loads(base.joinpath("triggers.json").read_text("utf-8"))
        modality = json.loads(base.joinpath("modality.json").read_text("utf-8"))
        fatal = json.loads(base.joinpath("fatalities.json").read_text("utf-8"))
        cues = {
            t: [(m, tuple(c)) for m, c in rows]
            for t, rows in trig["mode_cues"].items()
            if not t.startswith("_")
        }
        return cls(
            verbs=trig["verbs"],
            nouns=trig["nouns"],
            light_verbs=frozenset(trig["light_verbs"]),
            noun_subject_verbs=frozenset(trig["noun_subject_verbs"]),
            existential_verbs=frozenset(trig["existential_verbs"]),
            suppressing=frozenset(trig["suppressing_governors"]),
            actor2_preps={k: tuple(v) for k, v in trig["actor2_preps"].items()},
            mode_cues=cues,
            armed_kinds=frozenset(trig["armed_kinds"]),
            absorbs={k: frozenset(v) for k, v in trig["absorbs"].items() if not k.startswith("_")},
            retype={
                k: v for k, v in trig["retype_by_actor1_kind"].items() if not k.startswith("_")
            },
            retype_unless={
                k: tuple(v) for k, v in trig["retype_unless_cues"].items() if not k.startswith("_")
            },
            symmetric=frozenset(trig["symmetric_types"]),
            adjectives={k: v for k, v in trig["adjectives"].items() if not k.startswith("_")},
            paragraph_cues={
                t: [(m, tuple(c)) for m, c in rows]
                for t, rows in trig["paragraph_cues"].items()
                if not t.startswith("_")
            },
            retype_cues={
                k: [(tuple(r[0]), (r[1][0], r[1][1]), r[2:] == ["own"]) for r in v]
                for k, v in trig["retype_by_cue"].items()
                if not k.startswith("_")
            },
            role_kinds={k: v for k, v in trig["role_kinds"].items() if not k.startswith("_")},
            role_kind_from=frozenset(trig["role_kind_from"]),
            modality=modality,
            fatalities=fatal,
            demonstration_cues=tuple(trig["demonstration_cues"]["words"]),
            individuals=tuple(trig["retype_unless_actor"]["words"]),
            crowd_nouns=frozenset(trig["retype_unless_actor"]["crowds"]),
            armed_modifiers=frozenset(trig["retype_unless_actor"]["armed_modifiers"]),
            acled_by_actor_kind=trig["acled_by_actor_kind"],
            armed_targets=frozenset(trig["armed_targets"]["words"]),
            civilian_targets=frozenset(trig["armed_targets"]["civilian_targets"]),
            off_duty=tuple(trig["armed_targets"]["off_duty"]),
            criminal_victims=tuple(trig["armed_targets"]["criminal_victims"]),
            fighting=tuple(trig["armed_targets"]["fighting"]),
            people_nouns=frozenset(trig["retype_unless_actor"]["people"]),
            protester_nouns=frozenset(trig["protester_subjects"]["nouns"]),
            protester_except=frozenset(trig["protester_subjects"]["except"]),
            property_targets=frozenset(trig["armed_targets"]["property"]),
            casualty_cues=tuple(trig["armed_targets"]["casualties"]),
            violent_crowd=tuple(trig["violent_crowd_cues"]["words"]),
            implied_actor1={
                k: v for k, v in trig["implied_actor1"].items() if not k.startswith("_")
            },
        )


@lru_cache(maxsize=4096)
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{words})(?:s|es)?(?![\w])")


def _has_cue(text: str, cues: Any) -> bool:
    """Whether lower-cased ``text`` holds one of ``cues`` as whole words."""
    cues = tuple(cues)
    return bool(cues) and _cue_pattern(cues).search(text) is not None


@lru_cache(maxsize=1)
def _lexicon() -> Lexicon:
    return Lexicon.load()


def sentence_units(doc: Any) -> list[Any]:
    """Sentences of ``doc`` split again at line breaks, without surrounding whitespace.

    Headlines glued to the next sentence by the parser come out as units of their own.
    """
    units = []
    for sent in doc.sents:
        start = sent.start
        for tok in sent:
            if tok.is_space and "\n" in tok.text:
                if tok.i > start:
                    units.append(doc[start : tok.i])
                start = tok.i + 1
        if start < sent.end:
            units.append(doc[start : sent.end])
    out = []
    for unit in units:
        s, e = unit.start, unit.end
        while s < e and unit.doc[s].is_space:
            s += 1
        while e > s and unit.doc[e - 1].is_space:
            e -= 1
        if e > s:
            out.append(unit.doc[s:e])
    return out


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


@dataclass
class _Layout:
    """Where each sentence unit sits: its paragraph, and whether it stands alone (a
    paragraph of its own), is a headline (alone, no final punctuation) or belongs to a
    heading-like paragraph (one sentence, or two whose last has no final punctuation)."""

    paragraph: list[int]
    standalone: list[bool]
    headline: list[bool]
    heading: set[int]

    @classmethod
    def of(cls, text: str, units: list[Any]) -> _Layout:
        breaks = [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]
        paragraph = [bisect.bisect_right(breaks, u.start_char) for u in units]
        standalone = [_alone(text, u.start_char, u.end_char) for u in units]
        headline = [
            alone and not u.text.rstrip().endswith(_TERMINAL)
            for alone, u in zip(standalone, units, strict=True)
        ]
        members: dict[int, list[int]] = {}
        for idx, para in enumerate(paragraph):
            members.setdefault(para, []).append(idx)
        heading: set[int] = set()
        for group in members.values():
            last = units[group[-1]]
            if len(group) == 1 or (len(group) == 2 and not last.text.rstrip().endswith(_TERMINAL)):
                heading.update(group)
        return cls(paragraph, standalone, headline, heading)


def _alone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] has only a line break (or the text's edge) on both sides."""
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    j = end
    while j < len(text) and text[j] in " \t":
        j += 1
    return (i < 0 or text[i] == "\n") and (j >= len(text) or text[j] == "\n")


@dataclass
class _Candidate:
    token: Any
    unit: Any
    unit_index: int
    event_type: str
    mode: str | None
    nominal: bool
    spec: dict[str, Any]
    #: same-type verbs this one governs and stands for ("7 militants were killed, 2 were
    #: wounded": the parser hangs "killed" under "wounded"); their victims name its own
    #: elided ones
    absorbed: list[Any] = field(default_factory=list)


class _Coder:
    """Codes one document; holds its mention index."""

    def __init__(
        self,
        document: Document,
        lexicon: Lexicon,
        aliases: AliasTable,
    ) -> None:
        self.document = document
        self.doc = document.doc
        self._text: str | None = None
        self.lex = lexicon
        self.aliases = aliases
        self.units = [self.doc[s:e] for s, e in sentence_unit_bounds(self.doc)]
        self.mentions = sorted(document.actors, key=lambda m: m.start)
        self.by_token: dict[int, ActorMention] = {}
        for m in self.mentions:
            span = self.doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is not None:
                for tok in span:
                    self.by_token.setdefault(tok.i, m)
        self.layout = _Layout.of(document.text, self.units)
        self._paragraph_text: dict[int, str] = {}
        self._lead = next((i for i, h in enumerate(self.layout.headline) if not h), None)
        self.unit_of: dict[int, int] = {}
        for idx, unit in enumerate(self.units):
            for i in range(unit.start, unit.end):
                self.unit_of[i] = idx
        from spacy.attrs import LEMMA, LOWER, ORTH

        arrays = self.doc.to_array([LEMMA, LOWER, ORTH])
        self._lemma_keys: list[tuple[int, int]] = [(r[0], r[1]) for r in arrays.tolist()]
        hyphen = self.doc.vocab.strings["-"]
        self._after_hyphen = {i + 1 for i, r in enumerate(arrays.tolist()) if r[2] == hyphen}

    def _lemma(self, tok: Any) -> str:
        """The lemma, repaired from the word form when the lemmatizer misses ("staged" ->
        "stag"): the first inflection-stripped form the lexicon knows.

        Apart from "re-" prefixes, the answer depends on the lemma and the lower-case form
        alone, so it is remembered by their string ids.
        """
        i = tok.i
        if i < 2 or i not in self._after_hyphen:
            return self._lemma_at(i, tok)
        lemma: str = tok.lemma_.casefold()
        known = self.lex.known
        if i >= 2 and self.doc[i - 1].text == "-" and self.doc[i - 2].lower_ == "re":
            # "re-captured": the tokenizer splits the prefix off
            if not self.doc[i - 2].whitespace_ and not self.doc[i - 1].whitespace_:
                for form in ("re" + lemma, "re" + self._lemma_of(tok)):
                    if form in known:
                        return form
        if lemma in known:
            return lemma
        return self._lemma_of(tok)

    def _lemma_at(self, i: int, tok: Any | None = None) -> str:
        """``_lemma(doc[i])`` for a token not after a hyphen; a Token only on a memo miss."""
        if i >= 2 and i in self._after_hyphen:
            return self._lemma(self.doc[i] if tok is None else tok)
        memo = self.lex.lemma_memo
        key = self._lemma_keys[i]
        found = memo.get(key)
        if found is None:
            if len(memo) > 500_000:
                memo.clear()
            found = memo[key] = self._lemma_of(self.doc[i] if tok is None else tok)
        return found

    def _lemma_of(self, tok: Any) -> str:
        lemma: str = tok.lemma_.casefold()
        known = self.lex.known
        if lemma in known:
            return lemma
        low = tok.lower_
        forms = [low]
        for suffix, repl in (
            ("ied", "y"),
            ("ies", "y"),
            ("ed", "e"),
            ("ed", ""),
            ("d", ""),
            ("ing", "e"),
            ("ing", ""),
            ("es", ""),
            ("s", ""),
        ):
            if low.endswith(suffix):
                forms.append(low[: -len(suffix)] + repl)
        return next((f for f in forms if f in known), lemma)

    # -- candidates --------------------------------------------------------------
    def candidates(self) -> list[_Candidate]:
        found: list[_Candidate] = []
        text = self.text
        for idx, unit in enumerate(self.units):
            low = text[unit.start_char : unit.end_char].casefold()
            for tok in unit:
                pos = tok.pos_
                if pos == "VERB":  # the lemma matters to verbs only
                    lemma = self._lemma(tok)
                    if lemma in self.lex.verbs:
                        cand = self._verb(tok, lemma, unit, idx, low)
                    elif self._protesters_act(tok, lemma):
                        cand = _Candidate(tok, unit, idx, "PROTEST", "demo", False, _PROTESTERS_ACT)
                    else:
                        cand = None
                elif pos in ("NOUN", "PROPN") and (key := self._noun_key(tok)):
                    cand = self._noun(tok, key, unit, idx)
                elif pos == "ADJ" and tok.lower_ in self.lex.adjectives:
                    cand = self._adjective(tok, unit, idx)
                else:
                    cand = None
                if cand is not None:
                    found.append(cand)
        return self._suppress(found)

    def _protesters_act(self, tok: Any, lemma: str) -> bool:
        """A verb whose subject is protesters ("protesters honked horns") and which is not
        one of saying, being or suffering: what the crowd does is its protest."""
        if lemma in self.lex.protester_except or lemma in self.lex.suppressing:
            return False
        nouns = self.lex.protester_nouns
        for c in tok.children:
            if c.dep_ != "nsubj":
                continue
            if c.lemma_.casefold() in nouns:
                return True
            # "dozens of protesters", "a group of demonstrators"
            for prep in c.children:
                if prep.dep_ == "prep" and prep.lower_ == "of":
                    if any(
                        o.dep_ == "pobj" and o.lemma_.casefold() in nouns for o in prep.children
                    ):
                        return True
        return False

    def _in(self, tok: Any, unit: Any) -> bool:
        return unit.start <= tok.i < unit.end

    def _adjective(self, tok: Any, unit: Any, idx: int) -> _Candidate | None:
        """Stated readiness ("is willing to withdraw", "ready to talks"): an intent, or a
        threat when what the actor is ready for is force."""
        spec = self.lex.adjectives[tok.lower_]
        complement = next((c for c in tok.children if c.dep_ in ("xcomp", "prep")), None)
        if complement is None or tok.dep_ not in ("acomp", "ROOT", "xcomp", "ccomp"):
            return None
        etype, mode = spec["type"], spec.get("mode")
        inner = complement if complement.pos_ == "VERB" else None
        inner_spec = self.lex.verbs.get(self._lemma(inner)) if inner is not None else None
        if inner_spec is not None and inner_spec["type"] in spec.get("threat_types", ()):
            etype, mode = "THREATEN", "force"
        return _Candidate(tok, unit, idx, etype, mode, False, spec)

    def _verb(self, tok: Any, lemma: str, unit: Any, idx: int, low: str) -> _Candidate | None:
        spec = self.lex.verbs[lemma]
        etype, mode = spec["type"], spec.get("mode")
        prefixes = spec.get("prefixes")
        if prefixes:  # "baton charged", "lathi-charged": the word before the verb decides
            i = tok.i - 1 - (tok.i > 1 and self.doc[tok.i - 1].text == "-")
            before = self.doc[i].lower_ if i >= unit.start else ""
            if before in prefixes:
                etype, mode = prefixes[before]
                return _Candidate(tok, unit, idx, etype, mode, False, spec)
        unless = spec.get("except_particles")
        if unless and any(c.dep_ in ("prt", "prep") and c.lower_ in unless for c in tok.children):
            return None  # "stormed out of the hospital": left, no assault
        particles = spec.get("particles") or {}
        if particles:
            hit = None
            for child in tok.children:
                # after the verb: "On 28 April, ... called Chance" has no particle "on"
                if (
                    child.dep_ in ("prt", "prep", "advmod")
                    and child.lower_ in particles
                    and child.i > tok.i
                ):
                    hit = particles[child.lower_]
            if hit is not None:
                etype, mode = hit
            elif spec.get("only_particles"):
                return None
        obj = self._object(tok)
        objects = spec.get("objects") or {}
        by_object = False
        if objects:
            key = None
            if obj is not None:
                key = obj.lemma_.casefold() if obj.lemma_.casefold() in objects else obj.lower_
            if key in objects:
                etype, mode = objects[key]
                by_object = True  # "took control of": the object decides, not the context
            elif spec.get("require_object") and not _has_cue(low, spec.get("or_context", ())):
                return None  # "set ablaze 6 houses": the parser does not always make it an object
        cues = spec.get("require_context")
        preps = spec.get("or_preps") or ()
        if (
            cues
            and not by_object
            and not _has_cue(low, cues)
            and not any(c.dep_ == "prep" and c.lower_ in preps for c in tok.children)
        ):
            return None
        if (
            lemma in self.lex.light_verbs
            and obj is not None
            and self._noun(obj, obj.lower_, unit, idx) is not None
        ):
            return None  # the noun is the event ("sign an agreement", "send reinforcements")
        return _Candidate(tok, unit, idx, etype, mode, False, spec)

    def _object(self, tok: Any) -> Any:
        for child in tok.children:
            if child.dep_ in ("dobj", "obj"):
                return child
        for child in tok.children:
            if child.dep_ == "nsubjpass":
                return child
        return None

    def _noun_key(self, tok: Any) -> str | None:
        """The lexicon entry of a noun: its lemma, its word form, or the hyphenated word it
        ends ("shoot-out" is three tokens to the tokenizer)."""
        nouns = self.lex.nouns
        lemma = self._lemma(tok)
        if lemma in nouns:
            return lemma
        if tok.lower_ in nouns:
            return str(tok.lower_)
        i = tok.i
        if i >= 2:
            doc = self.doc
            hyphen, first = doc[i - 1], doc[i - 2]
            if hyphen.text == "-" and not hyphen.whitespace_ and not first.whitespace_:
                word = f"{first.lower_}-{tok.lower_}"
                for form in (word, word[:-1] if word.endswith("s") else word):
                    if form in nouns:
                        return form
        return None

    def _noun_spec(self, tok: Any) -> dict[str, Any] | None:
        key = self._noun_key(tok)
        spec = self.lex.nouns.get(key) if key else None
        if spec and spec.get("plural_only") and tok.tag_ not in ("NNS", "NNPS"):
            return None
        return spec

    def _noun(self, tok: Any, lemma: str, unit: Any, idx: int) -> _Candidate | None:
        spec = self._noun_spec(tok)
        if spec is None:
            return None
        head = tok.head
        if tok.dep_ in ("compound", "amod", "nmod") and self._noun_spec(head):
            return None  # "cooperation agreement": the head noun is the event
        etype, mode = spec["type"], spec.get("mode")
        if spec.get("plural_mode") and tok.tag_ in ("NNS", "NNPS"):
            mode = spec["plural_mode"]  # many explosions are a barrage, one is a bomb
        matched = False
        for child in tok.children:
            mod = (spec.get("modifiers") or {}).get(child.lemma_.casefold())
            if child.dep_ in ("compound", "amod", "nmod") and mod:
                etype, mode = mod
                matched = True
        if spec.get("only_modifiers") and not matched:
            return None
        cues = spec.get("require_context")
        if cues and not _has_cue(unit.text.casefold(), cues):
            return None
        if tok.dep_ == "compound" and head.pos_ == "NOUN":
            # "a protest sit-in", "a protest procession": the phrase is the event
            tok, head = head, head.head
        head_lemma = self._lemma(head)
        supported = (
            (
                head.i != tok.i
                and self._in(head, unit)
                and tok.dep_ in ("dobj", "obj", "nsubjpass", "attr", "pobj")
                and head_lemma in self.lex.light_verbs
            )
            or (
                tok.dep_ == "pobj"
                and self._lemma(head.head) in self.lex.light_verbs
                and head.lemma_ in ("in", "on", "under")
            )
            or (
                # "took part in a protest", "participated in a rally"
                tok.dep_ == "pobj"
                and head.lower_ == "in"
                and (head.head.lower_ == "part" or self._lemma(head.head) == "participate")
            )
            or (
                # "declared a state of emergency", "observed a total of 14 explosions"
                tok.dep_ == "pobj"
                and head.lower_ == "of"
                and head.head.dep_ in ("dobj", "attr", "nsubjpass")
                and self._lemma(head.head.head) in self.lex.light_verbs
            )
        )
        existential = (
            tok.dep_ in ("attr", "nsubj")
            and head_lemma in self.lex.existential_verbs
            and any(c.dep_ == "expl" for c in head.children)
        )
        subject = (
            tok.dep_ in ("nsubj", "nsubjpass") and head_lemma in self.lex.noun_subject_verbs
        ) or self._stray_subject_of(tok) is not None
        own_actor = self._noun_actor1(tok, unit) is not None or self._between(tok) is not None
        if not (supported or existential or subject or own_actor):
            return None
        if (
            not own_actor
            and head.pos_ == "VERB"
            and head_lemma in self.lex.verbs
            and head_lemma not in self.lex.light_verbs
        ):
            return None  # an argument of a verb event ("condemned the attack")
        return _Candidate(tok, unit, idx, etype, mode, True, spec)

    def _stray_subject_of(self, tok: Any) -> Any:
        """The verb right after a noun the parser hung elsewhere (as an apposition) when that
        verb has no subject of its own: "in Rio, a shoot-out broke out" -> "broke"."""
        if tok.dep_ != "appos" or tok.i + 1 >= len(self.doc):
            return None
        verb = self.doc[tok.i + 1]
        if verb.pos_ != "VERB" or self._lemma(verb) not in self.lex.noun_subject_verbs:
            return None
        if any(c.dep_ in ("nsubj", "nsubjpass") for c in verb.children):
            return None
        return verb

    def _suppress(self, found: list[_Candidate]) -> list[_Candidate]:
        """Drop candidates governed by an event of the same type or by a framing verb."""
        at = {c.token.i: c for c in found}
        kept = []
        for cand in found:
            tok, drop = cand.token, False
            node, steps = tok, 0
            while node.head.i != node.i and steps < 4 and self._in(node.head, cand.unit):
                if node.dep_ not in (
                    "acl",
                    "xcomp",
                    "advcl",
                    "conj",
                    "pcomp",
                    "prep",
                    "ccomp",
                    "dobj",
                    "pobj",
                ):
                    break
                node, steps = node.head, steps + 1
                gov = at.get(node.i)
                if gov is None:
                    continue
                same = gov.event_type == cand.event_type and not cand.nominal
                same = same or cand.event_type in self.lex.absorbs.get(gov.event_type, ())
                framing = self._lemma(gov.token) in self.lex.suppressing and not (gov.nominal)
                if same or framing:
                    if same and not framing and cand.event_type == "ASSAULT":
                        gov.absorbed.append(tok)
                    drop = True
                    break
            if not drop:
                kept.append(cand)
        return kept

    # -- actors ------------------------------------------------------------------
    def actor_at(self, tok: Any, unit: Any) -> ActorMention | None:
        """The actor a noun phrase headed by ``tok`` names (specific names preferred)."""
        if tok.lower_ in _PRONOUNS and tok.pos_ == "PRON":
            return self._antecedent(tok)
        queue, seen, found = [tok], {tok.i}, []
        while queue:
            node = queue.pop(0)
            m = self.by_token.get(node.i)
            if m is not None and m not in found:
                found.append(m)
            for child in node.children:
                if child.i in seen or not self._in(child, unit):
                    continue
                if (
                    child.dep_ in _NP_EDGES
                    or (child.dep_ == "prep" and child.lower_ == "of")
                    or (node.dep_ == "prep" and child.dep_ == "pobj")
                ):
                    if child.dep_ == "poss" and child.lower_ in _PRONOUNS:
                        continue
                    seen.add(child.i)
                    queue.append(child)

        def rank(m: ActorMention) -> int:
            if not m.known:
                return 1
            entry = self.aliases.lookup(m.name)
            return 2 if entry is not None and entry.generic else 0

        if not found:
            return None
        best = min(found, key=rank)
        armed = next(
            (m for m in found if m.kind in ("state military", "police") and rank(m) == 2), None
        )
        if best.kind == "government" and armed is not None:
            # "the military forces of Armenia", "a Nigerien army camp": the state's military
            best = replace(best, kind=armed.kind)
        return best

    def _antecedent(self, tok: Any) -> ActorMention | None:
        idx = self.unit_of.get(tok.i, 0)
        for unit_idx in (idx, idx - 1):
            if unit_idx < 0:
                continue
            unit = self.units[unit_idx]
            limit = tok.idx if unit_idx == idx else unit.end_char
            best = None
            for m in self.mentions:
                if unit.start_char <= m.start and m.end <= limit:
                    span = self.doc.char_span(m.start, m.end, alignment_mode="expand")
                    if span is not None and span.root.dep_ in ("nsubj", "nsubjpass"):
                        best = m
            if best is not None:
                return best
        return None

    def _subject(self, tok: Any, unit: Any) -> tuple[Any, bool]:
        """The subject token of a verb (climbing through xcomp/conj/advcl) and whether passive."""
        node, steps = tok, 0
        while True:
            # the subject nearest the verb: "On 5 May, Barinas, Barinas state, residents
            # burned tires" gives the parser two
            for child in sorted(node.children, key=lambda c: abs(c.i - node.i)):
                if not self._in(child, unit):
                    continue  # a headline the parser ran into the next paragraph
                if child.dep_ in ("nsubj", "csubj"):
                    if child.tag_ in ("WP", "WDT") and node.dep_ == "relcl":
                        return node.head, False  # "people, who were burning debris"
                    return child, False
                if child.dep_ == "nsubjpass":
                    return child, True
            if (
                node.dep_ == "acl"
                and node.tag_ == "VBG"
                and node.head.pos_ in ("NOUN", "PROPN")
                and node.head.i < node.i
            ):
                return node.head, False  # "nurses demanding better pay", "men riding"
            if node.dep_ == "acl" and node.head.pos_ in ("NOUN", "PROPN") and node.head.i < node.i:
                top = node.head
                while (
                    top.dep_ in ("pobj", "prep", "compound", "conj", "appos")
                    and top.head.i != top.i
                ):
                    top = top.head
                if node.tag_ in ("VBD", "VBZ", "VBP") or top.dep_ == "ROOT":
                    # "nurses of a hospital protested": the parser made the clause a modifier
                    return top if top.pos_ in ("NOUN", "PROPN") else node.head, False
            if (
                node.dep_ in _SUBJECT_CLIMB
                and node.head.i != node.i
                and steps < 4
                and self._in(node.head, unit)
            ):
                node, steps = node.head, steps + 1
                continue
            stray = self._fronted_subject(tok, unit)
            if stray is None and node is not tok:
                # "in Chilpancingo, Guerrero, a group of workers commemorated labor day and
                # demanded ...": the stray subject before the first of coordinated verbs
                stray = self._fronted_subject(node, unit)
            return stray, False

    def _fronted_subject(self, verb: Any, unit: Any) -> Any:
        """The noun phrase right before a finite verb that the parser gave no subject, when
        a comma opens it: after fronted adverbials ("On 9 May, in Sucre, health workers of
        the hospital staged a demonstration") the parser often hangs the subject on the
        place name as an apposition."""
        if verb.pos_ != "VERB" or verb.tag_ not in ("VBD", "VBN", "VBZ", "VBP"):
            return None
        doc = self.doc
        i = verb.i - 1
        while i >= unit.start and doc[i].pos_ in ("ADV", "PART"):
            i -= 1
        if i < unit.start or doc[i].pos_ not in ("NOUN", "PROPN"):
            return None
        head = doc[i]
        while head.dep_ not in ("appos", "conj") and head.head.i < verb.i and head.head.i != head.i:
            if (
                not self._in(head.head, unit)
                or head.head.pos_ in ("VERB", "AUX")
                and (head.head.dep_ not in ("acl", "relcl"))
            ):
                return None  # the phrase belongs to another clause
            head = head.head  # "workers of the university", "armed men driving two cars"
        if head.dep_ not in ("appos", "conj") or head.pos_ not in ("NOUN", "PROPN", "NUM"):
            return None  # only a phrase the parser hung on what came before is stray
        left = min(t.i for t in head.subtree if t.i <= head.i)
        if left - 1 < unit.start or doc[left - 1].text != ",":
            return None
        return head

    def _agent(self, tok: Any, unit: Any) -> ActorMention | None:
        """The "by" phrase of a passive verb or a noun; coordinated passive verbs share it
        ("was shot and killed by militants")."""
        verbs = [tok]
        if tok.pos_ == "VERB":
            verbs += [c for c in tok.children if c.dep_ == "conj" and c.pos_ == "VERB"]
            if tok.dep_ == "conj" and tok.head.pos_ == "VERB":
                verbs.append(tok.head)
        for verb in verbs:
            for child in verb.children:
                if child.dep_ == "agent" or (child.dep_ == "prep" and child.lower_ == "by"):
                    for pobj in child.children:
                        if pobj.dep_ == "pobj":
                            return self.actor_at(pobj, unit)
        return None

    def _noun_actor1(self, tok: Any, unit: Any) -> ActorMention | None:
        for child in tok.children:
            if child.dep_ == "poss":
                return self.actor_at(child, unit)
        agent = self._agent(tok, unit)
        if agent is not None:
            return agent
        for child in tok.children:
            if child.dep_ in ("compound", "amod", "nmod"):
                m = self.by_token.get(child.i)
                if m is None:
                    for grand in child.children:
                        if grand.dep_ == "conj":
                            m = self.by_token.get(grand.i) or m
                if m is not None:
                    return m
        return None

    def _between(self, tok: Any) -> tuple[Any, Any] | None:
        for child in tok.children:
            if child.dep_ == "prep" and child.lower_ == "between":
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        other = next((c for c in pobj.children if c.dep_ == "conj"), None)
                        return pobj, other
        return None

    def _prep_actor(self, tok: Any, unit: Any, etype: str) -> ActorMention | None:
        preps = self.lex.actor2_preps.get(etype, ())
        for child in tok.children:
            if child.dep_ in ("prep", "dative") and child.lower_ in preps:
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        m = self.actor_at(pobj, unit)
                        if m is not None:
                            return m
        return None

    def _object_actor(self, tok: Any, unit: Any) -> ActorMention | None:
        """The actor an object names, unless it is the subject's own generic forces
        ("withdrew its troops")."""
        found = self.actor_at(tok, unit)
        if found is not None and _own(tok) and found.known:
            entry = self.aliases.lookup(found.name)
            if entry is not None and entry.generic:
                return None
        return found

    def _complement_actor(
        self, tok: Any, unit: Any, etype: str, a1: ActorMention | None
    ) -> ActorMention | None:
        """actor2 from the verb's complement clause ("agreed to provide aid for Romania",
        "offered to hand over ... to Britain")."""
        for child in tok.children:
            if child.dep_ != "xcomp":
                continue
            for grand in child.children:
                found = None
                if grand.dep_ in ("dobj", "dative"):
                    found = self._object_actor(grand, unit)
                elif grand.dep_ == "prep" and grand.lower_ in ("to", "for", "with", "on"):
                    pobj = next((c for c in grand.children if c.dep_ == "pobj"), None)
                    found = self.actor_at(pobj, unit) if pobj is not None else None
                if found is not None and (a1 is None or found.start != a1.start):
                    return found
        return None

    def actors_for(self, cand: _Candidate) -> tuple[ActorMention | None, ActorMention | None]:
        tok, unit, etype = cand.token, cand.unit, cand.event_type
        a1 = a2 = None
        if cand.nominal:
            between = self._between(tok)
            if between is None:
                verb = self._stray_subject_of(tok)
                if verb is None and self._lemma(tok.head) in self.lex.noun_subject_verbs:
                    verb = tok.head
                if verb is not None:  # "a shoot-out broke out between X and Y"
                    between = self._between(verb)
            if between is not None:
                a1 = self.actor_at(between[0], unit)
                a2 = self.actor_at(between[1], unit) if between[1] is not None else None
            a1 = a1 or self._noun_actor1(tok, unit)
            head = tok.head
            if a1 is None and self._lemma(head) in self.lex.light_verbs:
                subj, passive = self._subject(head, unit)
                if subj is not None and not passive:
                    a1 = self.actor_at(subj, unit)
                if a1 is None:
                    a1 = self._agent(head, unit)
            a2 = a2 or self._prep_actor(tok, unit, etype)
            if a2 is None and self._lemma(head) in self.lex.light_verbs:
                a2 = self._prep_actor(head, unit, etype)
                subj, _ = self._subject(head, unit)
                if a2 is None and subj is not None and etype in self.lex.symmetric:
                    other = next((c for c in subj.children if c.dep_ == "conj"), None)
                    a2 = self.actor_at(other, unit) if other is not None else None
        else:
            subj, passive = self._subject(tok, unit)
            if any(c.dep_ == "auxpass" for c in tok.children):
                passive = True  # "forces suffered casualties after being hit by an IED"
            subj_m = self.actor_at(subj, unit) if subj is not None else None
            if cand.spec.get("subject_role") == "actor2" or (
                passive
                and subj is not None
                # "was tied up and beaten by police": the subject of the first passive
                and (
                    subj.head.i == tok.i
                    or (tok.dep_ == "conj" and tok.tag_ == "VBN")
                    or any(c.dep_ == "auxpass" for c in tok.children)
                )
            ):
                a2 = subj_m
                a1 = self._agent(tok, unit)
            else:
                a1 = subj_m
                if a1 is None and subj is not None and not passive and subj.pos_ == "NOUN":
                    # "shells by LNA forces killed" (with "shells fired by ..." the participle
                    # is an event of its own, which this one merges into)
                    a1 = self._agent(subj, unit)
            if a1 is None:
                a1 = self._agent(tok, unit)
            if a2 is None and cand.spec.get("object_role", "actor2") == "actor2":
                for child in tok.children:
                    if child.dep_ in ("dobj", "obj", "dative"):
                        a2 = self._object_actor(child, unit)
                        break
                else:
                    shared = _shared_object(tok)
                    a2 = self._object_actor(shared, unit) if shared is not None else None
                if a2 is None:
                    for child in tok.children:
                        if child.dep_ in ("ccomp", "xcomp"):
                            inner = next((c for c in child.children if c.dep_ == "nsubj"), None)
                            if inner is not None:
                                a2 = self.actor_at(inner, unit)
            if a2 is None:
                a2 = self._prep_actor(tok, unit, etype)
            if a2 is None:
                a2 = self._complement_actor(tok, unit, etype, a1)
            if a2 is None and subj is not None and etype in self.lex.symmetric:
                other = next((c for c in subj.children if c.dep_ == "conj"), None)
                a2 = self.actor_at(other, unit) if other is not None else None
            elided = subj is not None and subj.tag_ == "CD"  # "2 were wounded": 2 of whom?
            for verb in cand.absorbed if a2 is None and elided else ():
                victim = next((c for c in verb.children if c.dep_ == "nsubjpass"), None)
                a2 = self.actor_at(victim, unit) if victim is not None else None
                if a2 is not None:
                    break
        if a1 is not None and a2 is not None and a1.start == a2.start:
            a2 = None
        return a1, a2

    def _role_actor(
        self, cand: _Candidate, a1: ActorMention | None, mode: str | None
    ) -> ActorMention | None:
        """Give the actor of a protest the kind its role implies (residents who protest are
        protesters); a protest's unknown subject noun ("nurses", "taxi drivers") is kept."""
        kinds = self.lex.role_kinds.get(cand.event_type)
        if not kinds:
            return a1
        kind = kinds.get(mode or "", kinds.get("*"))
        if a1 is None and kinds.get("_subject", True) is False:
            return None
        if a1 is None:
            head = cand.token.head if cand.nominal else cand.token
            subj, passive = self._subject(head, cand.unit)
            if subj is None or passive or subj.pos_ not in ("NOUN", "PROPN") or subj == cand.token:
                return None
            left = min([subj.i] + [c.i for c in subj.lefts if c.dep_ in ("compound", "amod")])
            span = self.doc[left : subj.i + 1]
            return ActorMention(span.text, span.start_char, span.end_char, span.text, None,
                                kind, known=False)  # fmt: skip
        from_kinds = kinds.get("_from", self.lex.role_kind_from)
        if kind and (a1.kind in from_kinds or a1.kind is None):
            entry = _generic_entry(self.aliases, kinds["_name"]) if "_name" in kinds else None
            generic = self.aliases.lookup(a1.name) if a1.known else None
            if entry is not None and generic is not None and generic.generic:
                # "armed people" attack: the stand-in of the role, not "Civilians"
                return replace(a1, kind=kind, name=entry.name)
            return replace(a1, kind=kind)
        return a1

    # -- modality, mode, fatalities ---------------------------------------------
    def modality(self, cand: _Candidate) -> str:
        rules = self.lex.modality
        tok, unit = cand.token, cand.unit
        found: set[str] = set()
        chain = [tok]
        node = tok
        while node.head.i != node.i and len(chain) < 7 and self._in(node.head, unit):
            if node.dep_ in ("relcl", "acl") and node.pos_ == "VERB":
                break  # a clause describing a noun keeps its own modality
            node = node.head
            chain.append(node)
        unit_low = unit.text.casefold()
        for phrase in rules["hypothetical"]["phrases"]:
            if phrase in unit_low:
                idx = unit_low.find(phrase) + unit.start_char
                if idx < tok.idx:
                    found.add("hypothetical")
        for k, node in enumerate(chain):
            lemma = self._lemma(node)
            if k > 0:
                if lemma in rules["negated"]["governors"]:
                    found.add("negated")
                if lemma in rules["threatened"]["governors"]:
                    found.add("threatened")
                if lemma in rules["planned"]["governors"]:
                    found.add("planned")
                if lemma in rules["ongoing"]["governors"]:
                    found.add("ongoing")
                if lemma in rules["hypothetical"]["words"]:
                    found.add("hypothetical")
            for child in node.children:
                c_low, c_lemma = child.lower_, child.lemma_.casefold()
                if child.dep_ == "neg" and k <= 2:
                    found.add("negated")
                if child.dep_ == "det" and c_low in rules["negated"]["determiners"] and k == 0:
                    found.add("negated")
                if child.dep_ == "mark" and c_low in rules["hypothetical"]["marks"]:
                    found.add("hypothetical")
                if child.dep_ == "aux" and node.pos_ in ("VERB", "AUX"):
                    if c_low in rules["hypothetical"]["modals"]:
                        found.add("hypothetical")
                    elif (
                        c_lemma in rules["planned"]["modals"] or c_low in rules["planned"]["modals"]
                    ):
                        found.add("planned")
                if child.dep_ in ("advmod", "amod") and (c_low in rules["hypothetical"]["words"]):
                    found.add("hypothetical")
                if child.dep_ in ("advmod", "amod") and c_low in rules["ongoing"]["words"]:
                    found.add("ongoing")
        if (
            not cand.nominal
            and tok.tag_ == "VBG"
            and any(
                c.dep_ == "aux" and c.lemma_ == "be" and c.tag_ in ("VBP", "VBZ")
                for c in tok.children
            )
        ):
            found.add("ongoing")
        if (
            rules["planned"].get("bare_infinitive")
            and any(c.dep_ == "aux" and c.tag_ == "TO" for c in tok.children)
            and (tok.head.i == tok.i or not self._in(tok.head, unit) or tok.head.pos_ == "NOUN")
        ):
            found.add("planned")
        for name in rules["precedence"]:
            if name in found:
                return str(name)
        return "reported"

    def mode(
        self, cand: _Candidate, a1: ActorMention | None, a2: ActorMention | None
    ) -> str | None:
        etype, mode = cand.event_type, cand.mode
        low = cand.unit.text.casefold()
        cues = self.lex.mode_cues.get(etype)
        if cues and (mode is None or (etype == "COERCE" and mode == "seize-weapons")):
            for name, words in cues:
                if _has_cue(low, words):
                    mode = name
                    break
        elif cues and etype == "PROTEST" and mode in ("demo", "obstruct", "strike"):
            # a protest the sentence shows turning violent or being broken up; not what the
            # protest is about ("demanding the arrest of people who set fire to crops")
            clause = self._clause_text(cand)
            for name, words in cues[:4]:
                if _has_cue(clause, words):
                    mode = name
                    break
        if etype == "PROTEST" and mode in ("demo", "obstruct", "strike"):
            rest = self._paragraph_rest(cand).casefold()  # "... Police dispersed them."
            for name, words in self.lex.paragraph_cues.get("PROTEST", ()):
                if _has_cue(rest, words):
                    mode = name
                    break
            else:
                if self._crowd_arrested(cand):
                    mode = "intervention"
        if etype == "PROTEST" and mode in ("intervention", "excessive-force"):
            # "locals turned violent and had to be dispersed by police": a violent crowd
            # makes a riot whatever force meets it (ACLED: intervention and excessive force
            # are against peaceful protesters)
            if _has_cue(self._clause_text(cand), self.lex.violent_crowd):
                mode = "riot"
        if etype == "PROTEST" and mode == "riot" and not self._demonstration(cand):
            mode = "mob"  # crowd violence outside any demonstration (ACLED: mob violence)
        elif etype == "PROTEST" and mode == "mob" and self._demonstration(cand):
            mob = [w for name, ws in self.lex.mode_cues["PROTEST"] if name == "mob" for w in ws]
            if not _has_cue(low, mob):  # "lynch", "mob": the crowd's act, not a protest
                mode = "riot"  # "a brawl between the demonstrators and the police"
        if etype == "ASSAULT":
            armed = self.lex.armed_kinds
            target = self._target(cand) if a2 is None or a2.kind not in armed else None
            armed_target = target is not None and self._armed_target(target)
            # "attacked a toll booth and wounded one gendarme": the coordinated verb's victim
            armed_target = armed_target or self._armed_conj_victim(cand)
            off_duty = _has_cue(low, self.lex.off_duty)  # "an off-duty police officer"
            if off_duty:
                armed_target, a2_armed = False, False
            else:
                a2_armed = a2 is not None and a2.kind in armed
            if mode == "firearms" and (a2_armed or armed_target):
                mode = "clash"  # "opened fire on a military convoy"
            if mode is None:
                if a2 is not None or target is not None or off_duty:
                    # the target decides: "attacked a village", "a musician was killed"
                    # (one-sided) or "attacked NAS rebel positions", "an army base" (a clash)
                    mode = "clash" if a2_armed or armed_target else "firearms"
                elif self._civilians_in(cand.unit, a1):
                    mode = "firearms"  # no named target, but civilians named: one-sided
                else:
                    # a state acting with force acts through its military
                    state = a1 is not None and a1.kind == "government" and a1.country is not None
                    mode = "clash" if a1 is not None and (a1.kind in armed or state) else "firearms"
            if (
                mode in ("firearms", "primitive")
                and (a1 is None or a1.kind not in ("police", "state military", "government"))
                and _has_cue(low + " " + self._paragraph_rest(cand).casefold(),
                             self.lex.criminal_victims)
            ):  # fmt: skip
                mode = "clash"  # "The victim had charges for drug trafficking": gang violence
            if mode in ("grenade", "explosives", "heavy-weapons", "firearms", "abduct"):
                para = low + " " + self._paragraph_rest(cand).casefold()
                for name, words in self.lex.paragraph_cues.get("ASSAULT", ()):
                    if (name == "firearms") == (mode == "abduct") and _has_cue(para, words):
                        # "... Police responded with gunfire." (a clash), "kidnapped ... The
                        # victims were killed." (an attack)
                        mode = name
                        break
                if mode == "firearms" and (a2_armed or armed_target):
                    mode = "clash"  # "kidnapped three civilians and killed a policeman"
            if mode == "territory-unopposed":
                para = low + " " + self._paragraph_rest(cand).casefold()
                if _has_cue(para, self.lex.fighting):
                    mode = "territory-taken"  # "took control of the town after heavy fighting"
            if (
                mode == "territory-taken"
                and a1 is not None
                and a1.kind in ("state military", "government", "police")
            ):
                mode = "territory-regained"
        return mode

    def _armed_conj_victim(self, cand: _Candidate) -> bool:
        """Whether a violent verb coordinated with the trigger (which the trigger's event
        absorbs) is done to an armed party: "attacked a toll booth and wounded a gendarme"."""
        if cand.nominal:
            return False
        for child in cand.token.children:
            if child.dep_ != "conj" or child.pos_ != "VERB":
                continue
            spec = self.lex.verbs.get(self._lemma(child))
            if spec is None or spec.get("type") != "ASSAULT":
                continue
            obj = self._object(child)
            if obj is None or obj.lower_ in _PRONOUNS:
                continue  # "shot him and killed him": the same victim
            m = self.actor_at(obj, cand.unit)
            if (m is not None and m.kind in self.lex.armed_kinds) or self._armed_target(obj):
                return True
        return False

    def _target(self, cand: _Candidate) -> Any:
        """The noun a violent trigger is done to, whether or not it names an actor: the
        passive subject or object of a verb, the object of "on"/"against"/"at"."""
        tok = cand.token
        preps = self.lex.actor2_preps.get(cand.event_type, ())
        theme = cand.spec.get("object_role") == "theme"
        for child in tok.children:
            if not cand.nominal and child.dep_ == "nsubjpass":
                return child if child.pos_ in ("NOUN", "PROPN", "PRON") else None
            if not cand.nominal and not theme and child.dep_ in ("dobj", "obj"):
                return child
        shared = _shared_object(tok) if not cand.nominal and not theme else None
        if shared is not None:
            return shared
        for child in tok.children:
            if child.dep_ == "prep" and child.lower_ in preps and child.lower_ != "with":
                pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                if pobj is not None:
                    return pobj
        return None

    def _clause_text(self, cand: _Candidate) -> str:
        """The event's sentence without its grievance: "for"/"over" phrases and relative
        clauses inside phrases, lower-cased."""
        skip: set[int] = set()
        for tok in cand.unit:
            if tok.i in skip:
                continue
            # a relative clause inside a phrase ("the arrest of people who set fire")
            nested = (
                tok.dep_ == "relcl"
                and tok.head.dep_ == "pobj"
                # "outside two hotels, where they burned tires": the crowd's own act
                and not any(c.dep_ == "nsubj" and c.lower_ in _PRONOUNS for c in tok.children)
            )
            if nested or (tok.dep_ == "prep" and tok.lower_ in ("for", "over")):
                span = range(tok.left_edge.i, tok.right_edge.i + 1)
                if cand.token.i not in span:  # never the event's own clause
                    skip.update(span)
        return " ".join(t.lower_ for t in cand.unit if t.i not in skip)

    def _own_phrase(self, cand: _Candidate) -> str:
        """The words of a trigger's own phrase, lower-cased: its subtree without coordinated
        verbs ("fired into the air and then shot a trader": the shooting is no warning)."""
        tok = cand.token
        if cand.nominal:
            return str(cand.unit.text.casefold())
        skip: set[int] = set()
        for child in tok.children:
            if child.dep_ == "conj":
                skip.update(range(child.left_edge.i, child.right_edge.i + 1))
        return " ".join(t.lower_ for t in tok.subtree if t.i not in skip)

    def _property_attack(self, cand: _Candidate, mode: str | None, a2: Any) -> bool:
        """Whether a one-sided attack hit only property: its target is a building, vehicle
        or installation and its paragraph reports no casualties."""
        if cand.event_type != "ASSAULT" or mode not in ("firearms", "primitive") or a2 is not None:
            return False
        if cand.spec.get("mode") is not None or cand.spec.get("aims_at_people"):
            # "shot at a bus", "opened fire on a car", "ambushed a bus": the people in it
            return False
        target = self._target(cand)
        if target is None:
            return False
        words = {target.lower_, self._lemma(target)}
        words |= {f"{c.lower_} {target.lower_}" for c in target.children if c.dep_ == "compound"}
        if not words & self.lex.property_targets:
            return False
        para = self.layout.paragraph[cand.unit_index]
        for idx in range(cand.unit_index, len(self.units)):
            if self.layout.paragraph[idx] != para:
                break
            unit = self.units[idx]
            if any(t.dep_ == "neg" or t.lower_ in _NONE_WORDS for t in unit):
                continue  # "No one was hurt", "No casualties were reported"
            if _has_cue(unit.text.casefold(), self.lex.casualty_cues):
                return False
        return True

    def _armed_target(self, tok: Any) -> bool:
        """Whether a target noun is armed: a military or police post or unit ("NAS rebel
        positions", "a police patrol"), not a place of civilians ("a cattle camp")."""
        modifiers = [c for c in tok.children if c.dep_ in ("compound", "amod", "nmod", "poss")]
        if any(c.lower_ in self.lex.civilian_targets for c in modifiers):
            return False
        if tok.lower_ in self.lex.armed_targets or self._lemma(tok) in self.lex.armed_targets:
            return True
        if any(f"{c.lower_} {tok.lower_}" in self.lex.armed_targets for c in modifiers):
            return True  # "check points"
        for node in [tok, *modifiers]:
            m = self.by_token.get(node.i)
            if m is not None and m.kind in self.lex.armed_kinds:
                return True
        for node in modifiers:  # "the gendarmerie station": the parser made it an adjective
            entry = self.aliases.lookup(node.text) if node.pos_ == "ADJ" else None
            if entry is not None and entry.kind in self.lex.armed_kinds:
                return True
        # "a Govt (assumed military) troop position": the parser made the target an apposition
        return any(self._armed_target(c) for c in tok.children if c.dep_ == "appos")

    def _demonstration(self, cand: _Candidate) -> bool:
        """Whether the event's paragraph speaks of a demonstration (a protest, march...)."""
        para = self.layout.paragraph[cand.unit_index]
        text = self._paragraph_text.get(para)
        if text is None:
            members = [u for i, u in enumerate(self.units) if self.layout.paragraph[i] == para]
            text = self.document.text[members[0].start_char : members[-1].end_char].casefold()
            self._paragraph_text[para] = text
        return _has_cue(text, self.lex.demonstration_cues)

    def _imply_actor1(self, event: Event) -> None:
        """ACLED's stand-in for a perpetrator the text does not name (see
        ``implied_actor1`` in ``triggers.json``): a generic actor with no text or offsets."""
        if event.actor1 is not None:
            return
        if event.event_type == "ASSAULT" and event.mode == "clash":
            found = self._armed_actor_before(event)
            if found is not None:  # "Police raided a house. A shoot-out broke out."
                event.set_actor(1, found)
                return
        table = self.lex.implied_actor1.get(event.event_type)
        name = table.get(event.mode or "", table.get("*")) if table else None
        entry = _generic_entry(self.aliases, name) if name else None
        if entry is not None:
            event.actor1, event.actor1_kind, event.actor1_country = entry.name, entry.kind, None

    def _armed_actor_before(self, event: Event) -> ActorMention | None:
        """The armed actor that is the subject of the sentence before an actor-less clash in
        its paragraph: a clash breaking out where a force was just said to operate involves
        that force."""
        idx = self.unit_of.get(self.doc.char_span(event.start, event.end, "expand")[0].i)
        if not idx:
            return None
        if self.layout.paragraph[idx - 1] != self.layout.paragraph[idx]:
            return None
        unit = self.units[idx - 1]
        for m in self.mentions:
            if not (unit.start_char <= m.start < unit.end_char):
                continue
            if m.kind not in self.lex.armed_kinds or m.kind == "unknown armed group":
                continue
            span = self.doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is not None and span.root.dep_ == "nsubj":
                return m
        return None

    def _civilians_in(self, unit: Any, a1: ActorMention | None) -> bool:
        """Whether the sentence names civilians other than the actor ("killed 4 people")."""
        return any(
            m.kind == "civilians" and unit.start_char <= m.start < unit.end_char
            and (a1 is None or m.start != a1.start)
            for m in self.mentions
        )  # fmt: skip

    def _crowd_arrested(self, cand: _Candidate) -> bool:
        """Whether a sentence of the protest's paragraph (from its own on) reports arrests of
        several people ("Police arrested 23 demonstrators", "Several arrests were made",
        "They were detained"): the crowd met the police. One person's arrest is more often
        the grievance ("against the arrest of a blogger", "He was arrested ...")."""
        para = self.layout.paragraph[cand.unit_index]
        arrest = {"arrest", "detain", "apprehend"}
        for idx in range(cand.unit_index, len(self.units)):
            if self.layout.paragraph[idx] != para:
                break
            for tok in self.units[idx]:
                lemma = self._lemma(tok)
                if lemma not in arrest:
                    continue
                if tok.pos_ == "NOUN":
                    if tok.tag_ == "NNS" and idx > cand.unit_index:
                        return True  # "Several arrests were made"
                    continue
                for child in tok.children:
                    if child.dep_ not in ("dobj", "nsubjpass"):
                        continue
                    plural = child.tag_ in ("NNS", "NNPS") or child.lower_ in ("they", "them")
                    if plural or child.like_num or any(c.like_num for c in child.children):
                        return True
        return False

    def _paragraph_rest(self, cand: _Candidate) -> str:
        """The sentences after the event's in its paragraph."""
        para = self.layout.paragraph[cand.unit_index]
        parts = []
        for idx in range(cand.unit_index + 1, len(self.units)):
            if self.layout.paragraph[idx] != para:
                break
            parts.append(self.units[idx].text)
        return " ".join(parts)

    @property
    def text(self) -> str:
        """The parsed text (spaCy rebuilds ``Doc.text`` from its tokens on every access)."""
        if self._text is None:
            self._text = self.doc.text
        return self._text

    def confidence(self, cand: _Candidate, a1: Any, a2: Any, modality: str) -> float:
        score = 0.45 + (0.1 if not cand.nominal else 0.0)
        score += 0.2 if a1 is not None else 0.0
        score += 0.1 if a2 is not None else 0.0
        score += 0.05 if a1 is not None and a1.known else 0.0
        score -= 0.1 if self.layout.headline[cand.unit_index] else 0.0
        # the lead (the first sentence of the body) states the news; what follows adds to it
        score += 0.1 if cand.unit_index == self._lead else 0.0
        return round(max(0.05, min(score, 0.95)), 2)

    # -- assembly ----------------------------------------------------------------
    def events(self) -> list[Event]:
        article = self.document.article
        article_id = article.article_id  # a hash of the whole text: once per document
        cands = self.candidates()
        out: list[tuple[_Candidate, Event]] = []
        fatal_units: set[int] = set()
        for cand in cands:
            a1, a2 = self.actors_for(cand)
            low = cand.unit.text.casefold()
            unless = self.lex.retype_unless.get(cand.event_type, ())
            kind = a1.kind if a1 is not None else self._crowd(cand)
            if cand.token.dep_ == "relcl" and (
                cand.event_type in ("REQUEST", "ACCUSE") or cand.token.head.dep_ == "pobj"
            ):
                # "groups who demand land rights" describe them: no protest; "demanding the
                # arrest of people who set fire to crops": the grievance, no riot
                kind = None
            if (
                kind in self.lex.retype.get(cand.event_type, {})
                and not _has_cue(self._clause_text(cand), unless)
                and (a1 is None or not _has_cue(a1.text.casefold(), self.lex.individuals))
            ):
                cand.event_type, cand.mode = self.lex.retype[cand.event_type][kind]
            own = self._own_phrase(cand)
            for cues, (new_type, new_mode), in_own in self.lex.retype_cues.get(cand.event_type, ()):
                if _has_cue(own if in_own else low, cues):
                    cand.event_type, cand.mode = new_type, new_mode
                    break
            modality = self.modality(cand)
            restated = self._restate(cand, modality, a1)
            if restated is not None:
                cand.event_type, cand.mode, modality = restated[0], restated[1], "reported"
                if restated[0] == "REQUEST":
                    a1, a2 = restated[2], a1
            mode = self.mode(cand, a1, a2)
            if (
                cand.event_type == "ASSAULT"
                and (
                    mode in ("physical", "primitive")
                    or (mode in ("firearms", "clash") and not _described(cand))
                )
                and self._group_of_people(a1, cand)
                and not _has_cue(self._clause_text(cand), unless)
            ):
                # "five persons beat up a man", "a group of youths clashed with residents"
                cand.event_type, mode = "PROTEST", "mob"
            elif cand.event_type == "PROTEST" and mode == "mob" and self._one_person(a1, cand):
                # "a man threw stones at a nurse": one person is no mob but an attacker
                cand.event_type, mode = "ASSAULT", "primitive"
            if self._property_attack(cand, mode, a2):
                cand.event_type, mode = "COERCE", "destroy"  # "attacked and burned a school"
            a1 = self._role_actor(cand, a1, mode)
            acled = self._acled(cand.event_type, mode, a1)
            unit = cand.unit
            trigger_start, trigger_end = self._trigger_span(cand)
            event = Event(
                event_type=cand.event_type, sentence=unit.text, start=unit.start_char,
                end=unit.end_char, mode=mode, modality=modality,
                url=article.url, source=article.source, published=article.published,
                article_id=article_id,
                acled_event_type=acled[0], acled_sub_event_type=acled[1],
                cameo_root=ontology.to_cameo(cand.event_type, mode),
                trigger=self.text[trigger_start:trigger_end], trigger_start=trigger_start,
                trigger_end=trigger_end,
            )  # fmt: skip
            event.set_actor(1, a1)
            event.set_actor(2, a2)
            event.confidence = self.confidence(cand, a1, a2, modality)
            if cand.event_type in _VIOLENT and cand.unit_index not in fatal_units:
                count = fatalities_in(unit, self.lex)
                if count is not None:
                    event.fatalities = count
                    fatal_units.add(cand.unit_index)
            out.append((cand, event))
        self._trailing_fatalities(out, fatal_units)
        events = _deduplicate(out, self.layout, self.lex.armed_kinds)
        for event in events:
            self._imply_actor1(event)
        return events

    def _acled(self, etype: str, mode: str | None, a1: ActorMention | None) -> tuple[str, str]:
        """ACLED event and sub-event type: the ontology's mapping, except for the non-violent
        activity of non-state armed groups (``acled_by_actor_kind``)."""
        rule = self.lex.acled_by_actor_kind
        if (
            rule
            and a1 is not None
            and a1.kind in rule["kinds"]
            and (etype in rule["types"] or f"{etype}:{mode}" in rule["types"])
        ):
            return rule["acled"][0], rule["acled"][1]
        if (
            etype == "RETREAT"
            and mode == "withdraw"
            and (a1 is None or a1.kind not in self.lex.armed_kinds)
        ):
            # "villagers fled": people displaced, no armed party yields ground
            return "Strategic developments", "Other"
        return ontology.to_acled(etype, mode)

    def _group_of_people(self, a1: ActorMention | None, cand: _Candidate | None = None) -> bool:
        """Whether an actor (or, with no actor, the subject of ``cand``) is a group of
        ordinary people, not one or two individuals nor an armed group: a plural person noun
        with no number or a number of three or more ("five persons", "youths", "a group of
        10 youths", "volunteers"). Their beating someone is mob violence (ACLED), one
        man's an attack."""
        if a1 is not None:
            if a1.kind not in (None, "unknown armed group", "civilians"):
                return False
            span = self.doc.char_span(a1.start, a1.end, alignment_mode="expand")
            if span is None:
                return False
            head = span.root
        elif cand is not None and not cand.nominal and cand.spec.get("subject_role") != "actor2":
            head, passive = self._subject(cand.token, cand.unit)
            if head is None or passive:
                return False
        else:
            return False
        if self._lemma(head) in self.lex.crowd_nouns:  # "a group of around 20 people"
            of = next((c for c in head.children if c.dep_ == "prep" and c.lower_ == "of"), None)
            inner = next((c for c in of.children if c.dep_ == "pobj"), None) if of else None
            head = inner if inner is not None else head
        if head.tag_ not in ("NNS", "NNPS") or self._lemma(head) not in self.lex.people_nouns:
            return False
        if any(t.lower_ in self.lex.armed_modifiers for t in head.subtree):
            return False  # "gunmen", "armed men"
        for child in head.children:
            if child.dep_ == "nummod":
                count = _number(child, self.lex)
                return count is None or count >= 3
        return True

    def _one_person(self, a1: ActorMention | None, cand: _Candidate) -> bool:
        """Whether the actor (or, with none, the subject of ``cand``) is one person named by
        a singular noun ("a man", "an individual on a bicycle"), none coordinated with it."""
        if a1 is not None and a1.start is not None and a1.end is not None:
            span = self.doc.char_span(a1.start, a1.end, alignment_mode="expand")
            head = span.root if span is not None else None
        elif a1 is None and not cand.nominal:
            head, passive = self._subject(cand.token, cand.unit)
            head = None if passive else head
        else:
            head = None
        if head is None or head.tag_ != "NN" or head.dep_ == "compound" or cand.nominal:
            return False  # "a clash between two farmer groups": the groups
        if any(c.dep_ == "conj" for c in head.children):
            return False
        return self._lemma(head) in self.lex.people_nouns or head.lower_ in self.lex.individuals

    def _crowd(self, cand: _Candidate) -> str | None:
        """ "civilians" when an event's unnamed actor is a crowd or a group of people ("two
        groups clashed", "a clash between two groups of the community"), else None."""
        tok = cand.token
        if cand.nominal:
            between = self._between(tok) or self._between(tok.head)  # "took place between"
            subj = between[0] if between is not None else None
        else:
            subj, passive = self._subject(tok, cand.unit)
            subj = None if passive else subj
        if subj is None or self.by_token.get(subj.i) is not None:
            return None
        if self._lemma(subj) not in self.lex.crowd_nouns:
            return None
        for tok in subj.subtree:  # "two factions of the Mayi Mayi militia", "criminal groups"
            m = self.by_token.get(tok.i)
            if tok.lower_ in self.lex.armed_modifiers or (m is not None and m.kind in (
                    self.lex.armed_kinds)):  # fmt: skip
                return None
        return "civilians"

    def _restate(
        self, cand: _Candidate, modality: str, a1: ActorMention | None
    ) -> tuple[str, str, ActorMention | None] | None:
        """What a party says it will or must do, as the statement it is (``statements``
        in ``modality.json``): (type, mode, speaker) or None when the trigger is no such
        statement. The speaker is only looked for when the statement is a demand."""
        rules = self.lex.modality.get("statements")
        if not rules:
            return None
        tok, unit = cand.token, cand.unit
        verb = tok.head if cand.nominal and self._lemma(tok.head) in self.lex.light_verbs else tok
        auxes = {c.lower_ for c in verb.children if c.dep_ == "aux"}
        obligation = bool(auxes & set(rules["obligation"]))
        if not obligation and not auxes & set(rules["future"]):
            return None
        speech = self._speech_verb(verb, unit, rules["speech_verbs"])
        if speech is None:
            return None
        if obligation and modality != "negated":
            speaker, _ = self._subject(speech, unit)
            found = self.actor_at(speaker, unit) if speaker is not None else None
            return "REQUEST", "demand", found
        if modality == "negated":
            return "REJECT", "refuse", a1
        if any(t.dep_ == "mark" and t.lower_ in rules["conditions"] for t in unit):
            return "THREATEN", "ultimatum", a1
        if cand.event_type in rules["cooperative"]:
            return "AGREE", "intent", a1
        conflict = rules["conflictual"].get(cand.event_type)
        return ("THREATEN", conflict, a1) if conflict else None

    def _speech_verb(self, verb: Any, unit: Any, lemmas: list[str]) -> Any:
        """The verb of saying that reports ``verb`` ("X said it will ...", "..., X said")."""
        for child in verb.children:
            if child.dep_ in ("parataxis", "ccomp", "advcl") and self._lemma(child) in lemmas:
                return child
        node, steps = verb, 0
        while node.head.i != node.i and steps < 4 and self._in(node.head, unit):
            if node.dep_ not in ("ccomp", "xcomp", "conj", "advcl", "parataxis"):
                return None
            node, steps = node.head, steps + 1
            if self._lemma(node) in lemmas:
                return node
        return None

    def _trigger_span(self, cand: _Candidate) -> tuple[int, int]:
        """Offsets of the trigger, a hyphenated noun ("shoot-out") taken whole."""
        tok = cand.token
        start, end = tok.idx, tok.idx + len(tok.text)
        if cand.nominal and tok.i >= 2 and "-" in (self._noun_key(tok) or ""):
            if "-" not in tok.text:
                start = self.doc[tok.i - 2].idx
        return start, end

    def _trailing_fatalities(
        self, pairs: list[tuple[_Candidate, Event]], counted: set[int]
    ) -> None:
        """Deaths told in a sentence of their own ("The man died.", "1 fatality.") go to the
        last violent event before it in the same paragraph (the largest count wins)."""
        death = self.lex.fatalities["death_lemmas"]
        for idx, unit in enumerate(self.units):
            if idx in counted or not any(
                self._lemma_at(i) in death for i in range(unit.start, unit.end)
            ):
                continue
            before = [
                e for c, e in pairs
                if c.unit_index < idx and e.event_type in _VIOLENT
                and self.layout.paragraph[c.unit_index] == self.layout.paragraph[idx]
            ]  # fmt: skip
            if not before:
                continue
            count = fatalities_in(unit, self.lex)
            if count is not None and (before[-1].fatalities or 0) < count:
                before[-1].fatalities = count


def _shared_object(verb: Any) -> Any:
    """The object a verb shares with the next verb it is coordinated with ("shot and killed
    a policewoman"): the conjunct's object, when the verb has none and the conjunct no
    subject of its own."""
    if any(c.dep_ in ("dobj", "obj") for c in verb.children):
        return None
    for conj in verb.children:
        if conj.dep_ == "conj" and conj.pos_ == "VERB" and conj.i > verb.i:
            if any(c.dep_ in ("nsubj", "nsubjpass") for c in conj.children):
                return None
            return next((c for c in conj.children if c.dep_ in ("dobj", "obj")), None)
    return None


def _generic_entry(aliases: AliasTable, name: str) -> ActorEntry | None:
    """The generic row of the alias table named ``name`` ("Unidentified armed group")."""
    return next((e for e in aliases.entries if e.name == name and e.generic), None)


def _described(cand: _Candidate) -> bool:
    """Whether a verb trigger only describes a noun ("protest against the trial of youths who
    clashed with another group"): background, not the event of its sentence."""
    return not cand.nominal and cand.token.dep_ == "relcl"


def _anaphoric(cand: _Candidate) -> bool:
    """A nominal trigger with a definite determiner ("the meeting") refers back."""
    return cand.nominal and any(
        c.dep_ == "det" and c.lower_ in _ANAPHORIC for c in cand.token.children
    )


def _key(event: Event) -> tuple[Any, ...]:
    return (event.event_type, event.actor1, event.actor2)


#: ACLED's convention: demonstrators who turn violent make a riot whatever the police do;
#: force and intervention describe what is done to a peaceful crowd.
_PROTEST_STRENGTH = ("riot", "mob", "excessive-force", "intervention")


def _merge_protests(pairs: list[tuple[_Candidate, Event]], drop: set[int], layout: _Layout) -> None:
    """One protest per sentence, and a crowd's protest absorbs the force used against it
    in its paragraph: "police fired tear gas at students marching" is the students' march,
    broken up. The event whose actor is the crowd is kept, with the strongest mode."""
    _absorb_force(pairs, drop, layout)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, (c, e) in enumerate(pairs):
        if e.event_type == "PROTEST" and i not in drop:
            groups.setdefault(("unit", c.unit_index), []).append(i)
            groups.setdefault(("paragraph", layout.paragraph[c.unit_index]), []).append(i)
    for (scope, _), members in groups.items():
        members = [i for i in members if i not in drop]
        if len(members) < 2:
            continue
        crowd = [i for i in members if pairs[i][1].actor1_kind in ("protesters", "rioters")]
        if scope == "paragraph":
            if not crowd:
                continue
            # only the state's handling of the crowd, and what the crowd does next ("They
            # clashed with police"), go; other protests stay
            members = crowd[:1] + [
                i for i in members
                if pairs[i][1].actor1_kind in ("police", "state military")
                or (
                    i in crowd[1:]
                    and (_pronoun_subject(pairs[i][0].token) or _definite_crowd(pairs[i][0].token))
                )
            ]  # fmt: skip
            if len(members) < 2:
                continue
        keep = crowd[0] if crowd else members[0]
        modes = [pairs[i][1].mode for i in members]
        strongest = next((m for m in _PROTEST_STRENGTH if m in modes), pairs[keep][1].mode)
        kept = pairs[keep][1]
        if strongest is not None and strongest != kept.mode:
            _set_mode(kept, strongest)
        drop.update(i for i in members if i != keep)


#: The lexicon entry of a verb whose subject is protesters (``protester_subjects``).
_PROTESTERS_ACT: dict[str, Any] = {"type": "PROTEST", "mode": "demo"}
_STATE_FORCE = frozenset({"police", "state military"})
#: Modes of an assault by state forces on a crowd that are lethal force (ACLED: excessive
#: force against protesters); beating or other physical force only breaks the protest up.
_LETHAL_FORCE = frozenset({"firearms", "clash", "heavy-weapons", "assassinate", "explosives"})


_PROTESTER_WORDS = ("protest", "demonstrat", "marcher", "rioter", "striker")


def _arrested_crowds(
    pairs: list[tuple[_Candidate, Event]], drop: set[int], layout: _Layout
) -> None:
    """Arrests of protesters ("Several protesters were detained") are the protest, broken
    up (ACLED: protest with intervention): the paragraph's protest takes the intervention,
    or, when the text reports none, the arrest becomes it, with the crowd as its actor."""
    for i, (ci, ei) in enumerate(pairs):
        if (
            i in drop
            or ei.event_type != "COERCE"
            or ei.mode != "arrest"
            or ei.actor2_kind != "protesters"
            or not any(w in (ei.actor2_text or "").casefold() for w in _PROTESTER_WORDS)
            or ei.modality != "reported"
        ):
            continue  # "arrested 700 migrant workers": people, not a crowd at a protest
        protests = [j for j, (_, e) in enumerate(pairs) if e.event_type == "PROTEST"]
        para = layout.paragraph[ci.unit_index]
        same = [j for j in protests if layout.paragraph[pairs[j][0].unit_index] == para]
        if same:  # a riot stays a riot
            protest = pairs[same[0]][1]
            if protest.mode in ("demo", "obstruct", "strike"):
                _set_mode(protest, "intervention")
            drop.add(i)
            continue
        for suffix in ("", "_text", "_country", "_kind", "_start", "_end"):
            one, two = f"actor1{suffix}", f"actor2{suffix}"
            first, second = getattr(ei, one), getattr(ei, two)
            setattr(ei, one, second)  # the crowd protests; the police act on it
            setattr(ei, two, first)
        ei.event_type = "PROTEST"
        _set_mode(ei, "intervention")


def _absorb_force(pairs: list[tuple[_Candidate, Event]], drop: set[int], layout: _Layout) -> None:
    """State forces attacking the crowd of a protest in its paragraph ("National Guard
    officers started to shoot at the protesters") is that protest met with force: lethal
    force (shooting) is excessive force, other force an intervention. The assault goes."""
    protests = [
        i for i, (_, e) in enumerate(pairs)
        if e.event_type == "PROTEST" and i not in drop and e.mode in ("demo", "obstruct",
                                                                      "strike", "intervention")
    ]  # fmt: skip
    _arrested_crowds(pairs, drop, layout)
    if not protests:
        return
    for i, (ci, ei) in enumerate(pairs):
        if (
            i in drop
            or ei.event_type != "ASSAULT"
            or ei.actor1_kind not in _STATE_FORCE
            or ei.actor2_kind not in ("protesters",)
            or ei.modality != "reported"
        ):
            continue
        para = layout.paragraph[ci.unit_index]
        same = [j for j in protests if layout.paragraph[pairs[j][0].unit_index] == para]
        if not same:
            continue
        protest = pairs[same[0]][1]
        mode = "excessive-force" if ei.mode in _LETHAL_FORCE or ei.fatalities else "intervention"
        if protest.mode != "excessive-force":
            _set_mode(protest, mode)
        if protest.fatalities is None:
            protest.fatalities = ei.fatalities
        drop.add(i)


_CASUALTY = frozenset({"kill", "injure", "wound", "die", "hurt"})


def _casualty(cand: _Candidate) -> bool:
    """A verb that only reports casualties ("were killed", "died"), with no agent."""
    tok = cand.token
    return (
        not cand.nominal
        and tok.lemma_.casefold() in _CASUALTY
        and not any(c.dep_ in ("nsubj", "agent") for c in tok.children)
    )


def _pronoun_subject(tok: Any) -> bool:
    """Whether a verb's subject is a personal pronoun ("They clashed with police")."""
    return any(c.dep_ == "nsubj" and c.lower_ in _PRONOUNS for c in tok.children)


_CROWD_NOUNS = frozenset({"demonstrator", "protester", "protestor", "crowd", "marcher", "rioter"})


def _definite_crowd(tok: Any) -> bool:
    """Whether a verb's subject is the crowd named before ("The demonstrators demanded")."""
    return any(
        c.dep_ == "nsubj"
        and c.lemma_.casefold() in _CROWD_NOUNS
        and any(d.dep_ == "det" and d.lower_ in ("the", "these", "those") for d in c.children)
        for c in tok.children
    )


def _own(tok: Any) -> bool:
    """Whether a noun phrase is the subject's own ("withdrew its troops"): not a target."""
    return any(c.dep_ == "poss" and c.lower_ in _OWN for c in tok.children)


def _copy_actor(source: Event, target: Event, role: int) -> None:
    for suffix in ("", "_text", "_country", "_kind", "_start", "_end"):
        name = f"actor{role}{suffix}"
        setattr(target, name, getattr(source, name))


def _shares_actor(a: Event, b: Event) -> bool:
    if a.actor1 is None and a.actor2 is None:
        return True
    return bool({a.actor1, a.actor2} - {None} & {b.actor1, b.actor2})


def _set_mode(event: Event, mode: str) -> None:
    event.mode = mode
    event.acled_event_type, event.acled_sub_event_type = ontology.to_acled(event.event_type, mode)
    event.cameo_root = ontology.to_cameo(event.event_type, mode)


def _names_more(headline: Event, body: Event) -> bool:
    """Whether a headline names a party its body restatement leaves out ("... if Turkey
    decided to attack Ain Issa and Syrian Kurdistan" over "Turkey may soon launch a
    large-scale offensive"): then the headline is kept, with the place it names."""
    return (headline.actor1 is not None and body.actor1 is None) or (
        headline.actor2 is not None and body.actor2 is None
    )


def _deduplicate(
    pairs: list[tuple[_Candidate, Event]], layout: _Layout, armed_kinds: frozenset[str]
) -> list[Event]:
    """Drop repeats: a headline or heading paragraph restating a body event; an actor-less
    mention after an event of the same type in its paragraph ("the convoy ... entered"); a
    definite nominal mention of an earlier event of the same type sharing an actor
    ("the meeting between X and Y")."""
    drop: set[int] = set()
    heading = layout.heading
    for i, (ci, ei) in enumerate(pairs):
        if ci.unit_index not in heading:
            continue
        for j, (cj, ej) in enumerate(pairs):
            if i == j or j in drop or cj.unit_index == ci.unit_index:
                continue
            # a headline may name a party the body leaves out, not a different one
            loose = (
                layout.headline[ci.unit_index]
                and ei.event_type == ej.event_type
                and (ei.actor1 is None or ej.actor1 in (None, ei.actor1))
                and (ei.actor2 is None or ej.actor2 in (None, ei.actor2))
            )
            if _key(ei) == _key(ej) or loose:
                # keep the body sentence, else the later paragraph (the lead after its title)
                if cj.unit_index not in heading or cj.unit_index > ci.unit_index:
                    if cj.unit_index not in heading and _names_more(ei, ej):
                        # the headline is the fuller report: its parties and its place
                        drop.add(j)
                        ei.fatalities = ej.fatalities if ei.fatalities is None else ei.fatalities
                    else:
                        drop.add(i)
                        ej.fatalities = ei.fatalities if ej.fatalities is None else ej.fatalities
                    break
    for i, (ci, ei) in enumerate(pairs):
        if i in drop or ei.actor1 is not None or ei.event_type != "ASSAULT":
            continue
        for j, (cj, ej) in enumerate(pairs):
            # "shells fired by LNA forces killed two civilians": one attack
            if (
                j != i
                and j not in drop
                and cj.unit_index == ci.unit_index
                and (ej.event_type == "ASSAULT" or ej.mode in ("riot", "mob"))
                and (ej.actor1 is not None or j < i)
                and ej.modality == ei.modality
            ):
                drop.add(i)
                if ej.actor2 is None and ei.actor2 is not None:
                    _copy_actor(ei, ej, 2)
                    if ej.mode == "firearms" and ej.actor2_kind in armed_kinds:
                        _set_mode(ej, "clash")  # the attack's victims were armed
                elif ej.actor2 is None and ej.mode == "clash" and ei.mode == "firearms":
                    _set_mode(ej, "firearms")  # "a suspect was killed during a police raid"
                ej.fatalities = ej.fatalities if ej.fatalities is not None else ei.fatalities
                break
    _merge_protests(pairs, drop, layout)
    for i, (ci, ei) in enumerate(pairs):
        anaphoric = _anaphoric(ci)
        if i in drop or (ei.actor1 is not None and not anaphoric):
            continue
        for j in range(i - 1, -1, -1):
            cj, ej = pairs[j]
            if layout.paragraph[ci.unit_index] != layout.paragraph[cj.unit_index] and not anaphoric:
                break
            if j in drop or cj.unit_index == ci.unit_index:
                continue
            if ej.event_type != ei.event_type and not (
                ei.event_type == "ASSAULT" and ej.event_type in _VIOLENT and not anaphoric
            ):
                continue
            # "... clashed. One civilian was injured.": casualties of the event before
            casualty = ei.event_type == "ASSAULT" and _casualty(ci)
            if (ej.actor1 is not None or casualty) and (not anaphoric or _shares_actor(ei, ej)):
                drop.add(i)
                if ej.fatalities is None:
                    ej.fatalities = ei.fatalities
                break
    return [e for i, (_, e) in enumerate(pairs) if i not in drop]


_NUM = re.compile(r"^\d[\d,]*$")


def _number(tok: Any, lex: Lexicon) -> int | None:
    words: dict[str, int] = lex.fatalities["words"]
    vague: dict[str, int] = lex.fatalities["vague"]
    low = tok.lower_
    if _NUM.match(low):
        return int(low.replace(",", ""))
    if low in words and low not in ("a", "an"):
        return words[low]
    if low in vague:
        return vague[low]
    if "-" in low:
        parts = [words.get(p) for p in low.split("-")]
        if all(p is not None for p in parts):
            return sum(p for p in parts if p is not None)
    return None


def _count(victim: Any, lex: Lexicon) -> int | None:
    """Number of people a victim noun phrase stands for, or None when it says none."""
    value = _number(victim, lex)
    if value is None:
        for child in victim.children:
            if child.dep_ in ("nummod", "quantmod", "amod", "det") or (
                child.dep_ == "compound" and child.like_num
            ):
                n = _number(child, lex)
                if n is not None:
                    value = n
                    break
        if value is None:
            for child in victim.children:  # "dozens of people"
                if (
                    child.dep_ == "prep"
                    and child.lower_ == "of"
                    and victim.lower_ in lex.fatalities["vague"]
                ):
                    value = lex.fatalities["vague"][victim.lower_]
        if value is None and victim.pos_ in ("NOUN", "PROPN"):
            det = next((c for c in victim.children if c.dep_ == "det"), None)
            if victim.tag_ in ("NNS", "NNPS"):
                value = int(lex.fatalities["plural_default"])
            elif victim.pos_ == "NOUN" or (det is not None and det.lower_ in ("a", "an")):
                value = 1
            else:
                value = 1 if victim.ent_type_ == "PERSON" else None
    if value is None:
        return None
    for child in victim.children:
        if child.dep_ == "conj":
            extra = _count(child, lex)
            if extra is not None:
                value += extra
    return value


def fatalities_in(unit: Any, lexicon: Lexicon | None = None) -> int | None:
    """People reported killed in a sentence, or None when it reports no deaths.

    "killing five", "more than 20 fighters were killed" (20), "left 10 people dead",
    "dozens were killed" (12, ACLED's convention; see ``data/fatalities.json``).

    Args:
        unit: A spaCy span (one sentence).
        lexicon: The trigger lexicon (the packaged one by default).
    """
    lex = lexicon or _lexicon()
    death = set(lex.fatalities["death_lemmas"])
    best: int | None = None
    for tok in unit:
        lemma = tok.lemma_.casefold()
        if lemma not in death and tok.lower_ not in death:
            continue
        victims: list[Any] = []
        if lemma in ("die", "perish"):
            victims = [c for c in tok.children if c.dep_ == "nsubj"]
        elif tok.pos_ == "VERB":
            victims = [c for c in tok.children if c.dep_ in ("dobj", "nsubjpass")]
            if tok.dep_ == "acl" and tok.head.pos_ in ("NOUN", "PROPN", "NUM"):
                victims.append(tok.head)  # "five people killed in ..."
        elif lemma == "dead" or tok.lower_ == "dead":
            head = tok.head
            victims = [
                c
                for c in head.children
                if c.dep_ in ("dobj", "nsubjpass", "nsubj") and c.i != tok.i
            ]
            victims += [c for c in tok.children if c.dep_ == "nummod"]
            if tok.pos_ in ("NOUN", "PROPN") and not victims:
                victims = [tok]
        elif lemma == "toll":
            nums = [t for t in tok.head.subtree if t.like_num and t.i > tok.i]
            victims = nums[:1]
        elif lemma == "death" and tok.dep_ == "pobj" and tok.head.lower_ == "to":
            verb = tok.head.head  # "stabbed to death", "beaten to death"
            victims = [c for c in verb.children if c.dep_ in ("dobj", "nsubjpass")]
        else:  # death, fatality, body, corpse: their own number
            victims = [tok]
        for victim in victims:
            n = _count(victim, lex)
            if victim.i == tok.i and n == 1 and not any(c.dep_ == "nummod" for c in tok.children):
                det = next((c for c in tok.children if c.dep_ == "det"), None)
                if det is None or det.lower_ not in ("a", "an", "one"):
                    n = None
            if n is not None and (best is None or n > best):
                best = n
    return best


def code_events(
    document: Document,
    aliases: AliasTable,
    lexicon: Lexicon | None = None,
) -> list[Event]:
    """Events reported in a parsed document with actor mentions.

    Args:
        document: A document after ``parse`` and ``actors`` stages.
        aliases: The actor alias table (used to tell generic actors from named ones).
        lexicon: Trigger data; the packaged lexicon by default.

    Returns:
        Events in text order, with type, mode, modality, actors, fatalities, confidence,
        sentence and trigger offsets, and ACLED/CAMEO mappings. An actor1 with a name but
        no ``actor1_text`` is ACLED's stand-in for a perpetrator the text does not name.
    """
    coder = _Coder(document, lexicon or _lexicon(), aliases)
    return coder.events()


@stage(
    "events.lexicon.v1",
    needs=("doc", "actors"),
    adds=("events",),
    components=("parser", "lemmatizer", "ner"),
)
def events(document: Document, context: Context) -> None:
    """Fill ``document.events`` from the trigger lexicon and dependency patterns."""
    document.events = code_events(document, context.aliases)
