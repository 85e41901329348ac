"""The actor alias table: who a surface form such as "Ankara" or "the SAA" refers to.

The table is data (``data/actors.tsv``): each row is one actor with its canonical name,
ISO 3166 alpha-3 country, kind and surface forms. States have a government row (name,
capital and metonyms such as "the Kremlin") and a military row (named armed forces); both
use the country name as canonical name, so "Ankara" and "TAF" both resolve to Turkey and
differ only in kind. Demonyms ("Turkish") resolve to the state through
:meth:`AliasTable.demonym`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import InputError
from .model import ActorMention

__all__ = [
    "KINDS",
    "ActorEntry",
    "AliasTable",
    "KindRules",
    "find_mentions",
    "is_acronym",
    "stands_for_holder",
    "normalise_alias",
]

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-", "‐": "-"})
_SPACE = re.compile(r"\s+")
_LEADING = re.compile(r"^(?:the|a|an)\s+")
_POSSESSIVE = re.compile(r"(?:'s|s')$|'$")
#: Acronyms are matched case-sensitively ("IS" the group, never "is" the verb).
_ACRONYM = re.compile(r"^[A-Z0-9.\-']{2,6}$|^[A-Z][a-z]?[A-Z][A-Za-z]*$")

KINDS = (
    "government", "state military", "police", "rebels", "militia", "unknown armed group",
    "civilians", "protesters", "rioters", "international org", "political party",
    "organization", "ethnic group", "person",
)  # fmt: skip


def normalise_alias(text: str) -> str:
    """Lookup key of a surface form: NFC, plain quotes, lower case, no "the", no possessive.

    Args:
        text: A surface form such as "the Kremlin's".

    Returns:
        The normalised key, e.g. "kremlin".
    """
    key = unicodedata.normalize("NFC", text).translate(_QUOTES).strip()
    key = _SPACE.sub(" ", key).casefold()
    key = _LEADING.sub("", key)
    return _POSSESSIVE.sub("", key).strip(" .,;:")


def is_acronym(alias: str) -> bool:
    """Whether ``alias`` must be matched with its exact capitalisation."""
    return bool(_ACRONYM.match(alias)) and any(c.isupper() for c in alias[1:])


@dataclass(frozen=True, slots=True)
class ActorEntry:
    """One actor of the alias table.

    Attributes:
        name: Canonical name (the country name for state actors).
        country: ISO 3166 alpha-3 code, or None for actors without one.
        kind: Actor kind, one of :data:`KINDS`.
        aliases: Surface forms as written in the data file.
        demonyms: Adjectives naming the state (government rows only).
    """

    name: str
    country: str | None
    kind: str
    aliases: tuple[str, ...] = ()
    demonyms: tuple[str, ...] = ()

    @property
    def generic(self) -> bool:
        """Whether this is a class of actor ("rebels", "civilians") rather than a named one:
        no country and only common-noun aliases."""
        return self.country is None and all(a[:1].islower() for a in self.aliases)


@dataclass
class AliasTable:
    """Surface forms to actors, with demonyms.

    Build it with :meth:`load`; look names up with :meth:`lookup` and :meth:`demonym`.
    """

    entries: list[ActorEntry]
    _by_key: dict[str, ActorEntry] = field(default_factory=dict, repr=False)
    _by_exact: dict[str, ActorEntry] = field(default_factory=dict, repr=False)
    _demonyms: dict[str, ActorEntry] = field(default_factory=dict, repr=False)
    _matchers: dict[int, Any] = field(default_factory=dict, repr=False)
    _patterns: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            for alias in entry.aliases:
                if is_acronym(alias):
                    self._by_exact.setdefault(alias, entry)
                else:
                    self._by_key.setdefault(normalise_alias(alias), entry)
                    # "the Federation" is matched in text only with its article: alone the
                    # word is too common ("football federation").
                    the = alias.startswith("the ")
                    self._patterns.add(alias.casefold() if the else normalise_alias(alias))
                    if entry.generic and alias.islower() and not alias.endswith("s"):
                        # "mobs", "militias": lookup() reads plurals, the matcher needs them
                        plural = alias[:-1] + "ies" if alias.endswith("y") else alias + "s"
                        self._patterns.add(plural)
            for demonym in entry.demonyms:
                key = demonym if is_acronym(demonym) else normalise_alias(demonym)
                self._demonyms.setdefault(key, entry)

    @classmethod
    def load(cls, path: str | Path | None = None) -> AliasTable:
        """Read the alias table from the packaged data file (or ``path``).

        Raises:
            InputError: The file is missing or a row is malformed.
        """
        if path is None:
            text = resources.files("eventwire").joinpath("data/actors.tsv").read_text("utf-8")
            where = "eventwire/data/actors.tsv"
        else:
            where = str(path)
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(where, f"cannot read the actor table: {exc}") from exc
        entries: list[ActorEntry] = []
        header_seen = False
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            if not header_seen:
                header_seen = True
                continue
            cols = line.split("\t")
            if len(cols) < 4 or not cols[0] or cols[2] not in KINDS:
                raise InputError(
                    f"{where}:{number}",
                    "expected name, country, kind (one of " + ", ".join(KINDS) + "), aliases"
                    " and optional demonyms separated by tabs",
                )
            aliases = tuple(a.strip() for a in cols[3].split("|") if a.strip())
            demonyms = (
                tuple(d.strip() for d in cols[4].split("|") if d.strip()) if len(cols) > 4 else ()
            )
            entries.append(ActorEntry(cols[0], cols[1] or None, cols[2], aliases, demonyms))
        return cls(entries)

    def lookup(self, text: str) -> ActorEntry | None:
        """The actor a surface form refers to, or None.

        Case, a leading "the", possessives and plural -s/-es are ignored; acronyms must keep
        their capitals ("IS" is the Islamic State, "is" is not).

        Args:
            text: A surface form such as "the Syrian army" or "Ankara's".
        """
        raw = _SPACE.sub(" ", unicodedata.normalize("NFC", text).translate(_QUOTES).strip())
        raw = _POSSESSIVE.sub("", re.sub(r"^(?i:the|a|an)\s+", "", raw)).strip(" .,;:")
        if raw in self._by_exact:
            return self._by_exact[raw]
        key = normalise_alias(text)
        for candidate in (
            key,
            key[:-1] if key.endswith("s") else None,
            key[:-2] if key.endswith("es") else None,
            key[:-3] + "y" if key.endswith("ies") else None,
            key + "s",
        ):
            if candidate and candidate in self._by_key:
                return self._by_key[candidate]
        return self.demonym(key)

    def demonym(self, word: str) -> ActorEntry | None:
        """The state (government row) a demonym such as "Turkish" names, or None."""
        exact = self._demonyms.get(word.strip())
        return exact if exact is not None else self._demonyms.get(normalise_alias(word))

    def state(self, country: str, kind: str = "government") -> ActorEntry | None:
        """The row of country ``country`` (alpha-3) with ``kind``, or None."""
        for entry in self.entries:
            if entry.country == country and entry.kind == kind and not entry.generic:
                if entry.demonyms or kind != "government":
                    return entry
        return None

    def matcher(self, nlp: Any) -> Any:
        """A spaCy ``PhraseMatcher`` over every alias and demonym, built once per vocab.

        Match ids are the normalised alias keys (or the exact acronym); demonym matches use
        the label ``DEMONYM``.
        """
        cached = self._matchers.get(id(nlp.vocab))
        if cached is not None:
            return cached
        from spacy.matcher import PhraseMatcher

        lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        keys = sorted(self._patterns)
        lower.add("ALIAS", list(nlp.tokenizer.pipe(keys)))
        exact.add("ALIAS", list(nlp.tokenizer.pipe(sorted(self._by_exact))))
        demonyms = sorted({d for e in self.entries for d in e.demonyms})
        exact.add("DEMONYM", list(nlp.tokenizer.pipe(demonyms)))
        variants = [k.replace("'", "’") for k in keys if "'" in k]
        if variants:
            lower.add("ALIAS", list(nlp.tokenizer.pipe(variants)))
        pair = (lower, exact)
        self._matchers[id(nlp.vocab)] = pair
        return pair


_MODIFIER_DEPS = frozenset({"amod", "compound", "nmod", "poss"})
_SKIP_PREFIXES = frozenset({"pro", "anti", "non"})


@dataclass(frozen=True, slots=True)
class KindRules:
    """How to guess the kind of an actor the table does not know (``data/actor_kinds.json``).

    Attributes:
        org_keywords: (word, kind) pairs tried in order against the words of an ORG name.
        titles: Title word (lower case) before a PERSON -> kind.
        norp_kind: Kind of an unknown group named by a nationality or religion noun.
    """

    org_keywords: tuple[tuple[str, str], ...]
    titles: dict[str, str]
    norp_kind: str

    @classmethod
    def load(cls) -> KindRules:
        """Read the packaged rules."""
        import json

        raw = json.loads(
            resources.files("eventwire").joinpath("data/actor_kinds.json").read_text("utf-8")
        )
        pairs = tuple((str(w), str(k)) for w, k in raw["org_keywords"])
        return cls(pairs, {str(k): str(v) for k, v in raw["titles"].items()}, raw["norp_kind"])

    def org_kind(self, name: str) -> str:
        """Guessed kind of an organisation from the words of its name."""
        words = {w.strip(".,'’").casefold() for w in name.split()}
        for word, kind in self.org_keywords:
            if word in words:
                return kind
        return "organization"


def _mention(
    span: Any,
    entry: ActorEntry,
    *,
    kind: str | None = None,
    country: str | None = None,
    name: str | None = None,
) -> ActorMention:
    return ActorMention(
        text=span.text, start=span.start_char, end=span.end_char,
        name=name or entry.name, country=country or entry.country,
        kind=kind or entry.kind, known=True,
    )  # fmt: skip


def _head_entry(table: AliasTable, token: Any) -> ActorEntry | None:
    """The generic actor a head noun such as "drones" or "officials" names."""
    if token.pos_ not in ("NOUN", "PROPN"):
        return None
    entry = table.lookup(token.text)
    if entry is None or not entry.generic:
        return None
    return entry


def _is_prefixed(token: Any) -> bool:
    doc = token.doc
    if token.text.casefold().split("-")[0] in _SKIP_PREFIXES and "-" in token.text:
        return True
    if token.i >= 2 and doc[token.i - 1].text == "-":
        return doc[token.i - 2].text.casefold() in _SKIP_PREFIXES
    return False


def find_mentions(doc: Any, table: AliasTable, rules: KindRules, nlp: Any) -> list[ActorMention]:
    """Every actor mention in a parsed document, in text order.

    Known aliases and demonyms come from the phrase matcher; a name used as a modifier of an
    actor noun ("SDF leaders", "Turkish drones") takes the whole phrase, its kind coming
    from the head noun when the name is a state. ORG entities, NORP group nouns and titled
    PERSON entities the table does not know are kept with ``known=False`` and a guessed kind.

    Args:
        doc: A spaCy ``Doc`` with parser and NER.
        table: The alias table.
        rules: Kind-guessing rules for unknown actors.
        nlp: The spaCy pipeline whose vocab built ``doc``.

    Returns:
        :class:`~eventwire.model.ActorMention` objects with article offsets.
    """
    from spacy.util import filter_spans

    lower, exact = table.matcher(nlp)
    found: list[Any] = []
    for matcher in (lower, exact):
        for match_id, s, e in matcher(doc):
            span = doc[s:e]
            span.label_ = nlp.vocab.strings[match_id]
            found.append(span)
    spans = filter_spans(found)
    mentions: list[ActorMention] = []
    taken: set[int] = set()
    inside_names = {
        i
        for ent in doc.ents
        if ent.label_ in ("ORG", "PERSON", "NORP", "FAC")
        for i in range(max(ent.start - 1, 0), ent.end)
    }
    for span in spans:
        root = span.root
        if span.label_ != "DEMONYM" and len(span) == 1 and span.start in inside_names:
            entry = table.lookup(span.text)
            if entry is not None and entry.generic and not _is_entity(span):
                continue  # "Brigade" in "the Free Idlib Brigade", "General" before a name
        if len(span) == 1 and root.pos_ not in ("NOUN", "PROPN") and span.label_ != "DEMONYM":
            continue
        if _is_prefixed(span[0]):
            continue
        if span.label_ == "DEMONYM":
            entry = table.demonym(span.text)
        else:
            entry = table.lookup(span.text)
        if entry is None:
            continue
        head = root.head
        is_modifier = root.dep_ in _MODIFIER_DEPS and head.i > root.i and head.i != root.i
        head_entry = _head_entry(table, head) if is_modifier else None
        if span.label_ == "DEMONYM":
            if is_modifier and head_entry is None and head.pos_ == "PROPN":
                continue  # "Syrian Kurdistan", "Russian Federation" handled as names
            if head_entry is not None:
                whole = doc[span.start : head.i + 1]
                if head_entry.kind in ("government", "state military", "police"):
                    mentions.append(_mention(whole, entry, kind=head_entry.kind))
                else:
                    mentions.append(_mention(whole, head_entry, country=entry.country))
                taken.update(range(whole.start, whole.end))
            else:
                mentions.append(_mention(span, entry))
                taken.update(range(span.start, span.end))
            continue
        if head_entry is not None and not entry.generic:
            whole = doc[span.start : head.i + 1]
            kind = entry.kind
            if entry.kind == "government" and head_entry.kind in ("state military", "police"):
                kind = head_entry.kind
            mentions.append(_mention(whole, entry, kind=kind))
            taken.update(range(whole.start, whole.end))
            continue
        mentions.append(_mention(span, entry))
        taken.update(range(span.start, span.end))
    mentions.extend(_unknown_mentions(doc, table, rules, taken))
    # overlaps (a generic head inside an extended name) go to the longer mention
    mentions.sort(key=lambda m: (m.start, -m.end))
    kept: list[ActorMention] = []
    for m in mentions:
        if kept and m.start < kept[-1].end:
            continue
        kept.append(m)
    held = _held_places(doc, table, kept)
    if held:
        kept = sorted([*kept, *held], key=lambda m: (m.start, -m.end))
    return kept


def stands_for_holder(mention: ActorMention, table: AliasTable) -> bool:
    """Whether ``mention`` is a place standing for the group that holds it (see
    :func:`find_mentions`): its words are no alias of the actor it names."""
    return table.lookup(mention.text) is None and normalise_alias(mention.text) != normalise_alias(
        mention.name
    )


#: Verbs whose agent holds a place ("Tal Abyad, held by the SDF", "Houthi-controlled
#: Hodeidah").
_HOLD_VERBS = frozenset({"hold", "control", "occupy", "run", "govern", "administer"})
#: Nouns of places a group can hold ("the rebel-held town of Douma").
_HELD_NOUNS = frozenset(
    {"town", "city", "village", "district", "area", "region", "province", "neighbourhood",
     "neighborhood", "suburb", "enclave", "territory", "pocket", "camp", "base", "airport",
     "port", "stronghold", "countryside", "part", "parts", "areas", "towns", "villages"}
)  # fmt: skip
#: Kinds of actor a place held by, or named for, them stands for as a target.
_GROUP_KINDS = frozenset({"rebels", "militia", "unknown armed group", "ethnic group"})


def _mention_at(tok: Any, mentions: list[ActorMention]) -> ActorMention | None:
    return next((m for m in mentions if m.start <= tok.idx < m.end), None)


def _place_span(noun: Any) -> Any | None:
    """The words naming a place headed by ``noun``: a name ("Ain Issa"), the "of" name of a
    place noun ("the town of Douma"), else the place noun itself ("the rebel-held town")."""
    doc = noun.doc
    if noun.pos_ == "PROPN":
        left = noun
        while left.i > 0 and doc[left.i - 1].dep_ == "compound" and doc[left.i - 1].pos_ == "PROPN":
            left = doc[left.i - 1]
        return doc[left.i : noun.i + 1]
    if noun.lower_ not in _HELD_NOUNS:
        return None
    for child in noun.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            name = next((g for g in child.children if g.dep_ == "pobj" and g.pos_ == "PROPN"), None)
            if name is not None:
                return _place_span(name)
    return doc[noun.i : noun.i + 1]


def _held_places(doc: Any, table: AliasTable, mentions: list[ActorMention]) -> list[ActorMention]:
    """Places the text says a group holds, as mentions of that group: what an attack on
    "Tal Abyad, held by the SDF", "Kobani, which the YPG controls" or "the rebel-held town of
    Douma" strikes is that group. A place named with such a place or with a region named for
    a people ("attack Ain Issa and Syrian Kurdistan") is struck with it. The mention keeps the
    place's own words; it is added only where no actor is named already (the model's guess
    of an organisation aside)."""
    out: list[ActorMention] = []
    added: list[tuple[int, int]] = []

    def add(span: Any, holder: ActorMention) -> None:
        named = [m for m in mentions if span.start_char < m.end and m.start < span.end_char]
        if any(m.known or (m.start, m.end) != (span.start_char, span.end_char) for m in named):
            return
        if any(span.start_char < e and s < span.end_char for s, e in added):
            return
        for m in named:  # "Zabadani, which is held by rebels": not the model's organisation
            mentions.remove(m)
        out.append(
            ActorMention(span.text, span.start_char, span.end_char, holder.name,
                         holder.country, holder.kind, known=holder.known)
        )  # fmt: skip
        added.append((span.start_char, span.end_char))

    def holder_of(tok: Any) -> ActorMention | None:
        found = _mention_at(tok, mentions)
        if found is None:
            entry = table.lookup(tok.text)
            if entry is None:
                return None
            found = _mention(doc[tok.i : tok.i + 1], entry)
        return found

    for verb in doc:
        if verb.lemma_.lower() not in _HOLD_VERBS or verb.tag_ != "VBN":
            continue
        holder = None
        if verb.dep_ in ("acl", "relcl"):  # "Tal Abyad, held by the SDF"
            agent = next((c for c in verb.children if c.dep_ == "agent"), None)
            pobj = next((g for g in agent.children if g.dep_ == "pobj"), None) if agent else None
            holder = holder_of(pobj) if pobj is not None else None
        elif verb.dep_ == "amod":  # "SDF-held Ain Issa", "the rebel-held town of Douma"
            left = next((c for c in verb.children if c.dep_ in ("npadvmod", "compound")), None)
            if left is not None and left.i + 2 == verb.i and doc[verb.i - 1].text == "-":
                holder = holder_of(left)
        if holder is None:
            continue
        span = _place_span(verb.head)
        if span is not None:
            add(span, holder)
    for m in [*mentions, *out]:
        if m.kind not in _GROUP_KINDS and not (m.country is None and m.known):
            continue
        span = doc.char_span(m.start, m.end, alignment_mode="expand")
        if span is None:
            continue
        root = span.root
        if root.dep_ == "conj" and root.head.pos_ == "PROPN" and root.head.i < root.i:
            first = _place_span(root.head)
            if first is not None and first.root.ent_type_ not in ("ORG", "NORP"):
                add(first, m)  # "attack Ain Issa and Syrian Kurdistan"
    return out


def _is_entity(span: Any) -> bool:
    """Whether ``span`` is exactly a named entity (then it is a name, not a generic noun)."""
    return any(e.start == span.start and e.end == span.end for e in span.doc.ents)


def _unknown_mentions(
    doc: Any, table: AliasTable, rules: KindRules, taken: set[int]
) -> list[ActorMention]:
    out: list[ActorMention] = []
    for ent in doc.ents:
        if any(i in taken for i in range(ent.start, ent.end)):
            continue
        label = ent.label_
        span = ent
        while span and span[0].lower_ in ("the", "a", "an"):
            span = span[1:]
        cut = next((t.i for t in span if t.text == "("), None)
        if cut is not None and not any(t.text == ")" for t in span):
            # "Khutsong Extension 3 (West Rand": the model ran into the divisions in brackets
            span = doc[span.start : cut]
            while span and span[-1].is_punct:
                span = span[:-1]
        if not span:
            continue
        name = _POSSESSIVE.sub("", span.text.translate(_QUOTES)).strip()
        if label == "ORG":
            kind = rules.org_kind(name)
            after = doc[span.end] if span.end < len(doc) else None
            if kind == "organization" and after is not None and span.root.head.i == after.i:
                # "the UDPS party", "the Raia Mutomboki militia": the noun after the name
                kind = rules.org_kind(after.text)
        elif label == "NORP":
            root = span.root
            head = root.head
            if root.dep_ in _MODIFIER_DEPS and head.i > root.i:
                head_entry = _head_entry(table, head)
                if head_entry is None:
                    continue  # an adjective of a thing: "Fulani culture"
                span = doc[span.start : head.i + 1]
                name = span.text
                kind = head_entry.kind
            elif root.pos_ in ("NOUN", "PROPN"):
                kind = rules.norp_kind
            else:
                continue
        elif label == "PERSON":
            titled = _title_kind(span, rules)
            if titled is None:
                continue
            kind = titled
        else:
            continue
        out.append(
            ActorMention(span.text, span.start_char, span.end_char, name, None, kind, known=False)
        )
        taken.update(range(span.start, span.end))
    out.extend(_named_groups(doc, rules, taken))
    return out


#: Kinds of organisation whose name alone says it is armed ("the Gulf Cartel").
_ARMED_ORG_KINDS = frozenset({"rebels", "militia", "police", "state military"})


def _named_groups(doc: Any, rules: KindRules, taken: set[int]) -> list[ActorMention]:
    """Capitalised names of armed groups the NER missed: a run of proper nouns ending in a
    word such as Cartel, Gang, Brigade or Front ("members of the Gulf Cartel")."""
    out: list[ActorMention] = []
    for tok in doc:
        if tok.pos_ != "PROPN" or tok.i in taken or not tok.text[:1].isupper():
            continue
        if rules.org_kind(tok.text) not in _ARMED_ORG_KINDS:
            continue
        if tok.i + 1 < len(doc) and doc[tok.i + 1].pos_ == "PROPN":
            continue  # not the last word of the name
        start = tok.i
        while start > 0 and doc[start - 1].pos_ == "PROPN" and doc[start - 1].i not in taken:
            start -= 1
        if start == tok.i:
            continue  # a bare "Cartel" or "Army" names no group
        span = doc[start : tok.i + 1]
        kind = rules.org_kind(span.text)
        out.append(
            ActorMention(span.text, span.start_char, span.end_char, span.text, None, kind,
                         known=False)
        )  # fmt: skip
        taken.update(range(span.start, span.end))
    return out


def _title_kind(span: Any, rules: KindRules) -> str | None:
    """Kind from a title in or just before a PERSON span, or None when it has none."""
    doc = span.doc
    candidates = [t.lower_ for t in span[:2]]
    if span.start > 0:
        candidates.append(doc[span.start - 1].lower_)
    for word in candidates:
        if word in rules.titles:
            return rules.titles[word]
    return None
