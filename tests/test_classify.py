"""The packaged event-type classifier: numpy-only embeddings, tokenizer, held-out quality,
and the hybrid event stage that uses it."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from eventwire.classify import StaticEmbedder, default_classifier, trigger_context, wordpiece
from eventwire.config import Options
from eventwire.evaluate.events import plover_split
from eventwire.model import Article
from eventwire.ontology import normalise_type
from eventwire.pipeline import Pipeline
from eventwire.training import load_training_sentences
from eventwire.training import plover_split as training_split

from .conftest import DATA

PLOVER = DATA / "plover-gsr" / "PLOVER_GSR_CAMEO.json"
MODELS = resources.files("eventwire").joinpath("data", "models")


@pytest.fixture(scope="module")
def clf():  # type: ignore[no-untyped-def]
    return default_classifier()


def test_wordpiece_splits_like_bert_uncased(clf) -> None:  # type: ignore[no-untyped-def]
    vocab = clf.embedder.vocab
    ids = wordpiece("Café shelling, Kafr-Lusin!", vocab)
    inverse = {i: w for w, i in vocab.items()}
    pieces = [inverse[i] for i in ids]
    assert pieces[:4] == ["cafe", "shell", "##ing", ","]  # accent stripped, word pieces
    assert "-" in pieces and pieces[-1] == "!"  # punctuation splits words
    assert "".join(p.removeprefix("##") for p in pieces[4 : pieces.index("-")]) == "kafr"
    assert wordpiece("", vocab) == [] and wordpiece("   \n", vocab) == []


def test_sentence_vectors_are_unit_length_and_meaningful(clf) -> None:  # type: ignore[no-untyped-def]
    vecs = clf.embedder.encode(
        ["Troops shelled the village.", "Artillery pounded the town.", "The bank cut rates.", ""]
    )
    assert vecs.shape == (4, clf.embedder.dims) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs[:3], axis=1), 1.0, atol=1e-5)
    assert not vecs[3].any()
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2])


def test_packaged_model_is_small_and_consistent(clf) -> None:  # type: ignore[no-untyped-def]
    static = MODELS.joinpath("static")
    size = sum(static.joinpath(n).stat().st_size for n in ("vocab.txt", "embeddings.npz"))  # type: ignore[attr-defined]
    assert size < 6_000_000
    assert clf.weights.shape == (3 * clf.embedder.dims, len(clf.labels)) and clf.blocks == 3
    assert "ASSAULT" in clf.labels and "PROTEST" in clf.labels and len(clf.labels) == 16
    assert StaticEmbedder.load(static).matrix.shape == clf.embedder.matrix.shape


def test_probabilities_sum_to_one(clf) -> None:  # type: ignore[no-untyped-def]
    probs = clf.probabilities(["Police arrested forty protesters.", "Leaders met in Geneva."])
    assert probs.shape == (2, len(clf.labels))
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_classifier_on_held_out_plover(clf) -> None:  # type: ignore[no-untyped-def]
    """Never trained on this part; the figure the trainer wrote is reproduced at run time."""
    records = [
        r for r in json.loads(PLOVER.read_text("utf-8"))
        if r.get("event") not in (None, "DOCUMENT") and r.get("text")
        and plover_split(r["text"]) == "test"
    ]  # fmt: skip
    texts = [r["text"] for r in records]
    pred = clf.predict(texts)
    gold = [normalise_type(r["event"]) for r in records]
    sentence_only = sum(p == g for (p, _), g in zip(pred, gold, strict=True))
    assert sentence_only / len(records) >= 0.2  # sentence alone; chance is 1/16
    assert clf.info["plover_heldout_accuracy"] >= 0.5


def test_training_never_sees_the_held_out_part() -> None:
    rows = load_training_sentences(PLOVER)
    test_texts = {
        r["text"] for r in json.loads(PLOVER.read_text("utf-8"))
        if r.get("text") and r.get("event") != "DOCUMENT" and plover_split(r["text"]) == "test"
    }  # fmt: skip
    assert training_split is plover_split
    assert not test_texts & {r["text"] for r in rows}
    assert sum(r["source"] == "written" for r in rows) >= 150
    assert len({r["type"] for r in rows if r["source"] == "written"}) == 16


def test_trigger_context_keeps_particles_and_objects(session_options: Options) -> None:
    nlp = Pipeline(session_options, stages=("parse.spacy.v1",)).context.nlp
    doc = nlp("The rebels called off the attack on the town yesterday.")
    called = next(t for t in doc if t.lower_ == "called")
    assert trigger_context(called) == "called off attack"  # "on the town" is the attack's
    shelled = nlp("Troops shelled positions near Idlib.")[1]
    assert trigger_context(shelled) == "shelled positions"


def test_hybrid_stage_codes_events(session_options: Options) -> None:
    pipeline = Pipeline(
        session_options,
        stages=("parse.spacy.v1", "actors.aliases.v1", "events.hybrid.v2", "dates.relative.v1"),
    )
    events = pipeline.run(
        Article("Syrian troops shelled the village of Kafr Nabl, killing three civilians.")
    )
    assert [e.event_type for e in events] == ["ASSAULT"]
    assert events[0].fatalities == 3
